r"""The tinnitus measures as the paper's figure scripts compute them (docs/paper.md, "The protocol").

- :func:`damped_steps`: iterations of the damped map $g \leftarrow \alpha\,\sigma(W\tilde x + Kg) +
  (1-\alpha)\,g$ from $g = 0.5$ until $\max|\Delta g| < $ `tol` (the scripts' "convergence time");
- :func:`paper_slowing`: critical slowing down over $K \to sK$: the objective, the convergence time,
  the population-vector magnitude of the input-free fixed point and the output correlation, per $s$;
  the predicted critical scale is $s_c = 4/\rho(K)$;
- :func:`connectivity_profile`: the mean diagonal profile of $K$ over a range of outputs.

The package's own measures (:func:`critical_slowing`: Newton and Picard step counts;
:func:`audiogram` with a Gaussian tone) are kept next to these; both are reported.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_finite, check_number, check_positive_int, check_square, is_concrete
from .._numerics import sigmoid
from .._tolerance import default_tol
from ._equilibrium import check_model
from ._online import augmented, ensemble_objective
from ._stability import rho


def _damped(h, K, g0, alpha, tol, max_steps):
    """`(g, steps)` of the damped map from `g0` (stops when max |Δ| < tol or at `max_steps`)."""
    def cond(c):
        _, d, n = c
        return (d >= tol) & (n < max_steps)

    def body(c):
        g, _, n = c
        new = alpha * sigmoid(h + K @ g) + (1 - alpha) * g
        return new, jnp.max(jnp.abs(new - g)), n + 1

    g, _, n = jax.lax.while_loop(cond, body, (g0, jnp.asarray(jnp.inf, g0.dtype), 0))
    return g, n


def damped_steps(model, x, *, alpha: float = 0.2, tol: float | None = None,
                 max_steps: int = 10_000):
    """`(g, steps)`: the damped map's fixed point for input `x` and the iterations it took
    (`steps == max_steps`: it did not settle; a non-finite `g` for a non-finite traced input)."""
    check_model(model)
    x = jnp.asarray(x, model.W.dtype)
    check_finite("x", x)
    alpha = check_number("alpha", alpha, low=0.0, strict=True)
    if is_concrete(alpha) and alpha > 1:
        raise ValueError(f"`alpha` must lie in (0, 1], got {alpha}")
    max_steps = check_positive_int("max_steps", max_steps)
    h = model.W @ model.augment(x)
    tol = (default_tol(h.dtype, "fixed_point") if tol is None
           else check_number("tol", tol, low=0.0, strict=True))
    return _damped(h, model.K, jnp.full(h.shape, 0.5, h.dtype), alpha, tol, max_steps)


class SlowingCurves(eqx.Module):
    """:func:`paper_slowing` per scale `s`: `objective` (mean J over the samples), `steps` (mean
    damped-map iterations), `capped` (fraction of samples that hit `max_steps`), `population`
    (mean population-vector magnitude of the input-free fixed point over the random starts),
    `correlation` (mean squared off-diagonal output correlation over the samples); `s_c` = 4/ρ(K)."""

    scale: Float[Array, " s"]
    objective: Float[Array, " s"]
    steps: Float[Array, " s"]
    capped: Float[Array, " s"]
    population: Float[Array, " s"]
    correlation: Float[Array, " s"]
    s_c: Float[Array, ""]


def population_vector(g: Float[ArrayLike, "... n"]) -> Float[Array, "..."]:
    r"""$|\sum_i g_i e^{2\pi \mathrm{i}\, i/N}| / N$ (outputs as positions on a ring)."""
    n = g.shape[-1]
    phase = 2 * jnp.pi * jnp.arange(1, n + 1, dtype=g.dtype) / n
    return jnp.hypot(g @ jnp.cos(phase), g @ jnp.sin(phase)) / n


def mean_squared_correlation(g: Float[ArrayLike, "samples n"]) -> Float[Array, ""]:
    """Mean of the squared off-diagonal entries of the outputs' correlation matrix (outputs with
    no variance over the samples are left out)."""
    g = jnp.asarray(g)
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"`g` must be (samples, n) with at least 2 samples, got shape {g.shape}")
    check_finite("g", g)
    c = g - jnp.mean(g, axis=0)
    sd = jnp.sqrt(jnp.sum(c * c, axis=0))
    ok = sd > 0
    z = jnp.where(ok, c / jnp.where(ok, sd, 1), 0)
    r = z.T @ z
    pair = ok[:, None] & ok[None, :] & ~jnp.eye(g.shape[1], dtype=bool)
    value = jnp.sum(jnp.where(pair, r * r, 0)) / jnp.maximum(jnp.sum(pair), 1)
    return jnp.where(jnp.all(jnp.isfinite(g)), value, jnp.nan)  # traced: NaN in, NaN out


def paper_slowing(model, xs: Float[ArrayLike, "samples n_in"], scales, *, key: PRNGKeyArray,
                  n_starts: int = 50, alpha: float = 0.2, tol: float | None = None,
                  max_steps: int = 10_000) -> SlowingCurves:
    r"""Critical slowing down as the paper's scripts measure it, for $K \to sK$, $s$ in `scales`
    (theirs: 0 to 4 in steps of 0.01; `xs`: 50 samples; `n_starts` = 50). One scale at a time
    (`lax.map`), so only scales near criticality pay for long iterations."""
    s = jnp.asarray(scales, model.W.dtype)
    if s.ndim != 1 or s.size == 0 or not bool(jnp.all(jnp.isfinite(s))):
        raise ValueError(f"`scales` must be a non-empty finite 1-D array, got {scales}")
    xs = jnp.asarray(xs, model.W.dtype)
    if xs.ndim != 2 or xs.shape[1] != model.n_in:
        raise ValueError(f"`xs` must have shape (samples, {model.n_in}), got {xs.shape}")
    check_finite("xs", xs)
    n_starts = check_positive_int("n_starts", n_starts)
    max_steps = check_positive_int("max_steps", max_steps)
    if not 0 < alpha <= 1:
        raise ValueError(f"`alpha` must be in (0, 1], got {alpha}")
    tol = default_tol(s.dtype, "fixed_point") if tol is None else tol
    starts = 0.5 + 0.1 * jax.random.normal(key, (n_starts, model.n_out), s.dtype)
    out = _slowing_curves(model, xs, s, starts, alpha, tol, max_steps)
    return SlowingCurves(scale=s, **out, s_c=4 / rho(model.K))


@eqx.filter_jit
def _slowing_curves(model, xs, s, starts, alpha, tol, max_steps):
    h = jax.vmap(lambda x: model.W @ model.augment(x))(xs)
    xt = augmented(xs)
    zero = jnp.zeros(model.n_out, s.dtype)
    half = jnp.full(model.n_out, 0.5, s.dtype)

    def one(si):
        K = si * model.K
        g, n = jax.vmap(lambda hh: _damped(hh, K, half, alpha, tol, max_steps))(h)
        free, _ = jax.vmap(lambda g0: _damped(zero, K, g0, alpha, tol, max_steps))(starts)
        E = xs.shape[0]
        j = ensemble_objective(jnp.broadcast_to(model.W, (E,) + model.W.shape),
                               jnp.broadcast_to(K, (E,) + K.shape), xt, n_in=model.n_in).value
        return {"objective": jnp.mean(j), "steps": jnp.mean(n.astype(s.dtype)),
                "capped": jnp.mean((n >= max_steps).astype(s.dtype)),
                "population": jnp.mean(population_vector(free)),
                "correlation": mean_squared_correlation(g)}

    return jax.lax.map(one, s)


def connectivity_profile(K: Float[ArrayLike, "n n"], rows, *, max_offset: int) -> Float[np.ndarray, " d"]:
    r"""Mean diagonal profile of `K` over the outputs `rows` (a boolean mask or index array of a
    contiguous range): $p(k) = \mathrm{mean}_{i, i+k \in R} K_{i, i+k}$ for
    $k = -$`max_offset`..`max_offset` (NaN where no pair exists)."""
    K = np.asarray(check_square("K", K))
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (K.shape[0],):
            raise ValueError(f"`rows` as a mask must have shape ({K.shape[0]},), got {rows.shape}")
        idx = np.flatnonzero(rows)
    elif np.issubdtype(rows.dtype, np.integer) and rows.ndim == 1 and (
            rows.size == 0 or (rows.min() >= 0 and rows.max() < K.shape[0])):
        idx = rows
    else:
        raise ValueError(f"`rows` must be a boolean mask or row indices in [0, {K.shape[0]}), got "
                         f"dtype {rows.dtype}, shape {rows.shape}")
    max_offset = check_positive_int("max_offset", max_offset, allow_zero=True)
    sub = K[np.ix_(idx, idx)]
    return np.array([np.mean(np.diagonal(sub, k)) if abs(k) < len(idx) else np.nan
                     for k in range(-max_offset, max_offset + 1)])

