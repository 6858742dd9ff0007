r"""The λ_K sweep in memory: ρ(K) after phase 2 and after phase 3 for every λ_K, as ONE jitted program
(a :class:`BatchLearner` ensemble run by :func:`learn_chunk`, one member per λ_K)."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._checks import check_finite, check_positive_int
from ..parallel import batch_sharding, put_global, replicate
from ._learners import BatchLearner, learn_chunk, stack
from ._learning import OnlineRates
from ._stability import rho
from ._train import batch_indices


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
    (`batch_indices(..., key=...)`). Each λ_K is one member of a :class:`BatchLearner` ensemble
    (its `rates.rec_l2`), run by :func:`learn_chunk`. With a `mesh` (any 1-D mesh, or `(mesh, axis_name)`), the λ_K axis
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
    learners = tuple(BatchLearner(learn_W=w, learn_K=True,
                                  solver_kwargs=tuple(sorted(({"linear_solver": "lu"}
                                                              | solver_kwargs).items())))
                     for w in (False, bool(learn_W)))
    rates = (float(ff_eta), float(ff_l1), float(rec_eta))
    r_before, r_after = _sweep(*args, learners, rates)
    return PenaltySweep(penalty=np.asarray(lam), rho_before=np.asarray(r_before),
                        rho_after=np.asarray(r_after[0] if one_profile else r_after))


@functools.partial(jax.jit, static_argnums=(6, 7))
def _sweep(model, data, data_att, lam, idx2, idx3, learners, rates):
    L, dt = lam.shape[0], lam.dtype
    r = OnlineRates(*(jnp.full(L, v, dt) for v in rates), rec_l2=lam)
    ones = jnp.ones((L, data.shape[1]), dt)
    nan = jnp.full(L, jnp.nan, dt)

    def learn(learner, models, pool, idx):
        state = learner.init(models, r)
        return learn_chunk(learner, state, nan, pool, ones, idx,
                           block=max(idx.shape[0], 1)).state.model

    m2 = learn(learners[0], stack(model, L), data, idx2)
    after = jax.vmap(lambda x: jax.vmap(rho)(learn(learners[1], m2, x, idx3).K))(data_att)
    return jax.vmap(rho)(m2.K), after
