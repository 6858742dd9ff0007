r"""Learners: ONE interface for every way the recurrent InfoMax network learns (blackjax's kernel shape).

A learner is a small static Module with two pure methods:

- `init(model, rates, *, active=None) -> LearnerState`: the state of an *ensemble* — `model` is a
  :class:`RecurrentInfoMax` stacked along a leading member axis (:func:`stack`), `rates` an
  :class:`OnlineRates` with one value per member (e.g. one λ_K per member), `active` the members
  that still learn;
- `step(state, x) -> (state, StepInfo)`: one learning step of every member on its own batch
  `x` (members, batch, n_in).

Two learners, one rule (:meth:`OnlineRates.apply`, or its optax form :func:`infomax_optimizer`):

- :class:`OnlineLearner`: ONE sample per step, the closed-form per-sample gradient around one LU
  (the paper's authors' learner; `neurojax.infomax._online`);
- :class:`BatchLearner`: the batch-mean gradient by autodiff through the implicit fixed point
  (:func:`objective_and_grads`) and any optax transformation (default: the rule with the rates of
  `rates`, injected as hyperparameters).

At batch 1 with the default rule the two take the same step (float64, tested to 1e-12).
:func:`learn_chunk` is the one loop over steps (a jitted `lax.scan` in blocks, with the
protocol's cost evaluation and early stop); the drivers in `neurojax.experiments` only chunk,
checkpoint and log.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_finite, check_number, check_positive_int, check_rows
from ._learning import OnlineRates, infomax_optimizer, with_hyperparams
from ._model import RecurrentInfoMax
from ._objective import objective_and_grads
from ._online import augmented, ensemble_cost, online_grads


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


class LearnerState(eqx.Module):
    """State of an ensemble learning: the stacked `model`, the per-member `rates`, which members are
    `active`, and the optax state of a :class:`BatchLearner` (`opt_state`, None for the online
    learner)."""

    model: RecurrentInfoMax
    rates: OnlineRates
    active: Bool[Array, " members"]
    opt_state: object = None


class StepInfo(eqx.Module):
    """Per member: the objective $J$ of the step's batch before the update, the largest fixed-point
    step count, and whether every root and the gradient were sound (else the member kept its
    weights this step)."""

    objective: Float[Array, " members"]
    fp_steps: Int[Array, " members"]
    converged: Bool[Array, " members"]


def _check_flags(learner):
    for name in ("learn_W", "learn_K"):
        if not isinstance(getattr(learner, name), (bool, np.bool_)):
            raise TypeError(f"{type(learner).__name__}.{name} must be a bool, got "
                            f"{getattr(learner, name)!r}")
    if not (learner.learn_W or learner.learn_K):
        raise ValueError(f"{type(learner).__name__}: learn_W and learn_K are both False (nothing "
                         f"would learn)")


def _members(model, rates, active):
    if not isinstance(model, RecurrentInfoMax):
        raise TypeError(f"`model` must be a RecurrentInfoMax stacked over members, got "
                        f"{type(model).__name__}")
    if jnp.ndim(model.W) != 3:
        raise ValueError(f"`model` must be stacked over a leading member axis (stack(model, n)); "
                         f"its W has shape {jnp.shape(model.W)}")
    if not isinstance(rates, OnlineRates):
        raise TypeError(f"`rates` must be an OnlineRates, got {type(rates).__name__}")
    e = model.W.shape[0]
    dt = model.W.dtype
    rates = jax.tree.map(lambda r: jnp.broadcast_to(jnp.asarray(r, dt), (e,)), rates)
    for name in ("ff_eta", "ff_l1", "rec_eta", "rec_l2"):
        check_finite(f"rates.{name}", getattr(rates, name))
    active = jnp.ones(e, bool) if active is None else jnp.asarray(active, bool)
    if active.shape != (e,):
        raise ValueError(f"`active` must have shape ({e},) (one flag per member), got "
                         f"{active.shape}")
    return rates, active


class OnlineLearner(eqx.Module):
    """One sample per step, the closed-form gradient and :meth:`OnlineRates.apply` (the paper's
    learner). `learn_W`, `learn_K`: which weights learn; `root_kwargs`: `rtol`, `atol`,
    `max_steps` of the fixed-point solve, as sorted `(name, value)` pairs."""

    learn_W: bool = eqx.field(static=True, default=True)
    learn_K: bool = eqx.field(static=True, default=True)
    root_kwargs: tuple = eqx.field(static=True, default=())

    def __check_init__(self):
        _check_flags(self)

    def init(self, model, rates, *, active=None) -> LearnerState:
        rates, active = _members(model, rates, active)
        return LearnerState(model=model, rates=rates, active=active)

    def step(self, state: LearnerState, x) -> tuple[LearnerState, StepInfo]:
        if jnp.shape(x)[1:2] != (1,):
            raise ValueError(f"OnlineLearner learns on one sample per step: `x` must be "
                             f"(members, 1, n_in), got shape {jnp.shape(x)}")
        m = state.model
        r, j, grad_w, grad_k, sound = online_grads(m.W, m.K, augmented(x[:, 0]), n_in=m.n_in,
                                                   **dict(self.root_kwargs))
        # stopped members, and members whose root or objective is not sound, keep their weights
        W, K = state.rates.apply(m.W, m.K, grad_w, grad_k, learn_W=self.learn_W,
                                 learn_K=self.learn_K, where=sound & state.active)
        model = eqx.tree_at(lambda t: (t.W, t.K), m, (W, K))
        return (eqx.tree_at(lambda s: s.model, state, model),
                StepInfo(objective=j, fp_steps=r.num_steps, converged=sound))


def batch_update(optimizer, model, opt_state, xs, grad_fn=objective_and_grads, **solver_kwargs):
    """`(model, opt_state, ObjectiveResult)` after one optax step of ONE network along the ascent
    gradient of the batch-mean $J$ on `xs` (the body of every batch learning loop)."""
    params = lambda m: eqx.filter(m, eqx.is_array)  # noqa: E731
    r = grad_fn(model, xs, **solver_kwargs)
    updates, opt_state = optimizer.update(jax.tree.map(jnp.negative, params(r.grads)), opt_state,
                                          params(model))
    return eqx.apply_updates(model, updates), opt_state, r


class BatchLearner(eqx.Module):
    """Batch-mean gradient through the implicit fixed point and an optax transformation.

    `optimizer=None`: :func:`infomax_optimizer` (the rule), its rates and penalties set per member
    from the state's `rates`; any other optax transformation defines its own rates (then
    `rates` only sizes the ensemble). `solver_kwargs`: of :func:`objective_and_grads` as sorted
    `(name, value)` pairs (default `linear_solver="lu"`: under the member `vmap` a data-dependent
    choice would run both paths)."""

    learn_W: bool = eqx.field(static=True, default=True)
    learn_K: bool = eqx.field(static=True, default=True)
    optimizer: optax.GradientTransformation | None = eqx.field(static=True, default=None)
    solver_kwargs: tuple = eqx.field(static=True, default=(("linear_solver", "lu"),))

    def __check_init__(self):
        _check_flags(self)
        if self.optimizer is not None and not isinstance(self.optimizer,
                                                         optax.GradientTransformation):
            raise TypeError(f"BatchLearner.optimizer must be None or an optax "
                            f"GradientTransformation, got {type(self.optimizer).__name__}")

    def _optimizer(self):
        if self.optimizer is not None:
            return self.optimizer
        return infomax_optimizer(learn_W=self.learn_W, learn_K=self.learn_K)

    def init(self, model, rates, *, active=None) -> LearnerState:
        rates, active = _members(model, rates, active)
        opt = self._optimizer()

        def one(m, r):
            s = opt.init(eqx.filter(m, eqx.is_array))
            if self.optimizer is not None:
                return s
            return with_hyperparams(s, ff_eta=r.ff_eta, ff_l1=r.ff_l1, rec_eta=r.rec_eta,
                                    rec_l2=r.rec_l2)

        return LearnerState(model=model, rates=rates, active=active,
                            opt_state=jax.vmap(one)(model, rates))

    def step(self, state: LearnerState, x) -> tuple[LearnerState, StepInfo]:
        opt, kw = self._optimizer(), dict(self.solver_kwargs)

        def one(m, s, xb, live):
            new, s_new, r = batch_update(opt, m, s, xb, **kw)
            keep = lambda a, b: jnp.where(live, a, b)  # noqa: E731
            new = eqx.combine(jax.tree.map(keep, eqx.filter(new, eqx.is_array),
                                           eqx.filter(m, eqx.is_array)), m)
            return new, jax.tree.map(keep, s_new, s), r

        model, opt_state, r = jax.vmap(one)(state.model, state.opt_state, x, state.active)
        return (LearnerState(model=model, rates=state.rates, active=state.active,
                             opt_state=opt_state),
                StepInfo(objective=r.value, fp_steps=r.num_steps, converged=r.converged))


class ChunkInfo(eqx.Module):
    """Per block of steps of :func:`learn_chunk` (blocks × members): the mean objective, the
    largest fixed-point step count, whether every step was sound, whether the member still learns
    after the block, and the cost $-\\overline J$ on the evaluation inputs (NaN without them)."""

    objective: Float[Array, "*blocks members"]
    fp_steps: Int[Array, "*blocks members"]
    sound: Bool[Array, "*blocks members"]
    active: Bool[Array, "*blocks members"]
    cost: Float[Array, "*blocks members"]


class ChunkResult(eqx.Module):
    """Result of :func:`learn_chunk`: the learner `state` after the chunk, the last evaluated `cost`
    per member (carried into the next chunk's early stop), and the per-block record `blocks`."""

    state: LearnerState
    cost: Float[Array, " members"]
    blocks: ChunkInfo


def learn_chunk(learner, state: LearnerState, cost, pool, gains, idx, *, block: int,
                eval_x=None, stop_rise: float | None = None) -> ChunkResult:
    r"""`len(idx)` learning steps of an ensemble, in blocks of `block` steps (pure; jit it).

    Step `s` learns, in member `e`, on `gains[e] * pool[idx[s]]` (`idx`: steps × batch rows of
    `pool`; a traced out-of-range row reads NaN, and that step is not sound). After each block,
    with `eval_x`, the cost $-\overline J$ on `eval_x` (unattenuated) is evaluated; with
    `stop_rise` as well, a member whose cost rose by more than `stop_rise` since the previous
    evaluation, or whose cost or any step of the block was not sound, stops learning (the paper's
    phase-3 early stop). `cost`: the previous evaluation per member.

    Returns a :class:`ChunkResult`."""
    block = check_positive_int("block", block)
    if jnp.ndim(idx) != 2 or jnp.shape(idx)[0] % block:
        raise ValueError(f"`idx` must be (steps, batch) with steps a multiple of block = "
                         f"{block}, got shape {jnp.shape(idx)}")
    n_in = state.model.n_in
    if jnp.ndim(pool) != 2 or jnp.shape(pool)[1] != n_in:
        raise ValueError(f"`pool` must be (samples, n_in = {n_in}), got shape {jnp.shape(pool)}")
    check_rows("idx", idx, jnp.shape(pool)[0], "pool")
    if stop_rise is not None:
        check_number("stop_rise", stop_rise, low=0.0)
        if eval_x is None:
            raise ValueError("`stop_rise` needs `eval_x` (the early stop compares costs)")
    check_finite("pool", pool)
    check_finite("gains", gains)
    blocks = jnp.asarray(idx).reshape(-1, block, jnp.shape(idx)[1])
    return _learn_chunk(learner, state, cost, pool, gains, blocks, eval_x, stop_rise)


@eqx.filter_jit  # eager callers compile once per shape and setting, not once per call
def _learn_chunk(learner, state, cost, pool, gains, blocks, eval_x, stop_rise):
    def step(state, rows):
        x = gains[:, None, :] * pool.at[rows].get(mode="fill", fill_value=jnp.nan)[None]
        return learner.step(state, x)

    def one_block(carry, rows):
        state, prev = carry
        state, info = jax.lax.scan(step, state, rows)
        sound = jnp.all(info.converged, axis=0)
        if eval_x is None:
            new = jnp.full_like(prev, jnp.nan)
        else:
            m = state.model
            new = ensemble_cost(m.W, m.K, eval_x, n_in=m.n_in,
                                **dict(getattr(learner, "root_kwargs", ()))).value
            if stop_rise is not None:
                rose = (new - prev > stop_rise) | ~jnp.isfinite(new) | ~sound
                state = eqx.tree_at(lambda s: s.active, state, state.active & ~rose)
            prev = jnp.where(jnp.isfinite(new), new, prev)
        return (state, prev), ChunkInfo(objective=jnp.mean(info.objective, axis=0),
                                        fp_steps=jnp.max(info.fp_steps, axis=0), sound=sound,
                                        active=state.active, cost=new)

    (state, cost), info = jax.lax.scan(one_block, (state, cost), blocks)
    return ChunkResult(state=state, cost=cost, blocks=info)
