"""The package's one plotting helper: headless matplotlib figures, heatmaps, curves, saving."""

from pathlib import Path

import numpy as np


def figure(ncols: int = 1, nrows: int = 1, *, size: float = 4.0):
    """A headless (Agg) figure with a grid of axes; returns `(fig, axes_flat)`."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, 0.85 * size * nrows), squeeze=False)
    return fig, list(axes.ravel())


def heatmap(ax, matrix, title: str, *, symmetric: bool = True, xlabel: str = "", ylabel: str = ""):
    """Show a matrix; a diverging map centred on 0 when `symmetric`."""
    m = np.asarray(matrix)
    kwargs = {}
    if symmetric:
        lim = float(np.max(np.abs(m))) or 1.0
        kwargs = dict(cmap="RdBu_r", vmin=-lim, vmax=lim)
    im = ax.imshow(m, aspect="auto", interpolation="nearest", **kwargs)
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return im


def curve(ax, x, ys: dict, title: str, *, xlabel: str = "", ylabel: str = "", vlines=(), logy=False):
    """Plot named curves `ys = {label: y}` against `x`, with optional dashed vertical markers."""
    for label, y in ys.items():
        ax.plot(np.asarray(x), np.asarray(y), label=label)
    for v in vlines:
        ax.axvline(v, color="gray", linestyle="--")
    if logy:
        log_axis(ax, "y")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(ys) > 1:
        ax.legend()


def log_axis(ax, which: str = "x"):
    """A log-scaled axis (`which` = "x" or "y") with readable ticks: majors at 1, 2, 5 × 10^k
    labelled as plain numbers, no minor labels (matplotlib labels minor ticks when the range is
    under a decade, and they overlap)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def save(fig, path) -> Path:
    """Save as PNG (tight layout) and close the figure; returns the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def atom_grid(ax, atoms, title: str, *, scores=None, score_label: str = "", cmap: str = "viridis"):
    """Tile images `atoms` (n, h, w) into one panel, each scaled to its own ±max; with `scores`
    (n,), each tile gets a frame coloured by its score (colour bar labelled `score_label`)."""
    import matplotlib.cm as cm
    import matplotlib.colors as mcolors
    from matplotlib.patches import Rectangle

    a = np.asarray(atoms, float)
    n, h, w = a.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    tile = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        lim = np.max(np.abs(a[i])) or 1.0
        tile[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = a[i] / lim
    ax.imshow(tile, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set(title=title, xticks=[], yticks=[])
    if scores is not None:
        s = np.asarray(scores, float)
        norm = mcolors.Normalize(vmin=float(np.nanmin(s)), vmax=float(np.nanmax(s)))
        mapper = cm.ScalarMappable(norm=norm, cmap=cmap)
        for i in range(n):
            r, c = divmod(i, cols)
            ax.add_patch(Rectangle((c * (w + 1) + 0.5, r * (h + 1) + 0.5), w, h, fill=False,
                                   edgecolor=mapper.to_rgba(s[i]), linewidth=2))
        ax.figure.colorbar(mapper, ax=ax, fraction=0.046, label=score_label)

