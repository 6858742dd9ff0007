"""Analysis of learned ring weights and of travelling waves (seed 001)."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite, check_number, check_positive_int, check_square


@jax.jit
def _align(m):
    n = m.shape[0]
    idx = (jnp.arange(n)[:, None] + jnp.arange(n)[None, :]) % n
    return jnp.take_along_axis(m, idx, axis=1)


def align_rows(w_full: Float[ArrayLike, "n n"]) -> Float[Array, "n n"]:
    r"""Roll row $i$ left by $i$: $A[i, j] = w[i, (i + j) \bmod N]$ (the seed's `symmetrize(w, N)`).

    Column $j$ of the result holds the weights from the neuron $j$ places ahead; a
    translation-invariant (circulant) matrix gives identical rows."""
    return _align(check_square("w_full", w_full))


def circulant_kernel(w_full: Float[ArrayLike, "n n"]) -> Float[Array, " n"]:
    r"""Least-squares circulant approximation: $c[\Delta] = \operatorname{mean}_n w[n, (n - \Delta)
    \bmod N]$, the kernel in the convention of the `circulant` variant ($M[n, k] = c[(n-k) \bmod N]$)."""
    a = align_rows(w_full)  # a[n, j] = w[n, n + j]  ->  Δ = -j
    return jnp.roll(jnp.mean(a, axis=0)[::-1], 1)


def translation_invariance(w_full: Float[ArrayLike, "n n"]) -> Float[Array, ""]:
    r"""Fraction of the matrix's energy in its circulant part, $\|P(w)\|_F^2 / \|w\|_F^2 \in [0, 1]$,
    where $P$ is the orthogonal projection onto circulant matrices; 1 exactly when $w$ is circulant."""
    a = align_rows(w_full)
    mean = jnp.mean(a, axis=0)
    return a.shape[0] * jnp.sum(mean**2) / jnp.maximum(jnp.sum(a**2), jnp.finfo(a.dtype).tiny)


class KernelStats(eqx.Module):
    """Result of :func:`kernel_stats` (host numbers; see there)."""

    amplitude: float
    peak_offset: int
    trough_offset: int
    odd_fraction: float
    zero_crossings: tuple


class WaveSpeed(eqx.Module):
    """Result of :func:`wave_speed` (host numbers): `speed` (neurons per second), `shift_per_frame`,
    `consistency`, `contrast` and whether the wave `persists`."""

    speed: float
    shift_per_frame: float
    consistency: float
    contrast: float
    persists: bool


def kernel_stats(kernel: Float[ArrayLike, " n"]) -> KernelStats:
    r"""Shape of a learned circulant kernel $w[\Delta]$, $\Delta = n - k \bmod N$.

    Returns a :class:`KernelStats`: `amplitude` (max |w|), `peak_offset` and `trough_offset` (signed offsets in
    $[-N/2, N/2)$ of the max and min), `odd_fraction` $= \|w_o\|^2/\|w\|^2$ with
    $w_o[\Delta] = (w[\Delta] - w[-\Delta])/2$ (0: symmetric, 1: antisymmetric), and
    `zero_crossings` (signed offsets, linearly interpolated, where the kernel read from $-N/2$ to
    $N/2$ changes sign)."""
    w = np.asarray(kernel, np.float64)
    if w.ndim != 1 or w.size < 2:
        raise ValueError(f"`kernel` must be a 1-D array of length >= 2, got shape {w.shape}")
    check_finite("kernel", w)
    n = w.size
    offsets = np.arange(-(n // 2), n - n // 2)
    centred = w[offsets % n]
    odd = 0.5 * (w - w[(-np.arange(n)) % n])
    sign = np.sign(centred)
    cross = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    return KernelStats(
        amplitude=float(np.max(np.abs(w))),
        peak_offset=int(offsets[np.argmax(centred)]),
        trough_offset=int(offsets[np.argmin(centred)]),
        odd_fraction=float(np.sum(odd**2) / max(np.sum(w**2), 1e-300)),
        zero_crossings=tuple(float(offsets[i] + centred[i] / (centred[i] - centred[i + 1]))
                             for i in cross),
    )


@functools.partial(jax.jit, static_argnums=1)
def _frame_shifts(frames, lag):
    x = frames - jnp.mean(frames, axis=1, keepdims=True)
    f = jnp.fft.fft(x, axis=1)
    # c[s] = Σ_n b[n] a[n - s]: peaks at the shift s that carries frame a onto frame b
    c = jnp.real(jnp.fft.ifft(f[lag:] * jnp.conj(f[:-lag]), axis=1))
    n = frames.shape[1]
    s = jnp.argmax(c, axis=1)
    cm, c0, cp = (jnp.take_along_axis(c, ((s + o) % n)[:, None], 1)[:, 0] for o in (-1, 0, 1))
    denom = cm - 2 * c0 + cp
    frac = jnp.where(jnp.abs(denom) > 0, 0.5 * (cm - cp) / jnp.where(denom == 0, 1, denom), 0.0)
    s = jnp.where(s >= n // 2, s - n, s)  # signed shift in [-N/2, N/2)
    return s + frac, jnp.std(frames, axis=1)


def wave_speed(record: Float[ArrayLike, "t n"], frame_dt: float, *, lag: int = 1,
               min_contrast: float = 0.05, min_consistency: float = 0.8,
               min_shift: float = 0.5) -> WaveSpeed:
    r"""Travelling-wave speed from successive activity frames by circular cross-correlation.

    For frames $a = r(t)$ and $b = r(t + \text{lag}\cdot\text{frame\_dt})$ (means removed), the shift
    $s$ maximising $\sum_n b_n a_{n-s}$ (parabolic sub-neuron refinement) is the distance the pattern
    moved. Speed = median shift / (lag · frame_dt) in neurons per second (sign = direction; the
    seed's drive $A\sin(2\pi(t + \theta_x)/T)$ moves at $-N/T$). The wave `persists` when the spatial
    contrast (std across neurons) of every frame exceeds `min_contrast`, at least
    `min_consistency` of the shifts lie within one neuron of the median, and the median shift is
    at least `min_shift` neurons per lag (a standing bump is not a travelling wave). Shifts alias beyond N/2
    neurons per lag: choose `lag`·`frame_dt` small enough."""
    rec = jnp.asarray(record)
    if rec.ndim != 2 or rec.shape[0] < 2:
        raise ValueError(f"`record` must be (n_frames >= 2, N), got shape {rec.shape}")
    lag = check_positive_int("lag", lag)
    if lag >= rec.shape[0]:
        raise ValueError(f"`lag` must be < the number of frames ({rec.shape[0]}), got {lag}")
    frame_dt = check_number("frame_dt", frame_dt, low=0.0, strict=True)
    for name, v in (("min_contrast", min_contrast), ("min_consistency", min_consistency),
                    ("min_shift", min_shift)):
        check_number(name, v, low=0.0)
    check_finite("record", rec)
    shifts, contrast = (np.asarray(a) for a in _frame_shifts(rec, lag))
    med = float(np.median(shifts))
    consistency = float(np.mean(np.abs(shifts - med) <= 1.0))
    return WaveSpeed(
        speed=med / (lag * frame_dt),
        shift_per_frame=med / lag,
        consistency=consistency,
        contrast=float(np.min(contrast)),
        persists=bool(np.min(contrast) > min_contrast and consistency >= min_consistency
                      and abs(med) >= min_shift),
    )
