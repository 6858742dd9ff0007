"""Helpers of the protocol tests: interrupting a run as a kill after a checkpoint would, and
comparing two results bitwise."""

import numpy as np


class Stop(Exception):
    """Raised by :func:`stop_after`'s callback."""


def stop_after(n: int, steps):
    """A `progress` callback that stops a run (raises :class:`Stop`) once `n` steps in all have
    run; `steps`: the phase lengths."""
    offset = {p: sum(steps[: p - 1]) for p in range(1, len(steps) + 1)}

    def progress(info):
        if offset[info["phase"]] + info["step"] >= n:
            raise Stop
    return progress


def same_models(a: dict, b: dict) -> None:
    """The networks of every phase of two results are bitwise equal."""
    assert a.keys() == b.keys()
    for p in a:
        for f in ("W", "K"):
            assert np.array_equal(np.asarray(getattr(a[p], f)), np.asarray(getattr(b[p], f))), (p, f)


def same_history(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for p in a:
        assert a[p].keys() == b[p].keys(), p
        for k in a[p]:
            x, y = np.asarray(a[p][k]), np.asarray(b[p][k])
            # the cost is NaN where a protocol does not evaluate one
            nan = np.issubdtype(x.dtype, np.floating)
            assert np.array_equal(x, y, equal_nan=nan), (p, k)
