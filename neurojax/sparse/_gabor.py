r"""Gabor fits of receptive fields (seed 002; Olshausen & Field 1996's comparison with V1).

A 2-D Gabor on pixel coordinates (x, y) of an h×w patch:

$$G(x, y) = A\,\exp\!\Big(-\frac{x'^2}{2\sigma_x^2} - \frac{y'^2}{2\sigma_y^2}\Big)
\cos(2\pi f x' + \varphi) + c,$$
$$x' = (x - x_0)\cos\theta + (y - y_0)\sin\theta,\quad
y' = -(x - x_0)\sin\theta + (y - y_0)\cos\theta.$$

`gabor_fit` fits the nine parameters by Levenberg–Marquardt (optimistix) from several starts — one
from the atom's energy centroid and the peak of its zero-padded Fourier spectrum, the rest random —
vmapped over starts and atoms in one jitted call, and keeps the start with the best
$R^2 = 1 - \sum (G - a)^2 / \sum (a - \bar a)^2$.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_finite, check_float_dtype, check_number, check_positive_int

PARAMS = ("x0", "y0", "theta", "sigma_x", "sigma_y", "freq", "phase", "amplitude", "offset")


class GaborFit(eqx.Module):
    """Fitted Gabor parameters per atom (each an array over atoms; `freq` in cycles per pixel,
    angles in radians, positions in pixels from the top-left), the fit's `r2` and `converged`."""

    x0: Array
    y0: Array
    theta: Array
    sigma_x: Array
    sigma_y: Array
    freq: Array
    phase: Array
    amplitude: Array
    offset: Array
    r2: Array
    converged: Array


def _unpack(p):
    # Widths are fitted on a log scale so they stay positive.
    x0, y0, th, lsx, lsy, f, ph, a, c = p
    return x0, y0, th, jnp.exp(lsx), jnp.exp(lsy), f, ph, a, c


def gabor(params: Float[ArrayLike, " 9"], shape: tuple[int, int]) -> Float[Array, "h w"]:
    """The Gabor image for a raw parameter vector `(x0, y0, θ, log σx, log σy, f, φ, A, c)`."""
    params = jnp.asarray(params)
    if params.shape != (9,):
        raise ValueError(f"`params` must have shape (9,) (x0, y0, θ, σx, σy, f, φ, a, c), got "
                         f"{params.shape}")
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"`shape` must be (h, w), got {shape!r}")
    shape = tuple(check_positive_int("shape", s) for s in shape)
    x0, y0, th, sx, sy, f, ph, a, c = _unpack(params)
    yy, xx = jnp.meshgrid(jnp.arange(shape[0], dtype=params.dtype),
                          jnp.arange(shape[1], dtype=params.dtype), indexing="ij")
    xr = (xx - x0) * jnp.cos(th) + (yy - y0) * jnp.sin(th)
    yr = -(xx - x0) * jnp.sin(th) + (yy - y0) * jnp.cos(th)
    env = jnp.exp(-0.5 * (xr / sx) ** 2 - 0.5 * (yr / sy) ** 2)
    return a * env * jnp.cos(2 * jnp.pi * f * xr + ph) + c


def _starts(atom, key, n_starts, pad):
    """Initial parameter vectors: the spectral-peak start first, then random ones around it."""
    h, w = atom.shape
    dt = atom.dtype
    e = atom**2 / jnp.maximum(jnp.sum(atom**2), jnp.finfo(dt).tiny)
    yy, xx = jnp.meshgrid(jnp.arange(h, dtype=dt), jnp.arange(w, dtype=dt), indexing="ij")
    cx, cy = jnp.sum(e * xx), jnp.sum(e * yy)
    spec = jnp.abs(jnp.fft.fft2(atom - atom.mean(), (pad, pad)))
    fy, fx = jnp.meshgrid(jnp.fft.fftfreq(pad), jnp.fft.fftfreq(pad), indexing="ij")
    i = jnp.argmax(spec.ravel())
    kx, ky = fx.ravel()[i], fy.ravel()[i]
    f0, th0 = jnp.hypot(kx, ky), jnp.arctan2(ky, kx)
    s0 = jnp.log(jnp.asarray(min(h, w) / 4, dt))
    amp = 2 * jnp.max(jnp.abs(atom))
    first = jnp.stack([cx, cy, th0, s0, s0, f0, 0.0, amp, 0.0]).astype(dt)
    k1, k2, k3, k4, k5, k6 = jax.random.split(key, 6)
    m = n_starts - 1
    u = lambda k, lo, hi: jax.random.uniform(k, (m,), dt, lo, hi)  # noqa: E731
    rest = jnp.stack([
        cx + u(k1, -1.0, 1.0), cy + u(k2, -1.0, 1.0), u(k3, 0.0, jnp.pi),
        s0 + u(k4, -0.7, 0.7), s0 + u(k5, -0.7, 0.7), u(k6, 0.02, 0.4),
        jnp.linspace(0, 2 * jnp.pi, m, endpoint=False, dtype=dt), jnp.full((m,), amp, dt),
        jnp.zeros((m,), dt)], axis=1)
    # The spectral start again with other phases: the phase is the parameter LM most often misses.
    phases = jnp.array([jnp.pi / 2, jnp.pi, 3 * jnp.pi / 2], dt)[: max(0, min(3, m))]
    alt = jnp.tile(first, (phases.shape[0], 1)).at[:, 6].set(phases)
    return jnp.concatenate([first[None], alt, rest])[:n_starts]


