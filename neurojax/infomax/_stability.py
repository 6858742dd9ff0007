r"""Stability of the recurrent InfoMax network: the spectral radius of K, and critical slowing down
of the fixed-point solve as K is scaled towards the bifurcation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import _linalg
from .._checks import check_finite, check_positive_int, check_shape, check_square
from ._equilibrium import equilibrium


def spectral_radius(K) -> float:
    r"""$\rho(K) = \max_i |\lambda_i(K)|$, computed on the host (NumPy, float64) for logging."""
    check_square("K", K)
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(K, dtype=np.float64)))))


class CriticalSlowing(eqx.Module):
    """Result of :func:`critical_slowing`, one entry per scale $s$: `scale`; `newton_steps`,
    `newton_converged`, `picard_steps`, `picard_converged` (per solver, capped at `max_steps`);
    `rho_phi_K` $= \\rho(\\Phi\\,sK)$ at the Newton root, $\\Phi = \\mathrm{diag}(g(1-g))$."""

    scale: np.ndarray
    newton_steps: np.ndarray
    newton_converged: np.ndarray
    picard_steps: np.ndarray
    picard_converged: np.ndarray
    rho_phi_K: np.ndarray


def rho(K: Float[ArrayLike, "n n"]) -> Float[Array, ""]:
    r"""Spectral radius $\rho(K) = \max_i |\lambda_i(K)|$ in JAX (jit/vmap-able). The fixed point
    loses stability near $\rho(K) \approx 4$, since $\max\sigma' = 1/4$. Eagerly, `K` must be
    finite; a non-finite traced `K` gives NaN."""
    K = check_square("K", K)
    return jnp.max(jnp.abs(_linalg.eigvals(K)))


def critical_slowing(model, scales, *, x=None, max_steps: int = 256) -> CriticalSlowing:
    r"""Critical slowing down: solver steps to the fixed point for $K \to sK$, $s$ in `scales`
    (vmapped), on silence (or on input `x`). Newton (`method='newton'`) and plain fixed-point
    iteration (`method='picard'`, $g \leftarrow \sigma(W\tilde x + sKg)$) steps, each capped at
    `max_steps`; `converged` flags per solver. Plain iteration slows down as $\rho(\Phi sK) \to 1$.
    Returns a :class:`CriticalSlowing` of NumPy arrays."""
    s = jnp.asarray(scales, model.W.dtype)
    if s.ndim != 1 or bool(jnp.any(~jnp.isfinite(s))):
        raise ValueError(f"`scales` must be a finite 1-D array, got {scales}")
    x = jnp.zeros(model.n_in, model.W.dtype) if x is None else jnp.asarray(x, model.W.dtype)
    check_shape("x", x, (model.n_in,))
    check_finite("x", x)
    out = _slowing(model, s, x, check_positive_int("max_steps", max_steps))
    return CriticalSlowing(scale=np.asarray(s), **{k: np.asarray(v) for k, v in out.items()})


@eqx.filter_jit
def _slowing(model, s, x, max_steps):
    def one(si):
        m = eqx.tree_at(lambda m: m.K, model, si * model.K)
        nw = equilibrium(m, x, method="newton", max_steps=max_steps)
        pc = equilibrium(m, x, method="picard", max_steps=max_steps)
        return {"newton_steps": nw.num_steps, "newton_converged": nw.converged,
                "picard_steps": pc.num_steps, "picard_converged": pc.converged,
                "rho_phi_K": rho(si * model.K * (nw.g * (1 - nw.g))[:, None])}

    return jax.vmap(one)(s)


