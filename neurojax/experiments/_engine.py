r"""THE protocol engine of the InfoMax experiments: a phase plan run by one learner, in jitted chunks,
checkpointed, logged (`run_paper` and `run_protocol` are presets of it).

A :class:`Plan` says what each :class:`Phase` learns (W, K), for how many steps, with which members
(one network; one per λ_K; one per hearing-loss profile and λ_K, profile-major), whether the paper's
early stop applies, which learner learns (:class:`~neurojax.infomax.OnlineLearner` or
:class:`~neurojax.infomax.BatchLearner`) and how step `s` of phase `p` draws its rows of the input
pool (from `fold_in(fold_in(key, p), s)`, so a run interrupted and resumed equals an uninterrupted
one bitwise). Each phase starts from the networks the previous one ended with, fanned out to its
members; :func:`~neurojax.infomax.learn_chunk` does the steps.

Checkpoints (one :class:`RunDirectory`, the codec :func:`encode` / :func:`decode`) hold the learner
state of the phase in progress, the networks of the finished phases and the history; they are
written every `checkpoint_every` steps and at the end of every phase. The history, per phase: per
block of `block` steps and member the mean `objective`, the largest `fp_steps`, whether every step
was `sound`, whether the member is still `active`, the `cost` on the evaluation inputs (NaN
without them); per chunk ρ(K) (`rho`, members) at `rho_step`.
"""

import math
import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from .. import infomax as nim
from ..infomax._learners import ChunkInfo, ChunkResult, learn_chunk
from ..infomax._online import ensemble_cost
from ._checkpoint import RunDirectory, decode, encode
from ._env import code_commit

MEMBERS = ("one", "penalties", "profiles")
_HISTORY = ("objective", "fp_steps", "sound", "active", "cost")


class Phase(eqx.Module):
    """One phase: `steps`, which weights learn, its `members` (one of :data:`MEMBERS`) and whether
    the paper's early stop applies (needs the plan's `eval_x`)."""

    steps: int = eqx.field(static=True)
    learn_W: bool = eqx.field(static=True)
    learn_K: bool = eqx.field(static=True)
    members: str = eqx.field(static=True, default="one")
    early_stop: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.members not in MEMBERS:
            raise ValueError(f"Phase.members must be one of {list(MEMBERS)}, got {self.members!r}")


class Plan(eqx.Module):
    """What the engine runs: the `phases`, the initial network `model` (one), the input `pool`
    (samples × n_in), the profiles' `gains` (profiles × n_in), the λ_K `penalties`, the rule's other
    rates (`ff_eta`, `ff_l1`, `rec_eta`), `learner(phase)` → a learner, `sample(key, lo, n)` → the
    rows (n × batch) of steps lo..lo+n, the steps per jitted `chunk` (and ρ(K) log), per
    `checkpoint_every` (a multiple of `chunk`) and per history `block` (dividing `chunk` and every
    phase), the evaluation inputs `eval_x` (or None) and the early stop's `stop_rise`."""

    phases: tuple = eqx.field(static=True)
    model: nim.RecurrentInfoMax
    pool: jax.Array
    gains: jax.Array
    penalties: tuple = eqx.field(static=True)
    ff_eta: float = eqx.field(static=True)
    ff_l1: float = eqx.field(static=True)
    rec_eta: float = eqx.field(static=True)
    learner: Callable = eqx.field(static=True)
    sample: Callable = eqx.field(static=True)
    chunk: int = eqx.field(static=True)
    checkpoint_every: int = eqx.field(static=True)
    block: int = eqx.field(static=True)
    eval_x: jax.Array | None = None
    stop_rise: float | None = eqx.field(static=True, default=None)

    def members(self, q: int) -> int:
        L, Pn = len(self.penalties), self.gains.shape[0]
        return {"one": 1, "penalties": L, "profiles": Pn * L}[self.phases[q - 1].members]

    def rates(self, q: int) -> nim.OnlineRates:
        dt, kind = self.pool.dtype, self.phases[q - 1].members
        lam = {"one": np.zeros(1), "penalties": np.asarray(self.penalties),
               "profiles": np.tile(np.asarray(self.penalties), self.gains.shape[0])}[kind]
        full = lambda v: jnp.full(len(lam), v, dt)  # noqa: E731
        return nim.OnlineRates(ff_eta=full(self.ff_eta), ff_l1=full(self.ff_l1),
                               rec_eta=full(self.rec_eta), rec_l2=jnp.asarray(lam, dt))

    def member_gains(self, q: int):
        if self.phases[q - 1].members == "profiles":
            return jnp.repeat(self.gains, len(self.penalties), axis=0)
        return jnp.ones((self.members(q), self.pool.shape[1]), self.pool.dtype)


