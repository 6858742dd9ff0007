"""InfoMax objective J = ½ log det(χᵀχ) of the recurrent network and its exact per-sample gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .. import _linalg
from .._checks import check_choice
from .._numerics import sigmoid_derivatives
from .._policy import NEUMANN_MAX_CONTRACTION, NEUMANN_MIN_SIZE
from ._equilibrium import (
    LINEAR_SOLVERS,
    EquilibriumResult,
    check_batch,
    implicit_root,
    raw_batch_roots,
    resolvent_matvec,
    root_of,
)


def _sensitivity_at(model, x, g_root, linear_solver="lu"):
    """`(χ, solved)` at a given (primal) root, differentiable in W, K, x through the implicit root:
    one LU (`"lu"`) or Neumann iterations (`"neumann"`, `solved` False if they did not converge)."""
    h = model.W @ model.augment(x)
    g, factors = implicit_root(h, model.K, g_root, linear_solver)
    _, gp, _ = sigmoid_derivatives(h + model.K @ g)
    matvec = resolvent_matvec(gp, model.K)
    rhs = gp[:, None] * model.W[:, : model.n_in]
    if linear_solver == "neumann":
        return _linalg.neumann_solve(matvec, rhs)
    return _linalg.solve(matvec, rhs, factors=factors), jnp.array(True)


def neumann_contraction(K: Float[ArrayLike, "n n"], roots: Float[ArrayLike, "batch n"]) -> Float[Array, ""]:
    r"""Bound on the convergence rate of the Neumann solves at a batch of equilibria `roots`:
    $\max_b \max(\|\Phi_b K\|_\infty, \|\Phi_b K\|_1)$, $\Phi_b = \mathrm{diag}(g_b(1-g_b))$ (the
    forward iteration contracts in the $\infty$-norm, the transposed one of the reverse pass in the
    1-norm). Below 1 both converge; it bounds the spectral radius $\rho(\Phi_b K)$ from above."""
    if jnp.ndim(K) != 2 or jnp.shape(K)[0] != jnp.shape(K)[1]:
        raise ValueError(f"`K` must be square (n, n), got shape {jnp.shape(K)}")
    if jnp.ndim(roots) != 2 or jnp.shape(roots)[1] != jnp.shape(K)[0]:
        raise ValueError(f"`roots` must be (batch, {jnp.shape(K)[0]}), got shape {jnp.shape(roots)}")
    gp = roots * (1 - roots)
    abs_k = jnp.abs(K)
    return jnp.maximum(jnp.max(gp * jnp.sum(abs_k, axis=1)), jnp.max(gp @ abs_k))


def _sensitivity_and_steps(model, x, solver_kwargs):
    # an unconverged root becomes NaN, so that every bare value (and gradient) computed from it is
    # NaN: the traced-call policy for functions without a status flag (docs/errors.md)
    _, g_root, steps, ok = root_of(model, x, **solver_kwargs)  # ok: False for a non-finite root
    chi, _ = _sensitivity_at(model, x, jnp.where(ok, g_root, jnp.nan))
    return chi, EquilibriumResult(g=g_root, num_steps=steps, converged=ok)


def sensitivity(model, x: Float[ArrayLike, " n_in"], **solver_kwargs) -> Float[Array, "n_out n_in"]:
    r"""Input sensitivity $\chi = \partial g^*/\partial x = (I - \Phi K)^{-1}\Phi W_{:, :n_{in}}$.

    $\Phi = \mathrm{diag}\,\sigma'(W\tilde x + K g^*)$ at the equilibrium (seed 000, `Infomax.learn`).
    The threshold column of `W` is excluded: it multiplies the constant input −1, not `x`.
    `solver_kwargs` (`method`, `rtol`, `atol`, `max_steps`) are those of :func:`equilibrium`.
    Where the fixed point did not converge, χ is NaN (a bare array carries no flag;
    :func:`equilibrium` gives the `converged` status).
    """
    return _sensitivity_and_steps(model, x, solver_kwargs)[0]


def _log_volume(model, chi, logdet_method="auto"):
    gram = chi.T @ chi if model.n_out >= model.n_in else chi @ chi.T
    return 0.5 * _linalg.logdet_spd(gram, logdet_method)


def _objective_aux(model, x, solver_kwargs):
    chi, res = _sensitivity_and_steps(model, x, solver_kwargs)
    return _log_volume(model, chi), res


def objective(model, x: Float[ArrayLike, " n_in"], **solver_kwargs) -> Float[Array, ""]:
    r"""InfoMax objective for one sample, $J(x) = \sum_i \log s_i(\chi) = \tfrac12\log\det(\chi^\top\chi)$.

    Uses $\chi^\top\chi$ when $n_{out} \ge n_{in}$ (overcomplete) and $\chi\chi^\top$ otherwise; $s_i$ are
    the singular values of $\chi$. Maximising the batch mean of $J$ maximises the output entropy of the
    (noiseless, locally linearised) network (Linsker's InfoMax; Dotan & Shriki 2021).

    Deliberate difference from seed 000: the seed's `cost()` builds χ from *all* columns of `W`,
    including the threshold column, and returns $-\sum\log(s_i + 10^{-12})$. Here the threshold column
    is excluded, so that the gradient of `objective` is exactly the seed's learning rule
    (`Infomax.learn`'s `d_v` and `d_k`).

    Where the fixed point did not converge, $J$ and its gradient are NaN (batches:
    :func:`objective_and_grads` reports `converged`).
    """
    return _objective_aux(model, x, solver_kwargs)[0]


def _zero_k_diagonal(grads):
    return eqx.tree_at(lambda m: m.K, grads, grads.K * (1 - jnp.eye(grads.K.shape[-1], dtype=grads.K.dtype)))


def per_sample_grads(model, xs: Float[ArrayLike, "batch n_in"], **solver_kwargs):
    r"""$\nabla_{W,K} J(x_b)$ for each sample (leading batch axis on `W`, `K`), diagonal of K zeroed.

    Differentiates *through the equilibrium* by implicit differentiation, so this equals the seed's
    hand-derived per-sample update (`d_v` including its threshold column, and `d_k`).
    """
    check_batch(model, xs)
    grad_fn = eqx.filter_grad(lambda m, x: objective(m, x, **solver_kwargs))
    return _zero_k_diagonal(jax.vmap(grad_fn, in_axes=(None, 0))(model, xs))


class ObjectiveResult(eqx.Module):
    """Result of :func:`objective_and_grads`: the batch mean `value` of $J$; `grads`, a model-shaped
    PyTree whose `W`, `K` hold the mean per-sample gradients; `num_steps`, the largest fixed-point
    step count in the batch; `converged`, every fixed point and every forward linear solve
    converged; `neumann`, the linear solves took the Neumann path."""

    value: Float[Array, ""]
    grads: eqx.Module
    num_steps: Int[Array, ""]
    converged: Bool[Array, ""]
    neumann: Bool[Array, ""]


def objective_and_grads(model, xs: Float[ArrayLike, "batch n_in"], *, linear_solver: str = "auto",
                        **solver_kwargs) -> ObjectiveResult:
    r"""Batch mean of $J$, mean per-sample gradients, and solver statistics, as an
    :class:`ObjectiveResult`: `grads.W`, `grads.K` hold $\frac1B\sum_b \nabla J(x_b)$ (K's diagonal
    zeroed: the seed's `d_w / n`, `d_k / n`).

    The linear solves with $A = I - \Phi K$ (χ, and the implicit-differentiation solves of the reverse
    pass) use `linear_solver`:

    - `"lu"`: one LU of $A$ per sample serves all of them;
    - `"neumann"`: the iteration $x \leftarrow b + \Phi K x$, no factorisation; $K$ is shared, so
      each iteration is one matrix product for the whole batch. Needs $\rho(\Phi K) < 1$.
    - `"auto"` (default): for `n_out` ≥ `neurojax._policy.NEUMANN_MIN_SIZE` (128), Neumann when
      :func:`neumann_contraction` of the batch is ≤ `NEUMANN_MAX_CONTRACTION` (0.2; convergence
      guaranteed, ≤ ~17 iterations), else LU — one `lax.cond` for the batch; smaller networks:
      LU. Under an outer `jax.vmap` (e.g. over penalties) a batched condition runs both paths;
      pass `"lu"` there.

    Both paths give the same gradients to the solve tolerance (tested at 1e-10).
    """
    check_choice("linear_solver", linear_solver, ("auto", *LINEAR_SOLVERS))
    if jnp.ndim(xs) != 2 or jnp.shape(xs)[0] == 0:
        raise ValueError(f"`xs` must be a batch (batch, n_in) of at least one sample, got shape "
                         f"{jnp.shape(xs)}")
    roots, steps, ok = raw_batch_roots(model, xs, **solver_kwargs)  # checks model, xs, settings
    return _objective_and_grads(model, jnp.asarray(xs), roots, steps, ok, linear_solver)


@eqx.filter_jit  # eager callers compile once per shape and solver
def _objective_and_grads(model, xs, roots, steps, ok, linear_solver):
    def with_solver(how):
        def mean_objective(m):  # the gradient of the batch mean: per-sample K-gradients (B × n × n)
            # are never materialised, the reverse pass contracts over the batch directly
            def one(x, g):
                chi, solved = _sensitivity_at(m, x, g, how)
                # LAPACK-free Neumann steps keep it so; the LU path has LAPACK calls anyway
                # (measured: see `_linalg._SMALL_SPD`)
                return _log_volume(m, chi, "elimination" if how == "neumann" else "cholesky"), solved

            values, solved = jax.vmap(one)(xs, roots)
            return jnp.mean(values), jnp.all(solved)

        (value, solved), grads = eqx.filter_value_and_grad(mean_objective, has_aux=True)(model)
        return value, grads, solved

    if linear_solver == "auto" and model.n_out < NEUMANN_MIN_SIZE:
        linear_solver = "lu"
    if linear_solver == "auto":
        neumann = neumann_contraction(model.K, roots) <= NEUMANN_MAX_CONTRACTION
        value, grads, solved = jax.lax.cond(neumann, lambda: with_solver("neumann"),
                                            lambda: with_solver("lu"))
    else:
        neumann = jnp.array(linear_solver == "neumann")
        value, grads, solved = with_solver(linear_solver)
    grads = _zero_k_diagonal(grads)
    finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grads.W)) & jnp.all(jnp.isfinite(grads.K))
    return ObjectiveResult(value=value, grads=grads, num_steps=jnp.max(steps),
                           converged=jnp.all(ok) & solved & finite, neumann=neumann)


def infomax_grads(model, xs: Float[ArrayLike, "batch n_in"], **solver_kwargs):
    """Mean over the batch of the per-sample gradients of :func:`objective` (K's diagonal zeroed);
    `solver_kwargs` as :func:`objective_and_grads` (`linear_solver`) and :func:`equilibrium`.

    Same units as the seed: `grads.W == d_w / n`, `grads.K == d_k / n` of `Infomax.learn`.
    """
    return objective_and_grads(model, xs, **solver_kwargs).grads
