"""InfoMax objective J = ½ log det(χᵀχ) of the recurrent network and its exact per-sample gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import _linalg
from .._numerics import sigmoid_derivatives
from ._equilibrium import EquilibriumResult, _root, batch_roots, implicit_root


def _sensitivity_at(model, x, g_root):
    """χ at a given (primal) root, differentiable in W, K, x through the implicit root; one LU."""
    h = model.W @ model.augment(x)
    g, factors = implicit_root(h, model.K, g_root)
    _, gp, _ = sigmoid_derivatives(h + model.K @ g)
    a = jnp.eye(model.n_out, dtype=h.dtype) - gp[:, None] * model.K
    return _linalg.solve(a, gp[:, None] * model.W[:, : model.n_in], factors=factors)


def _sensitivity_and_steps(model, x, solver_kwargs):
    _, g_root, steps, ok = _root(model, x, **solver_kwargs)
    chi = _sensitivity_at(model, x, g_root)
    return chi, EquilibriumResult(g=g_root, num_steps=steps, converged=ok)


def sensitivity(model, x: Float[Array, " n_in"], **solver_kwargs) -> Float[Array, "n_out n_in"]:
    r"""Input sensitivity $\chi = \partial g^*/\partial x = (I - \Phi K)^{-1}\Phi W_{:, :n_{in}}$.

    $\Phi = \mathrm{diag}\,\sigma'(W\tilde x + K g^*)$ at the equilibrium (seed 000, `Infomax.learn`).
    The threshold column of `W` is excluded: it multiplies the constant input −1, not `x`.
    `solver_kwargs` (`method`, `rtol`, `atol`, `max_steps`) are those of :func:`equilibrium`.
    """
    return _sensitivity_and_steps(model, x, solver_kwargs)[0]


def _log_volume(model, chi):
    gram = chi.T @ chi if model.n_out >= model.n_in else chi @ chi.T
    return 0.5 * _linalg.logdet_spd(gram)


def _objective_aux(model, x, solver_kwargs):
    chi, res = _sensitivity_and_steps(model, x, solver_kwargs)
    return _log_volume(model, chi), res


def objective(model, x: Float[Array, " n_in"], **solver_kwargs) -> Float[Array, ""]:
    r"""InfoMax objective for one sample, $J(x) = \sum_i \log s_i(\chi) = \tfrac12\log\det(\chi^\top\chi)$.

    Uses $\chi^\top\chi$ when $n_{out} \ge n_{in}$ (overcomplete) and $\chi\chi^\top$ otherwise; $s_i$ are
    the singular values of $\chi$. Maximising the batch mean of $J$ maximises the output entropy of the
    (noiseless, locally linearised) network (Linsker's InfoMax; Dotan & Shriki 2021).

    Deliberate difference from seed 000: the seed's `cost()` builds χ from *all* columns of `W`,
    including the threshold column, and returns $-\sum\log(s_i + 10^{-12})$. Here the threshold column
    is excluded, so that the gradient of `objective` is exactly the seed's learning rule
    (`Infomax.learn`'s `d_v` and `d_k`).
    """
    return _objective_aux(model, x, solver_kwargs)[0]


def _zero_k_diagonal(grads):
    return eqx.tree_at(lambda m: m.K, grads, grads.K * (1 - jnp.eye(grads.K.shape[-1], dtype=grads.K.dtype)))


def per_sample_grads(model, xs: Float[Array, "batch n_in"], **solver_kwargs):
    r"""$\nabla_{W,K} J(x_b)$ for each sample (leading batch axis on `W`, `K`), diagonal of K zeroed.

    Differentiates *through the equilibrium* by implicit differentiation, so this equals the seed's
    hand-derived per-sample update (`d_v` including its threshold column, and `d_k`).
    """
    grad_fn = eqx.filter_grad(lambda m, x: objective(m, x, **solver_kwargs))
    return _zero_k_diagonal(jax.vmap(grad_fn, in_axes=(None, 0))(model, xs))


def objective_and_grads(model, xs: Float[Array, "batch n_in"], **solver_kwargs):
    r"""Batch mean of $J$, mean per-sample gradients, and solver statistics.

    Returns `(J_mean, grads, stats)`; `grads` is a model-shaped PyTree whose `W`, `K` hold
    $\frac1B\sum_b \nabla J(x_b)$ (K's diagonal zeroed: the seed's `d_w / n`, `d_k / n`), and `stats` is a
    dict with `max_steps` (largest fixed-point step count in the batch) and `all_converged`.
    """
    roots, steps, ok = batch_roots(model, xs, **solver_kwargs)

    def mean_objective(m):  # the gradient of the batch mean: per-sample K-gradients (B × n × n)
        # are never materialised, the reverse pass contracts over the batch directly
        return jnp.mean(jax.vmap(lambda x, g: _log_volume(m, _sensitivity_at(m, x, g)))(xs, roots))

    value, grads = eqx.filter_value_and_grad(mean_objective)(model)
    stats = {"max_steps": jnp.max(steps), "all_converged": jnp.all(ok)}
    return value, _zero_k_diagonal(grads), stats


def infomax_grads(model, xs: Float[Array, "batch n_in"], **solver_kwargs):
    """Mean over the batch of the per-sample gradients of :func:`objective` (K's diagonal zeroed).

    Same units as the seed: `grads.W == d_w / n`, `grads.K == d_k / n` of `Infomax.learn`.
    """
    return objective_and_grads(model, xs, **solver_kwargs)[1]
