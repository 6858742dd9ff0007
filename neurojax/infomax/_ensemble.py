r"""Ensembles of networks learning at once: one vmapped program over a leading member axis, used by
the λ_K sweep (:func:`penalty_sweep`) and by the tinnitus protocol (one member per hearing-loss
profile).

Under `jax.vmap`, a data-dependent `lax.cond` becomes a select that runs both branches, so the
ensemble functions default to the LU linear solves (`linear_solver="lu"`) rather than `"auto"`.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._checks import check_finite, check_positive_int
from ..parallel import batch_sharding, put_global, replicate
from ._learning import infomax_optimizer, with_hyperparams
from ._stability import rho
from ._train import TrainResult, batch_indices, learn_steps


def stack(tree, n: int):
    """`tree` broadcast to a leading member axis of length `n` (every array leaf)."""
    n = check_positive_int("n", n)
    return jax.tree.map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), tree)


def take(tree, i):
    """Member `i` of a PyTree stacked over a leading member axis (an int in [-n, n) checked
    eagerly; a traced `i` is clamped, as JAX indexing is)."""
    if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
        sizes = {jnp.shape(v)[0] for v in jax.tree.leaves(tree) if jnp.ndim(v) > 0}
        for n in sizes:
            if not -n <= i < n:
                raise ValueError(f"`i` must lie in [-{n}, {n}) (the members), got {i}")
    return jax.tree.map(lambda v: v[i], tree)


def ensemble_learn(models, opt_states, data, idx, optimizer, *, shared_data: bool = False,
                   **solver_kwargs) -> TrainResult:
    """:func:`learn_steps` vmapped over a leading member axis of `models` and `opt_states`, and of
    `data` (each member learns on its own data set, e.g. a hearing-loss profile) unless
    `shared_data` (one data set for all, never copied per member). All members see the batches
    `idx`. Pure (jit it, or call it inside a jitted function). `linear_solver` defaults to "lu"
    (see the module docstring). Returns a :class:`TrainResult` stacked over members."""
    want = 2 if shared_data else 3
    if jnp.ndim(data) != want:
        raise ValueError(f"`data` must be {'(n_samples, n_in)' if shared_data else '(members, n_samples, n_in)'}"
                         f" (shared_data={shared_data}), got shape {jnp.shape(data)}")
    check_finite("data", data)
    solver_kwargs.setdefault("linear_solver", "lu")
    run = lambda m, s, x: learn_steps(m, s, x, idx, optimizer, **solver_kwargs)  # noqa: E731
    return jax.vmap(run, in_axes=(0, 0, None if shared_data else 0))(models, opt_states, data)


class PenaltySweep(eqx.Module):
    """Result of :func:`penalty_sweep` (NumPy): the λ_K values `penalty` (L,), $\\rho(K)$ after phase
    2 `rho_before` (L,) and after phase 3 `rho_after` (L,), or (P, L) for P profiles."""

    penalty: np.ndarray
    rho_before: np.ndarray
    rho_after: np.ndarray


def penalty_sweep(model, data, data_att, penalties, *, key: PRNGKeyArray, steps_normal: int,
                  steps_attenuated: int, batch_size: int = 16, ff_eta: float = 0.1,
                  rec_eta: float = 0.001, ff_l1: float = 0.001, learn_W: bool = False,
                  mesh=None, **solver_kwargs) -> PenaltySweep:
    r"""ρ(K) as a function of the K-penalty λ_K, as ONE vmapped, jitted computation over λ_K.

    From `model` (after phase 1), for each λ_K: learn K for `steps_normal` steps on `data`
    (phase 2), record ρ(K); then `steps_attenuated` steps on `data_att` (phase 3, also W if
    `learn_W`), record ρ(K). `data_att` may hold several hearing-loss profiles (P, n, n_in):
    phase 2 runs once and phase 3 once per profile. All runs see the same batches
    (`batch_indices(..., key=...)`). λ_K lives in the optimizer state (`rec_l2`, see
    :func:`with_hyperparams`). With a `mesh` (any 1-D mesh, or `(mesh, axis_name)`), the λ_K axis
    is split over its devices (its length must be divisible by their number)."""
    lam = jnp.asarray(penalties, model.W.dtype)
    if lam.ndim != 1 or lam.size == 0 or not bool(np.all(np.isfinite(np.asarray(lam))
                                                          & (np.asarray(lam) >= 0))):
        raise ValueError(f"`penalties` must be a non-empty 1-D array of finite values >= 0, got "
                         f"{penalties}")
    data, data_att = jnp.asarray(data), jnp.asarray(data_att)
    if data.ndim != 2 or data.shape[1] != model.n_in:
        raise ValueError(f"`data` must have shape (n_samples, {model.n_in}), got {data.shape}")
    check_finite("data", data)
    check_finite("data_att", data_att)
    steps_normal = check_positive_int("steps_normal", steps_normal, allow_zero=True)
    steps_attenuated = check_positive_int("steps_attenuated", steps_attenuated, allow_zero=True)
    one_profile = data_att.ndim == 2
    if data_att.ndim not in (2, 3) or data_att.shape[-2:] != data.shape:
        raise ValueError(f"`data_att` must have shape {data.shape} or (profiles, *{data.shape}), "
                         f"got {data_att.shape}")
    n = data.shape[0]
    idx2 = batch_indices(n, batch_size, range(steps_normal), key=jax.random.fold_in(key, 2))
    idx3 = batch_indices(n, batch_size, range(steps_attenuated), key=jax.random.fold_in(key, 3))
    args = (model, data, data_att[None] if one_profile else data_att, lam, idx2, idx3)
    if mesh is not None:
        args = replicate(args, mesh)
        args = args[:3] + (put_global(lam, batch_sharding(mesh)),) + args[4:]
    opts = tuple(infomax_optimizer(ff_eta=float(ff_eta), rec_eta=float(rec_eta), ff_l1=float(ff_l1),
                                   learn_W=w, learn_K=True) for w in (False, bool(learn_W)))
    r_before, r_after = _sweep(*args, opts, tuple(sorted(solver_kwargs.items())))
    return PenaltySweep(penalty=np.asarray(lam), rho_before=np.asarray(r_before),
                        rho_after=np.asarray(r_after[0] if one_profile else r_after))


@functools.partial(jax.jit, static_argnums=(6, 7))
def _sweep(model, data, data_att, lam, idx2, idx3, opts, solver_items):
    L = lam.shape[0]

    def states(opt, models):
        return jax.vmap(lambda m, v: with_hyperparams(opt.init(eqx.filter(m, eqx.is_array)),
                                                      rec_l2=v))(models, lam)

    kw = dict(solver_items)
    models = stack(model, L)
    m2 = ensemble_learn(models, states(opts[0], models), data, idx2, opts[0], shared_data=True,
                        **kw).model
    after = jax.vmap(  # phase 3: profiles x λ_K
        lambda x: jax.vmap(rho)(ensemble_learn(m2, states(opts[1], m2), x, idx3, opts[1],
                                               shared_data=True, **kw).model.K))(data_att)
    return jax.vmap(rho)(m2.K), after
