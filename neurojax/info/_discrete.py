r"""Discrete entropy, KL divergence and mutual information (seed 003), in nats unless `base` is given.

All functions take probability/count arrays over the last axis (or the last two for joints) and
broadcast over leading axes, so a batch of distributions is one call.
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_choice, check_finite, check_positive_int, is_concrete


def _xlogy(x, y):
    """x·log y with 0·log 0 = 0 (the convention of entropy)."""
    return jnp.where(x > 0, x * jnp.log(jnp.where(x > 0, y, 1.0)), 0.0)


def _tol(x):
    return 1e-9 if jnp.asarray(x).dtype == jnp.float64 else 1e-5


def check_probabilities(name: str, p, axes) -> None:
    """ValueError unless concrete `p` is finite, non-negative and sums to 1 over `axes`."""
    if not is_concrete(p):
        return
    a = np.asarray(p, np.float64)
    if a.ndim < len(axes):
        raise ValueError(f"`{name}` must have at least {len(axes)} dimension(s), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"`{name}` must be finite and non-negative")
    s = a.sum(axis=axes)
    if np.any(np.abs(s - 1.0) > _tol(p) * max(1, a.size) ** 0.5):
        raise ValueError(f"`{name}` must sum to 1 over axis {axes}, got sums in "
                         f"[{s.min():.6g}, {s.max():.6g}]")


def _in_base(h, base):
    if base is None:
        return h
    if is_concrete(base) and not (float(base) > 0 and float(base) != 1 and np.isfinite(float(base))):
        raise ValueError(f"`base` must be finite, > 0 and != 1, got {base}")
    return h / jnp.log(base)


def nan_unless_probabilities(value, p, axes):
    """`value` where `p` is a distribution over `axes` (finite, non-negative, summing to 1), NaN
    elsewhere: the traced-call counterpart of :func:`check_probabilities` (under `jit` a bad
    distribution gives NaN, not a plausible number)."""
    ok = jnp.all(jnp.isfinite(p) & (p >= 0), axis=axes)
    ok = ok & (jnp.abs(jnp.sum(p, axis=axes) - 1) <= _tol(p) * max(1, p.size) ** 0.5)
    return jnp.where(ok, value, jnp.nan)


def entropy(p: Float[ArrayLike, "... k"], *, base: float | None = None) -> Float[Array, "..."]:
    r"""Shannon entropy $H(p) = -\sum_i p_i \log p_i$ over the last axis (equals `scipy.stats.entropy`).
    A `p` that is not a distribution raises ValueError, or under `jit` gives NaN."""
    p = jnp.asarray(p)
    check_probabilities("p", p, (-1,))
    h = nan_unless_probabilities(-jnp.sum(_xlogy(p, p), axis=-1), p, -1)
    return _in_base(h, base)


def entropy_from_counts(counts: Int[ArrayLike, "... k"], *, correction: str | None = None,
                        base: float | None = None) -> Float[Array, "..."]:
    r"""Plug-in entropy of the empirical distribution $\hat p = c / n$.

    `correction='miller_madow'` adds the Miller–Madow bias correction $(\hat m - 1) / (2n)$, $\hat m$ the
    number of non-empty bins (the plug-in estimate is biased low by about that much). Counts that
    are not finite, non-negative whole numbers raise ValueError, or under `jit` give NaN."""
    check_choice("correction", correction, {None, "miller_madow"})
    c = jnp.asarray(counts)
    if is_concrete(c) and (np.any(np.asarray(c) < 0) or not np.all(np.isfinite(np.asarray(c)))
                           or np.any(np.asarray(c) != np.round(np.asarray(c)))):
        raise ValueError("`counts` must be finite, non-negative whole numbers")
    if c.ndim == 0 or c.shape[-1] == 0:
        raise ValueError(f"`counts` must have at least one bin (last axis), got shape {c.shape}")
    c = c.astype(jnp.result_type(float))
    bad = jnp.any((c < 0) | ~jnp.isfinite(c) | (c != jnp.round(c)), axis=-1)  # traced counts
    n = jnp.sum(c, axis=-1)
    p = c / jnp.maximum(n, 1)[..., None]
    h = -jnp.sum(_xlogy(p, p), axis=-1)
    if correction == "miller_madow":
        h = h + (jnp.sum(c > 0, axis=-1) - 1) / (2 * jnp.maximum(n, 1))
    return _in_base(jnp.where(bad, jnp.nan, h), base)


def kl(p: Float[ArrayLike, "... k"], q: Float[ArrayLike, "... k"], *, base: float | None = None):
    r"""Kullback–Leibler divergence $D(p\|q) = \sum_i p_i \log(p_i / q_i)$; inf where $q_i = 0 < p_i$.
    Inputs that are not distributions raise ValueError, or under `jit` give NaN."""
    p, q = jnp.asarray(p), jnp.asarray(q)
    if p.shape[-1:] != q.shape[-1:]:
        raise ValueError(f"`p` and `q` must have the same last dimension, got {p.shape} and {q.shape}")
    check_probabilities("p", p, (-1,))
    check_probabilities("q", q, (-1,))
    terms = jnp.where(p > 0, jnp.where(q > 0, _xlogy(p, p) - _xlogy(p, q), jnp.inf), 0.0)
    d = nan_unless_probabilities(nan_unless_probabilities(jnp.sum(terms, axis=-1), p, -1), q, -1)
    return _in_base(d, base)


def mutual_information(joint: Float[ArrayLike, "... kx ky"], *, base: float | None = None):
    r"""$I(X;Y) = \sum_{xy} p(x,y) \log\frac{p(x,y)}{p(x)p(y)} = H(X) + H(Y) - H(X,Y)$ of a joint table."""
    j = jnp.asarray(joint)
    check_probabilities("joint", j, (-2, -1))
    px, py = jnp.sum(j, axis=-1), jnp.sum(j, axis=-2)
    hx = -jnp.sum(_xlogy(px, px), -1)
    hy = -jnp.sum(_xlogy(py, py), -1)
    hxy = -jnp.sum(_xlogy(j, j), axis=(-2, -1))
    return _in_base(nan_unless_probabilities(hx + hy - hxy, j, (-2, -1)), base)


def joint_histogram(x: Int[ArrayLike, " n"], y: Int[ArrayLike, " n"], n_x: int, n_y: int):
    """Counts table `C[a, b] = #{i: x_i = a, y_i = b}` of paired integer samples (a scatter-add)."""
    n_x, n_y = check_positive_int("n_x", n_x), check_positive_int("n_y", n_y)
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"`x` and `y` must be 1-D of the same length, got {x.shape} and {y.shape}")
    for name, v, size in (("x", x, n_x), ("y", y, n_y)):
        if not jnp.issubdtype(v.dtype, jnp.integer):
            raise ValueError(f"`{name}` must hold integer labels, got dtype {v.dtype}")
        a = np.asarray(v) if is_concrete(v) else None
        if a is not None and a.size and (int(a.min()) < 0 or int(a.max()) >= size):
            raise ValueError(f"`{name}` must lie in [0, {size}), got {int(a.min())}..{int(a.max())}")
    return jnp.zeros((n_x, n_y), jnp.int32).at[x, y].add(1)


def plugin_mi(x: Int[ArrayLike, " n"], y: Int[ArrayLike, " n"], *, n_x: int | None = None,
              n_y: int | None = None, correction: str | None = None,
              base: float | None = None) -> Float[Array, ""]:
    r"""Plug-in MI of paired integer samples, $\hat H(X) + \hat H(Y) - \hat H(X, Y)$ from the
    joint histogram (values in $[0, n_x)$, $[0, n_y)$; sizes default to max + 1). With
    `correction='miller_madow'` each entropy gets its bias correction. Labels outside the ranges
    raise ValueError, or under `jit` (where `n_x`, `n_y` must be given) give NaN."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"`x` and `y` must be 1-D of the same length, got {x.shape} and {y.shape}")
    if not jnp.issubdtype(x.dtype, jnp.integer) or not jnp.issubdtype(y.dtype, jnp.integer):
        raise TypeError("`x` and `y` must be integer arrays (discretise continuous data first)")
    if x.size == 0:
        raise ValueError("`x` and `y` must hold at least one sample, got 0")
    if is_concrete(x) and is_concrete(y) and x.size and (int(x.min()) < 0 or int(y.min()) < 0):
        raise ValueError("`x` and `y` must be non-negative integers")
    n_x = int(x.max()) + 1 if n_x is None else check_positive_int("n_x", n_x)
    n_y = int(y.max()) + 1 if n_y is None else check_positive_int("n_y", n_y)
    if is_concrete(x) and is_concrete(y) and x.size and (int(x.max()) >= n_x or int(y.max()) >= n_y):
        # the histogram would drop those samples silently
        raise ValueError(f"`x` and `y` must lie in [0, n_x = {n_x}) and [0, n_y = {n_y}), got "
                         f"maxima {int(x.max())} and {int(y.max())}")
    c = joint_histogram(x, y, n_x, n_y)
    h = lambda counts: entropy_from_counts(counts, correction=correction)  # noqa: E731
    # traced labels outside the ranges would be dropped by the histogram: NaN instead
    outside = jnp.any((x < 0) | (x >= n_x)) | jnp.any((y < 0) | (y >= n_y))
    value = h(c.sum(1)) + h(c.sum(0)) - h(c.ravel())
    return _in_base(jnp.where(outside, jnp.nan, value), base)


def quantize(x: Float[ArrayLike, " n"], n_bins: int) -> Int[Array, " n"]:
    """Equal-frequency binning (by rank) into `n_bins` integer labels, for plug-in estimates of
    continuous data. A NaN has no rank: ValueError, or under `jit` the label -1 for every sample
    (which `plugin_mi` turns into NaN)."""
    x = jnp.asarray(x)
    n_bins = check_positive_int("n_bins", n_bins)
    if x.ndim != 1:
        raise ValueError(f"`x` must be 1-D, got shape {x.shape}")
    check_finite("x", x)  # a NaN has no rank
    ranks = jnp.argsort(jnp.argsort(x))
    labels = (ranks * n_bins // x.shape[0]).astype(jnp.int32)
    return jnp.where(jnp.any(jnp.isnan(x)), -1, labels)


