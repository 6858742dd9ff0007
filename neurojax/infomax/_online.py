r"""Online (one sample per step) InfoMax learning, as the paper's authors run it, for an ensemble.

Dotan & Shriki (2021) learn with ONE sample per step. At that batch size the generic gradient path
(:func:`objective_and_grads`) pays for machinery that only a batch amortises, so this module computes
the exact gradient of $J = \tfrac12\log\det\chi^\top\chi$ in closed form around one LU of
$A = I - \Phi K$ per sample, with $\chi = A^{-1}\Phi W_x$ ($W_x$: the input columns of $W$):

- $\chi = QR$, $J = \sum_i \log|R_{ii}|$, $P = \chi(\chi^\top\chi)^{-1} = QR^{-\top}$ (the transposed
  pseudo-inverse), $U = A^{-\top}P$;
- $c_i = (\chi \odot U)_{i\cdot}\mathbf 1 / \sigma'_i$, $\gamma = c\odot\sigma''$ (evaluated as
  $(\chi \odot U)\mathbf 1 \odot (1 - 2g)$: no division by an underflowing $\sigma'$),
  $v = (I - \Phi K^\top)^{-1}\gamma = \gamma + \Phi A^{-\top}K^\top\gamma$;
- $\nabla_K J = \Phi U\chi^\top + v\,g^\top$ (diagonal zeroed), $\nabla_W J = [\Phi U, 0] + v\,\tilde x^\top$.

This is the seed's hand-derived rule (`Infomax.learn`: `phi.T @ (chi_pinv.T + outer(gamma, x))`)
written without $n \times n$ inverses; it equals `jax.grad` of :func:`objective` (tested to 1e-12).
Work per sample: one $n^3$ LU and $O(n^2 m)$ triangular solves and products.

Every function takes an *ensemble* of networks (a leading member axis on `W`, `K` and the
penalties, e.g. one member per λ_K and hearing-loss profile) and one input per member, so a whole
λ_K sweep is one jitted scan: the fixed points run as one vmapped Picard iteration with Newton for
exactly the members it left unconverged (the package's one root policy), and the LU factorisations are batched kernels on a GPU and a loop of LAPACK calls on a CPU
(:mod:`neurojax._linalg`).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from .. import _linalg
from .._checks import check_finite, check_positive_int
from .._numerics import sigmoid_derivatives
from ._equilibrium import check_settings, fallback_roots


def check_n_in(n_in, W) -> int:
    """`n_in` as an int in [1, n_w), n_w the columns of the ensemble's `W` (ValueError naming it)."""
    n_w = jnp.shape(W)[-1]
    if check_positive_int("n_in", n_in) >= n_w:
        raise ValueError(f"`n_in` must be < n_w = {n_w} (the columns of `W`), got {n_in}")
    return n_in


def check_ensemble(W, K, xt) -> None:
    """Shapes of an ensemble (ValueError naming the argument): `W` (members, n_out, n_w), `K`
    (members, n_out, n_out), `xt` (members, n_w), all finite where concrete."""
    if jnp.ndim(W) != 3:
        raise ValueError(f"`W` must be (members, n_out, n_w), got shape {jnp.shape(W)}")
    e, n, n_w = jnp.shape(W)
    if jnp.shape(K) != (e, n, n):
        raise ValueError(f"`K` must be (members, n_out, n_out) = {(e, n, n)}, got {jnp.shape(K)}")
    if jnp.shape(xt) != (e, n_w):
        raise ValueError(f"`xt` must be (members, n_w) = {(e, n_w)} (inputs with the threshold "
                         f"input), got {jnp.shape(xt)}")
    for name, a in (("W", W), ("K", K), ("xt", xt)):
        check_finite(name, a)


class EnsembleRoots(eqx.Module):
    r"""Result of :func:`ensemble_roots`, per member: the drive `h` $= W\tilde x$, the fixed point
    `g`, the solver steps taken (`num_steps`, Picard plus Newton) and whether it `converged`."""

    h: Float[Array, "members n_out"]
    g: Float[Array, "members n_out"]
    num_steps: Int[Array, " members"]
    converged: Bool[Array, " members"]


class EnsembleValue(eqx.Module):
    """Result of :func:`ensemble_objective` and :func:`ensemble_cost`: one `value` per member and
    whether every fixed point behind it `converged`."""

    value: Float[Array, " members"]
    converged: Bool[Array, " members"]


def ensemble_roots(W, K, xt, *, rtol=None, atol=None, max_steps: int = 200) -> EnsembleRoots:
    """Fixed points of every member (an :class:`EnsembleRoots`): Picard for all members at once;
    exactly the members it left unconverged are solved by Newton from σ(0), on every backend
    (:func:`~neurojax.infomax._equilibrium.fallback_roots`)."""
    check_ensemble(W, K, xt)
    check_settings(rtol, atol, max_steps)
    h = jnp.einsum("eij,ej->ei", W, xt)
    g, n, ok = fallback_roots(h, K, "auto", rtol, atol, max_steps)
    return EnsembleRoots(h=h, g=g, num_steps=n, converged=ok)