def _fit_one(atom, key, n_starts, max_steps, rtol, atol, pad):
    solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol)
    sst = jnp.sum((atom - atom.mean()) ** 2)

    def residual(p, _):
        return gabor(p, atom.shape) - atom

    def one(p0):
        sol = optx.least_squares(residual, solver, p0, max_steps=max_steps, throw=False)
        p = sol.value
        sse = jnp.sum(residual(p, None) ** 2)
        ok = sol.result == optx.RESULTS.successful
        return p, jnp.where(jnp.isfinite(sse), 1 - sse / sst, -jnp.inf), ok

    ps, r2, ok = jax.vmap(one)(_starts(atom, key, n_starts, pad))
    best = jnp.argmax(r2)
    return ps[best], r2[best], ok[best]


@eqx.filter_jit
def _fit(atoms, keys, n_starts, max_steps, rtol, atol, pad):
    return jax.vmap(lambda a, k: _fit_one(a, k, n_starts, max_steps, rtol, atol, pad))(atoms, keys)


def gabor_fit(atoms: Float[ArrayLike, "*n h w"], *, key: PRNGKeyArray, n_starts: int = 8,
              max_steps: int = 200, rtol: float = 1e-8, atol: float = 1e-8) -> GaborFit:
    r"""Fit a Gabor (module docstring) to each atom of `atoms` (n, h, w), or (h, w) for one.

    Least squares by `optimistix.LevenbergMarquardt` from `n_starts` starts per atom (vmapped over
    starts and atoms, one jit); returns a `GaborFit` whose fields are arrays over atoms. σ's are
    positive; θ is not wrapped (θ and θ + π with −f describe the same Gabor). An atom of all zeros
    gets R² = −inf. `converged` is the solver's flag for the kept start."""
    a = jnp.asarray(atoms)
    single = a.ndim == 2
    a = a[None] if single else a
    if a.ndim != 3:
        raise ValueError(f"`atoms` must be (h, w) or (n, h, w), got shape {jnp.shape(atoms)}")
    if min(a.shape[1:]) < 3:
        raise ValueError(f"`atoms` must be at least 3×3 pixels, got {a.shape[1:]}")
    check_float_dtype("atoms", a)
    if not jnp.issubdtype(a.dtype, jnp.floating):
        a = a.astype(jnp.result_type(float))
    check_finite("atoms", a)
    n_starts = check_positive_int("n_starts", n_starts)
    max_steps = check_positive_int("max_steps", max_steps)
    rtol, atol = check_number("rtol", rtol, low=0.0), check_number("atol", atol, low=0.0)
    pad = 4 * max(a.shape[1:])
    keys = jax.random.split(key, a.shape[0])
    p, r2, ok = _fit(a, keys, n_starts, max_steps, rtol, atol, pad)
    ok = ok & jnp.isfinite(r2)  # a constant atom has no variance to explain: R² NaN, not a fit
    x0, y0, th, sx, sy, f, ph, amp, c = _unpack(p.T)
    out = GaborFit(x0, y0, th, sx, sy, f, ph, amp, c, r2, ok)
    return jax.tree.map(lambda v: v[0], out) if single else out