class ProtocolResult(eqx.Module):
    """Result of a protocol (:func:`run_paper`, :func:`run_protocol`). `finished`: all phases ran;
    else learning `diverged` (`{"phase", "step", "to"}`: non-finite weights in the chunk from
    `step` to `to`; the checkpoint keeps the state at `step`). `models`: {phase: the networks at
    its end, stacked over its members} (0: the initial network); `history`: {phase: {field: NumPy
    array}} (module docstring); `pool`, `gains` (profiles × n_in), `profiles` (names),
    `penalties`, `eval_x`: the inputs the run learned and was evaluated on."""

    finished: bool = eqx.field(static=True)
    phase: int = eqx.field(static=True)
    step: int = eqx.field(static=True)
    config: eqx.Module
    models: dict
    history: dict
    pool: jax.Array
    gains: jax.Array
    profiles: tuple = eqx.field(static=True, converter=tuple)
    penalties: tuple = eqx.field(static=True, converter=tuple)
    eval_x: jax.Array | None = None
    diverged: dict | None = None


def spectral_radii(K):
    """ρ(K) of each matrix of a stack, on the host in float64 (the engine's log, summaries)."""
    return np.max(np.abs(np.linalg.eigvals(np.asarray(K, np.float64))), axis=-1)


def _fan_out(model, n: int, n_profiles: int):
    """The networks of a new phase from the previous phase's `model` (stacked): the same members,
    one copied to `n`, or each copied once per profile (profile-major)."""
    e = model.W.shape[0]
    if e == n:
        return model
    if e == 1:
        return jax.tree.map(lambda v: jnp.repeat(v, n, axis=0), model)
    if e * n_profiles == n:
        return jax.tree.map(lambda v: jnp.tile(v, (n_profiles,) + (1,) * (v.ndim - 1)), model)
    raise ValueError(f"a phase of {n} members cannot follow one of {e}")


def _finite(tree) -> bool:
    return all(bool(jnp.all(jnp.isfinite(a)))
               for a in jax.tree.leaves(eqx.filter(tree, eqx.is_inexact_array)))