def _member_sensitivity(W, K, h, g, n_in):
    """`(g, σ', LU factors of I − ΦK, χ, Q, R, J)` of one member at its root `g`."""
    gg, gp, _ = sigmoid_derivatives(h + K @ g)
    a = jnp.eye(K.shape[0], dtype=K.dtype) - gp[:, None] * K
    lu, perm = _linalg.lu_perm(a)
    chi = _linalg.lu_solve(lu, perm, gp[:, None] * W[:, :n_in])
    # χ = QR: J = Σ log|R_ii| and P = χ(χᵀχ)⁻¹ = Q R⁻ᵀ without forming χᵀχ, whose condition
    # number (the square of χ's) exhausts float32 once learning has sharpened W
    q, r = _linalg.qr(chi)
    objective = jnp.sum(jnp.log(jnp.abs(jnp.diagonal(r))))
    return gg, gp, (lu, perm), chi, q, r, objective


def _member_grads(W, K, xt, h, g, n_in):
    """`(J, grad_W, grad_K, finite)` of one member at its root `g` (formulas in the module doc)."""
    gg, gp, (lu, perm), chi, q, r, objective = _member_sensitivity(W, K, h, g, n_in)
    n = K.shape[0]
    p = jax.lax.linalg.triangular_solve(r, q, left_side=False, lower=False, transpose_a=True)
    u = _linalg.lu_solve(lu, perm, p, trans=1)
    # γ = c σ'' with c_i = (χ ⊙ U)_i·1 / σ'_i; σ''/σ' = 1 − 2g (no 0/0 where σ' underflows)
    gamma = jnp.sum(chi * u, axis=1) * (1 - 2 * gg)
    v = gamma + gp * _linalg.lu_solve(lu, perm, K.T @ gamma, trans=1)
    phi_u = gp[:, None] * u
    grad_k = (phi_u @ chi.T + jnp.outer(v, gg)) * (1 - jnp.eye(n, dtype=K.dtype))
    grad_w = jnp.outer(v, xt).at[:, :n_in].add(phi_u)
    return objective, grad_w, grad_k, jnp.isfinite(objective)


def ensemble_objective(W, K, xt, *, n_in: int, **root_kwargs) -> EnsembleValue:
    r"""$J = \tfrac12\log\det\chi^\top\chi$ per member for one input per member (no gradients);
    `converged` is False where the root failed or $J$ is not finite."""
    check_n_in(n_in, W)  # the rest is checked by ensemble_roots
    r = ensemble_roots(W, K, xt, **root_kwargs)
    # the objective alone: no solves for the gradient (the cost evaluations of `learn_chunk`)
    j = jax.vmap(lambda w, k, hh, gg: _member_sensitivity(w, k, hh, gg, n_in)[-1])(W, K, r.h, r.g)
    return EnsembleValue(value=j, converged=r.converged & jnp.isfinite(j))


def online_grads(W, K, xt, *, n_in: int, **root_kwargs):
    """`(roots, objective, grad_W, grad_K, sound)` of every member at its own input `xt` (the
    online learner's step before the rule, :class:`~neurojax.infomax.OnlineLearner`); `sound`:
    the root converged and the objective is finite."""
    check_n_in(n_in, W)  # the rest is checked by ensemble_roots
    r = ensemble_roots(W, K, xt, **root_kwargs)
    j, gw, gk, finite = jax.vmap(lambda w, k, x, hh, gg: _member_grads(w, k, x, hh, gg, n_in))(
        W, K, xt, r.h, r.g)
    return r, j, gw, gk, r.converged & finite


def augmented(x):
    """`[x, -1]` along the last axis (the threshold input appended)."""
    return jnp.concatenate([x, -jnp.ones(x.shape[:-1] + (1,), x.dtype)], axis=-1)


def ensemble_cost(W, K, eval_x, *, n_in: int, **root_kwargs) -> EnsembleValue:
    r"""The protocol's cost $-\overline{J}$ over the evaluation inputs `eval_x` (samples × n_in),
    per member; a `lax.map` over the samples (a `vmap` would batch the Newton-fallback `cond`).
    `converged`: every root converged."""
    n_in = check_positive_int("n_in", n_in)
    if jnp.ndim(eval_x) != 2 or jnp.shape(eval_x)[1] != n_in:
        raise ValueError(f"`eval_x` must be (samples, n_in = {n_in}), got shape "
                         f"{jnp.shape(eval_x)}")

    return _ensemble_cost(W, K, jnp.asarray(eval_x), n_in, root_kwargs)


@eqx.filter_jit  # eager callers compile its `lax.map` once per shape, not once per call
def _ensemble_cost(W, K, eval_x, n_in, root_kwargs):
    def one(x):
        xt = jnp.broadcast_to(augmented(x), (W.shape[0], x.shape[0] + 1))
        return ensemble_objective(W, K, xt, n_in=n_in, **root_kwargs)

    r = jax.lax.map(one, eval_x)
    return EnsembleValue(value=-jnp.mean(r.value, axis=0), converged=jnp.all(r.converged, axis=0))
