"""Progress bars of the experiment layer: the library reports progress through callbacks
(`progress(info: dict)` with at least `step` and `total`); this turns them into tqdm bars."""

import contextlib


@contextlib.contextmanager
def progress_bar(total: int, desc: str, enabled: bool = True):
    """A tqdm bar of `total` steps; yields the callback for a library function's `progress=`
    (None when not `enabled`). Numbers in `info` other than `step`/`total` go to the postfix."""
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, leave=False) as bar:
        def update(info):
            bar.update(info["step"] - bar.n)
            extra = {k: f"{v:.3g}" for k, v in info.items()
                     if k not in ("step", "total") and isinstance(v, (int, float))}
            if extra:
                bar.set_postfix(extra, refresh=False)

        yield update
