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
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(ys) > 1:
        ax.legend()


def save(fig, path) -> Path:
    """Save as PNG (tight layout) and close the figure; returns the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