def _chunk(learner, state, cost, plan, gains, idx, stop_rise, mesh):
    """One :func:`learn_chunk` call; with a `mesh`, the members split over its devices (padded to a
    multiple of their number by inactive copies of the last member, dropped afterwards)."""
    args = dict(block=plan.block, eval_x=plan.eval_x, stop_rise=stop_rise)
    if mesh is None:
        return learn_chunk(learner, state, cost, plan.pool, gains, idx, **args)
    e, n = state.active.shape[0], mesh.devices.size
    pad = -e % n
    ext = lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)])  # noqa: E731
    state = jax.tree.map(ext, state)
    state = eqx.tree_at(lambda s: s.active, state, state.active.at[e:].set(False))
    cost, gains = ext(cost), ext(gains)
    m, rows = P(mesh.axis_names[0]), P(None, mesh.axis_names[0])
    split, same = NamedSharding(mesh, m), NamedSharding(mesh, P())
    state, cost, gains = jax.device_put((state, cost, gains), split)
    pool, idx, eval_x = jax.device_put((plan.pool, idx, plan.eval_x), same)

    def run(st, c, g, pool, idx, eval_x):
        return learn_chunk(learner, st, c, pool, g, idx, block=plan.block, eval_x=eval_x,
                           stop_rise=stop_rise)

    # members never interact: no collective; check_vma=False for the while-loop carries
    out = jax.shard_map(run, mesh=mesh, in_specs=(m, m, m, P(), P(), P()),
                        out_specs=ChunkResult(m, m, ChunkInfo(*(rows,) * 5)), check_vma=False)(
        state, cost, gains, pool, idx, eval_x)
    out = jax.tree.map(np.asarray, out)  # gathered to the host; the padding members dropped
    return ChunkResult(state=jax.tree.map(lambda a: jnp.asarray(a[:e]), out.state),
                       cost=jnp.asarray(out.cost[:e]),
                       blocks=jax.tree.map(lambda a: a[:, :e], out.blocks))


def _like(plan, meta, learner_state_of):
    """The PyTree a checkpoint at `meta` holds, as arrays of the right shapes and dtypes."""
    q, s = meta["phase"], meta["step"]
    dt = plan.pool.dtype

    def model(e):
        return nim.stack(plan.model, e)

    hist = {}
    for p in range(1, min(q, len(plan.phases)) + 1):
        done = plan.phases[p - 1].steps if p < q else s
        if done == 0:  # a phase without steps (or not begun) has no history
            continue
        b, c = done // plan.block, math.ceil(done / plan.chunk)  # blocks, ρ(K) logs so far
        e = plan.members(p)
        hist[str(p)] = {"objective": np.zeros((b, e), dt), "fp_steps": np.zeros((b, e), np.int32),
                        "sound": np.zeros((b, e), bool), "active": np.zeros((b, e), bool),
                        "cost": np.zeros((b, e), dt), "rho": np.zeros((c, e)),
                        "rho_step": np.zeros(c, np.int64)}
    running = q <= len(plan.phases) and s > 0
    return {"state": learner_state_of(q, model(plan.members(q))) if running else None,
            "cost": np.zeros(plan.members(q), dt) if running else None,
            "models": {str(p): model(plan.members(p)) for p in range(1, q)},
            "history": hist}


