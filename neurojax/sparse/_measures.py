r"""Sparsity measures and sparsifying transforms of signals (seed 002, Neuromatch "Sparsity and
Sparse Coding"). Reductions run over the last axis and broadcast over leading ones."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite, check_number, check_positive_int


def relu(x, theta: float = 0.0):
    r"""Thresholded rectification $\max(x - \theta, 0)$ (the tutorial's `ReLU(x, theta)`)."""
    theta = check_number("theta", theta)
    return jnp.maximum(jnp.asarray(x) - theta, 0.0)


def kurtosis(x: Float[ArrayLike, "... n"]) -> Float[Array, "..."]:
    r"""Excess kurtosis $m_4 / m_2^2 - 3$ with central moments $m_k$ (biased; equals
    `scipy.stats.kurtosis(x, axis=-1)`). Heavier tails / more zeros → larger: a sparsity measure.
    Undefined for a constant vector ($m_2 = 0$): NaN there, as scipy's."""
    x = jnp.asarray(x)
    c = x - jnp.mean(x, axis=-1, keepdims=True)
    m2 = jnp.mean(c**2, axis=-1)
    return jnp.mean(c**4, axis=-1) / m2**2 - 3.0


def l0(x, tol: float = 0.0):
    r"""Number of entries with $|x_i| > $ `tol` (the $\ell_0$ pseudo-norm)."""
    tol = check_number("tol", tol, low=0.0)
    return jnp.sum(jnp.abs(jnp.asarray(x)) > tol, axis=-1)


def l1(x):
    r"""$\ell_1$ norm $\sum_i |x_i|$."""
    return jnp.sum(jnp.abs(jnp.asarray(x)), axis=-1)


def hoyer(x):
    r"""Hoyer sparsity $(\sqrt n - \|x\|_1/\|x\|_2)/(\sqrt n - 1) \in [0, 1]$: 0 for a constant
    vector, 1 for a single nonzero; undefined (NaN) for the zero vector."""
    x = jnp.asarray(x)
    n = x.shape[-1]
    ratio = l1(x) / jnp.linalg.norm(x, axis=-1)
    return (jnp.sqrt(n) - ratio) / (jnp.sqrt(n) - 1)


def _signal(x):
    x = jnp.asarray(x)
    if x.ndim < 1:
        raise ValueError(f"`x` must be at least 1-D (time last), got shape {x.shape}")
    check_finite("x", x)
    return x


def _lags(name, values, length):
    arr = np.asarray(values).ravel()
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 1):
        raise ValueError(f"`{name}` must be positive integers, got {values!r}")
    if arr.max() >= length:
        raise ValueError(f"`{name}` must be < the signal length {length}, got max {arr.max()}")
    return tuple(int(a) for a in arr)


@functools.partial(jax.jit, static_argnames=("taus", "absolute"))
def _temporal_diff(x, taus, absolute):
    t_max = max(taus)
    n = x.shape[-1]
    out = jnp.stack([x[..., t_max:] - x[..., t_max - tau: n - tau] for tau in taus], axis=-2)
    return jnp.abs(out) if absolute else out


def temporal_diff(x: Float[ArrayLike, "... t"], taus, *, absolute: bool = True):
    r"""$|x_t - x_{t-\tau}|$ for many lags at once: shape `(..., len(taus), T - max(taus))`, every
    lag evaluated on the same times $t \ge \max\tau$ (so rows are comparable). For one lag this is
    the tutorial's `np.abs(sig[tau:] - sig[:-tau])`."""
    x = _signal(x)
    return _temporal_diff(x, _lags("taus", taus, x.shape[-1]), bool(absolute))


@functools.partial(jax.jit, static_argnames=("windows", "pad"))
def _box_diff(x, windows, pad):
    n = x.shape[-1]
    csum = jnp.concatenate([jnp.zeros(x.shape[:-1] + (1,), x.dtype), jnp.cumsum(x, axis=-1)], -1)
    t = jnp.arange(n)

    def one(w):
        s = pad + w  # the +1 tap's delay
        lead = jnp.where(t - s >= 0, x[..., jnp.clip(t - s, 0, n - 1)], 0.0)
        hi = jnp.clip(t - s, 0, n)  # Σ x[t-s-w .. t-s-1] = S[t-s] - S[t-s-w], zeros before 0
        lo = jnp.clip(t - s - w, 0, n)
        box = csum[..., hi] - csum[..., lo]
        out = (w * lead - box) / jnp.sqrt(1.0 + w)
        return out.at[..., :w].set(out[..., w: w + 1])

    return jnp.stack([one(w) for w in windows], axis=-2)


def box_diff(x: Float[ArrayLike, "... t"], windows, *, pad: int = 4):
    r"""The tutorial's `diff_box`: the signal minus a causal box average, for many windows at once.

    For window $w$ and delay $s = \text{pad} + w$: $y_t = (w\,x_{t-s} - \sum_{m=1}^{w} x_{t-s-m})
    / \sqrt{1 + w}$ (zeros before the start; the first $w$ outputs set to $y_w$), i.e.
    `np.convolve(x, filter, 'full')[:T]` with the tutorial's normalised filter. Returns
    `(..., len(windows), T)`."""
    x = _signal(x)
    pad = check_positive_int("pad", pad, allow_zero=True)
    return _box_diff(x, _lags("windows", windows, x.shape[-1]), pad)


def spatial_diff(images: Float[ArrayLike, "... h w"], *, absolute: bool = True):
    r"""Horizontal and vertical neighbour differences of images, $x_{i,j+1} - x_{i,j}$ and
    $x_{i+1,j} - x_{i,j}$ (absolute by default): returns `(diff_x (..., h, w-1), diff_y (..., h-1, w))`."""
    im = jnp.asarray(images)
    if im.ndim < 2:
        raise ValueError(f"`images` must be at least 2-D (..., h, w), got shape {im.shape}")
    dx, dy = jnp.diff(im, axis=-1), jnp.diff(im, axis=-2)
    return (jnp.abs(dx), jnp.abs(dy)) if absolute else (dx, dy)