def run_phases(plan: Plan, *, key, config, profiles, run_dir: RunDirectory | None,
               resume: bool = False, progress=None, mesh=None) -> ProtocolResult:
    """Run (or resume, from `run_dir`'s newest checkpoint) every phase of `plan`; `progress(info)`
    after every chunk with a dict: phase, step, total, members, active, rho (per member),
    objective (the last block's, per member), elapsed_s, eta_s."""
    phases = plan.phases
    steps = tuple(ph.steps for ph in phases)
    Pn = plan.gains.shape[0]

    def init(q, model):
        return plan.learner(phases[q - 1]).init(model, plan.rates(q))

    meta = {"phase": 1, "step": 0}
    models = {0: nim.stack(plan.model, 1)}
    hist = {p: {k: [] for k in _HISTORY + ("rho", "rho_step")} for p in range(1, len(phases) + 1)}
    state = cost = None
    if resume:
        arrays, meta = run_dir.load()
        run_dir.check_meta(meta, steps)
        saved = decode(run_dir, arrays, _like(plan, meta, init))
        models |= {int(p): jax.tree.map(jnp.asarray, m) for p, m in saved["models"].items()}
        for p, h in saved["history"].items():
            hist[int(p)] = {k: [v] for k, v in h.items()}
        if saved["state"] is not None:
            state = jax.tree.map(jnp.asarray, saved["state"])
            cost = jnp.asarray(saved["cost"])

    t_wall = time.perf_counter()
    if run_dir is not None:
        run_dir.log_segment({"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                             "commit": code_commit(), "from": dict(meta)}, new=True)

    def save(diverged=None):
        if run_dir is None:
            return
        running = meta["phase"] <= len(phases) and meta["step"] > 0
        tree = {"state": state if running else None, "cost": cost if running else None,
                "models": {str(p): m for p, m in models.items() if p > 0},
                "history": {str(p): {k: np.concatenate(v) if v else np.zeros(0)
                                     for k, v in h.items()} for p, h in hist.items()
                            if any(len(v) for v in h.values())}}
        run_dir.save(encode(tree), dict(meta) | ({"diverged": diverged} if diverged else {}))
        run_dir.log_segment({"to": dict(meta), "wall_s": time.perf_counter() - t_wall}, new=False)

    weight = [plan.members(q) * ph.steps for q, ph in enumerate(phases, 1)]

    def member_steps():
        q = meta["phase"]
        return sum(weight[: q - 1]) + (plan.members(q) * meta["step"] if q <= len(phases) else 0)

    t0, m0 = time.perf_counter(), member_steps()
    while meta["phase"] <= len(phases):
        q = meta["phase"]
        ph = phases[q - 1]
        learner = plan.learner(ph)
        if meta["step"] == 0:  # entering the phase: its members from the previous phase's
            start = _fan_out(models[q - 1], plan.members(q), Pn)
            if ph.steps == 0:
                models[q] = start
                meta = {"phase": q + 1, "step": 0}
                continue
            state = learner.init(start, plan.rates(q))
            cost = (jnp.full(plan.members(q), jnp.nan, plan.pool.dtype) if plan.eval_x is None
                    else ensemble_cost(start.W, start.K, plan.eval_x, n_in=start.n_in).value)
        gains = plan.member_gains(q)
        pkey = jax.random.fold_in(key, q)
        h = hist[q]
        while meta["phase"] == q and meta["step"] < ph.steps:
            lo = meta["step"]
            hi = min(lo + plan.chunk, ph.steps)
            idx = plan.sample(pkey, lo, hi - lo)
            r = _chunk(learner, state, cost, plan, gains, idx,
                       plan.stop_rise if ph.early_stop else None, mesh)
            if not _finite(r.state.model):  # stop cleanly: keep (and save) the state before the chunk
                diverged = {"phase": q, "step": lo, "to": hi}
                save(diverged)
                return _result(plan, config, profiles, meta, models, hist, diverged)
            state, cost = r.state, r.cost
            for k in _HISTORY:
                h[k].append(np.asarray(getattr(r.blocks, k)))
            h["rho"].append(spectral_radii(state.model.K)[None])
            h["rho_step"].append(np.asarray([hi]))
            meta = {"phase": q, "step": hi}
            if hi == ph.steps:  # end of the phase: keep its networks
                models[q] = state.model
                meta = {"phase": q + 1, "step": 0}
            if hi % plan.checkpoint_every == 0 or hi == ph.steps:
                save()
            if progress is not None:
                elapsed = time.perf_counter() - t0
                frac = (member_steps() - m0) / max(sum(weight) - m0, 1)
                progress({"phase": q, "step": hi, "total": ph.steps, "members": plan.members(q),
                          "active": int(np.sum(np.asarray(state.active))),
                          "rho": h["rho"][-1][0], "objective": h["objective"][-1][-1],
                          "elapsed_s": elapsed,
                          "eta_s": elapsed / frac * (1 - frac) if frac > 0 else float("nan")})
    return _result(plan, config, profiles, meta, models, hist, None)


def _result(plan, config, profiles, meta, models, hist, diverged) -> ProtocolResult:
    history = {p: {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in h.items()}
               for p, h in hist.items()}
    return ProtocolResult(finished=diverged is None, phase=meta["phase"], step=meta["step"],
                          config=config, models=models, history=history, pool=plan.pool,
                          gains=plan.gains, profiles=profiles, penalties=plan.penalties,
                          eval_x=plan.eval_x, diverged=diverged)
