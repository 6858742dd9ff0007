r"""The tinnitus experiment's protocol (seed 000; Dotan & Shriki 2021), with checkpoints.

Phase 1 learns W only (K = 0) on tones; phase 2 learns K only on the same tones; phase 3 learns K
(and optionally W) on tones attenuated by a hearing-loss profile. Several profiles run phase 3 as one
vmapped computation from the same phase-2 network. Step `s` of phase `p` learns on the batch drawn
with `fold_in(fold_in(key, p), s)`, so a run split into chunks, interrupted and resumed from a
checkpoint, equals an uninterrupted run bitwise.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import infomax as nim
from .._version import __version__
from ._checkpoint import RunDirectory

PHASES = (1, 2, 3)


def _positive_int(name, v, allow_zero=False):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (0 if allow_zero else 1):
        raise ValueError(f"TinnitusConfig.{name} must be an integer {'>= 0' if allow_zero else '> 0'}"
                         f", got {v!r}")


class TinnitusConfig(eqx.Module):
    """Sizes, phase lengths (learning steps of `batch_size` samples), rates and penalties.

    `ff_eta`, `rec_eta`: learning rates of W and K; `ff_l1`: L1 sign-decay of W; `rec_l2`: the L2
    penalty λ_K on K; `learn_W_attenuated`: also learn W in phase 3; `minval`: the gain of a lost
    channel; `penalties`: λ_K values of the ρ(K)-vs-λ_K sweep (None: 8 values around `rec_l2`).
    All fields are static (a config is hashable and never traced); checks in `__check_init__`.
    """

    n_in: int = eqx.field(static=True, default=32)
    n_out: int = eqx.field(static=True, default=64)
    n_samples: int = eqx.field(static=True, default=2000)
    batch_size: int = eqx.field(static=True, default=16)
    steps_W: int = eqx.field(static=True, default=1000)
    steps_K: int = eqx.field(static=True, default=2000)
    steps_attenuated: int = eqx.field(static=True, default=2000)
    ff_eta: float = eqx.field(static=True, default=0.1)
    rec_eta: float = eqx.field(static=True, default=0.001)
    ff_l1: float = eqx.field(static=True, default=0.001)
    rec_l2: float = eqx.field(static=True, default=0.209)
    learn_W_attenuated: bool = eqx.field(static=True, default=False)
    minval: float = eqx.field(static=True, default=0.0)
    log_every: int = eqx.field(static=True, default=100)
    checkpoint_every: int = eqx.field(static=True, default=1000)
    penalties: tuple | None = eqx.field(
        static=True, default=None, converter=lambda v: None if v is None else tuple(float(p) for p in v))

    def __check_init__(self):
        for name in ("n_in", "n_out", "n_samples", "batch_size", "log_every", "checkpoint_every"):
            _positive_int(name, getattr(self, name))
        for name in ("steps_W", "steps_K", "steps_attenuated"):
            _positive_int(name, getattr(self, name), allow_zero=True)
        if self.steps_W + self.steps_K + self.steps_attenuated == 0:
            raise ValueError("TinnitusConfig.steps_W, steps_K, steps_attenuated: the phase plan "
                             "has no learning phase (all are 0)")
        for name, rate in (("ff_eta", True), ("rec_eta", True), ("ff_l1", False),
                           ("rec_l2", False)):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0 and (v > 0 or not rate)):
                what = "> 0 (a learning rate)" if rate else ">= 0"
                raise ValueError(f"TinnitusConfig.{name} must be a finite number {what}, got {v!r}")
        if not isinstance(self.learn_W_attenuated, (bool, np.bool_)):
            raise TypeError(f"TinnitusConfig.learn_W_attenuated must be a bool, got "
                            f"{self.learn_W_attenuated!r}")
        if not 0 <= self.minval <= 1:
            raise ValueError(f"TinnitusConfig.minval must be in [0, 1], got {self.minval!r}")
        if self.batch_size > self.n_samples:
            raise ValueError(f"TinnitusConfig.batch_size ({self.batch_size}) must be <= n_samples "
                             f"({self.n_samples})")
        if self.checkpoint_every % self.log_every:
            raise ValueError("TinnitusConfig.checkpoint_every must be a multiple of log_every")
        if self.penalties is not None and (len(self.penalties) == 0
                                           or any(not p >= 0 for p in self.penalties)):
            raise ValueError(f"TinnitusConfig.penalties must be values >= 0, got {self.penalties}")

    @classmethod
    def preset(cls, name: str, **overrides) -> "TinnitusConfig":
        """`small` (default sizes: 32 -> 64, a few minutes on 2 CPU cores) or `paper` (40 -> 400,
        η_W = 0.1, η_K = 0.001, λ_K = 0.226, one sample per step, phases of 50k / 1M / 1M steps as
        in Dotan & Shriki 2021; meant for a GPU). The paper's protocol as its authors run it
        (a fixed pool of 10⁶ samples, the cost evaluation and phase-3 early stop, the `band`
        profile, the λ_K sweep as one ensemble) is :func:`neurojax.experiments.run_paper`
        (`neurojax paper`)."""
        presets = {
            "small": {},
            "paper": dict(n_in=40, n_out=400, n_samples=100_000, batch_size=1, steps_W=50_000,
                          steps_K=1_000_000, steps_attenuated=1_000_000, rec_l2=0.226,
                          log_every=1000, checkpoint_every=50_000),
        }
        if name not in presets:
            raise ValueError(f"preset must be one of {sorted(presets)}, got {name!r}")
        return cls(**(presets[name] | overrides))

    def steps(self, phase: int) -> int:
        return {1: self.steps_W, 2: self.steps_K, 3: self.steps_attenuated}[phase]

    def optimizer(self, phase: int):
        return nim.infomax_optimizer(
            ff_eta=self.ff_eta, rec_eta=self.rec_eta, ff_l1=self.ff_l1, rec_l2=self.rec_l2,
            learn_W=phase == 1 or (phase == 3 and self.learn_W_attenuated), learn_K=phase > 1)

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return out | {"penalties": None if self.penalties is None else list(self.penalties)}


class TinnitusResult(eqx.Module):
    """Result of :func:`run_protocol`. `interrupted`: stopped by `stop_after` (then only `meta`, the
    checkpoint metadata, is set and the other fields are None); `models`: {phase: model} (phase 0:
    the initial network; phase 3 stacked over profiles); `data`, `data_attenuated` (profiles ×
    samples × n_in), `gains` (profiles × n_in), `profiles` (names); `history`: per phase, the
    per-step objective and the per-log ρ(K). `diverged`: None, or where learning diverged
    (`phase`, `step` — the chunk's first step, the state saved — and `to`, its end); then the run
    stopped there, `interrupted` is True and the checkpoint holds the last finite state."""

    interrupted: bool = eqx.field(static=True)
    meta: dict
    models: dict | None = None
    data: jax.Array | None = None
    data_attenuated: jax.Array | None = None
    gains: jax.Array | None = None
    profiles: list | None = eqx.field(static=True, default=None, converter=lambda v: v if v is None else tuple(v))
    history: dict | None = None
    diverged: dict | None = None


class LearningDiverged(RuntimeError):
    """Raised by the experiment drivers when a protocol's learning diverged (non-finite weights);
    the run's checkpoint keeps the last finite state and the history before it."""


def _finite(models) -> bool:
    return all(bool(jnp.all(jnp.isfinite(a)))
               for a in jax.tree.leaves(eqx.filter(models, eqx.is_inexact_array)))


def profiles_of(profile) -> list:
    """`'all'` -> every named profile; a name -> [name]; a list of names -> the list; a gain
    vector -> [vector]."""
    if isinstance(profile, str):
        return list(nim.PROFILES) if profile == "all" else [profile]
    if isinstance(profile, (list, tuple)) and profile and all(isinstance(p, str) for p in profile):
        return list(profile)
    return [profile]


@eqx.filter_jit
def _learn(models, states, xs, idx, optimizer):
    return nim.ensemble_learn(models, states, xs, idx, optimizer)


class _Checkpoints:
    """The protocol's state in a :class:`RunDirectory` (one atomic checkpoint per save): the models
    and optimizer states in progress, the end-of-phase models so far, and the metadata (phase, step,
    history). `directory=None` keeps nothing."""

    def __init__(self, directory, identity, *, resume, overwrite):
        self.run = None if directory is None else RunDirectory(directory, identity, resume=resume,
                                                               overwrite=overwrite)

    def save(self, meta, models, states, snapshots):
        if self.run is None:
            return
        arrays = {f"s{i}": np.asarray(v) for i, v in enumerate(jax.tree.leaves((models, states)))}
        for phase, m in snapshots.items():
            arrays |= {f"p{phase}_{i}": np.asarray(v) for i, v in enumerate(jax.tree.leaves(m))}
        self.run.save(arrays, meta)

    def restore(self, arrays, like_state, like_snapshots):
        """`((models, states), snapshots)` from checkpoint arrays, shaped like the given PyTrees
        (`like_snapshots`: {phase: model}; only the phases present are restored). An array that
        is missing or of another shape is a ValueError naming the file and the array."""
        def fill(like, prefix):
            leaves, tree = jax.tree.flatten(like)
            self.run.check_arrays(arrays, {f"{prefix}{i}": jnp.shape(v)
                                           for i, v in enumerate(leaves)})
            return jax.tree.unflatten(tree, [jnp.asarray(arrays[f"{prefix}{i}"], v.dtype)
                                             for i, v in enumerate(leaves)])

        snaps = {p: fill(m, f"p{p}_") for p, m in like_snapshots.items() if f"p{p}_0" in arrays}
        return fill(like_state, "s"), snaps


def _finished(snapshots):
    return {p: m for p, m in snapshots.items() if p > 0}


def run_protocol(config: TinnitusConfig, profile="baseline", *, key, checkpoint_dir=None,
                 resume: bool = False, overwrite: bool = False, stop_after: int | None = None,
                 progress=None, dtype=None) -> TinnitusResult:
    """Run the three phases; returns a :class:`TinnitusResult`.

    `checkpoint_dir`: a :class:`RunDirectory` checkpointed (atomically) after each phase and every
    `checkpoint_every` steps. Its `run.json` records what determines the run: config, profiles,
    gains, key, dtype. A directory that already holds a run needs `resume=True` (continue from its
    newest checkpoint; the identity must agree, else ValueError naming the field) or
    `overwrite=True`; `resume=True` without a checkpoint is an error. `stop_after` (steps in total)
    interrupts the run after that many steps (for testing resumption).
    `progress(phase, step, total, objective, rho)` is called after each logged chunk."""
    if not isinstance(config, TinnitusConfig):
        raise TypeError(f"`config` must be a TinnitusConfig, got {type(config).__name__}")
    if resume and checkpoint_dir is None:
        raise ValueError("`resume=True` needs `checkpoint_dir` (the run directory to continue)")
    profs = profiles_of(profile)
    gains = jnp.stack([nim.hearing_loss(p, config.n_in, minval=config.minval) for p in profs])
    names = [p if isinstance(p, str) else "custom" for p in profs]
    data = nim.tones(config.n_in, config.n_samples, key=jax.random.fold_in(key, 0))
    if dtype is not None:
        data, gains = data.astype(dtype), gains.astype(dtype)
    data_att = jax.vmap(nim.attenuate, (None, 0))(data, gains)
    P = len(profs)
    identity = {"config": config.to_json(), "profiles": names,
                "gains": np.asarray(gains, np.float64).tolist(),
                "key": np.asarray(jax.random.key_data(key)).tolist(), "dtype": str(data.dtype),
                "version": __version__, "protocol": "tinnitus-batches-1"}
    ckpt = _Checkpoints(checkpoint_dir, identity, resume=resume, overwrite=overwrite)
    meta = {"phase": 1, "step": 0, "history": {str(p): {"objective": [], "rho_step": [], "rho": []}
                                               for p in PHASES}}
    model = nim.RecurrentInfoMax.tonotopic(config.n_in, config.n_out, dtype=data.dtype)
    models = nim.stack(model, 1)
    states = nim.stack(config.optimizer(1).init(eqx.filter(model, eqx.is_array)), 1)
    snapshots = {0: model}
    if resume:
        arrays, meta = ckpt.run.load()  # ValueError naming a file it cannot read
        ckpt.run.check_meta(meta, tuple(config.steps(p) for p in PHASES))
        # the phase whose models/states were saved: at step 0 of a phase, the previous one's
        phase_saved = meta["phase"] if meta["step"] > 0 else meta["phase"] - 1
        n = P if phase_saved == 3 else 1
        like_states = config.optimizer(phase_saved).init(eqx.filter(model, eqx.is_array))
        like_snaps = {p: nim.stack(model, P) if p == 3 else model for p in PHASES}
        (models, states), snaps = ckpt.restore(
            arrays, (nim.stack(model, n), nim.stack(like_states, n)), like_snaps)
        snapshots |= snaps
    done_total = 0
    for phase in PHASES:
        if phase < meta["phase"]:
            done_total += config.steps(phase)
            continue
        opt = config.optimizer(phase)
        if meta["step"] == 0:  # entering the phase: new optimizer state; phase 3 fans out
            if phase == 3:
                models = nim.stack(nim.take(models, 0), P)
            states = nim.stack(opt.init(eqx.filter(nim.take(models, 0), eqx.is_array)),
                            P if phase == 3 else 1)
        xs = data_att if phase == 3 else data[None]
        pkey = jax.random.fold_in(key, phase)
        total = config.steps(phase)
        hist = meta["history"][str(phase)]
        lo = meta["step"]
        done_total += lo
        while lo < total:
            hi = min(lo + config.log_every, total)
            if stop_after is not None:
                hi = min(hi, lo + max(stop_after - done_total, 0))
                if hi == lo:
                    return TinnitusResult(interrupted=True, meta=meta)
            idx = nim.batch_indices(config.n_samples, config.batch_size, range(lo, hi), key=pkey)
            r = _learn(models, states, xs, idx, opt)
            if not _finite(r.model):  # stop cleanly: keep (and save) the state before the chunk
                meta["diverged"] = {"phase": phase, "step": lo, "to": hi}
                ckpt.save(meta, models, states, _finished(snapshots))
                return TinnitusResult(interrupted=True, meta=meta, history=meta["history"],
                                      diverged=meta["diverged"])
            models, states, objective = r.model, r.opt_state, np.asarray(r.stats.objective)
            hist["objective"].extend(objective.T.tolist())  # steps x profiles
            rhos = np.asarray(jax.vmap(nim.rho)(models.K)).tolist()
            hist["rho_step"].append(hi)
            hist["rho"].append(rhos)
            done_total += hi - lo
            lo = hi
            meta["step"] = lo
            if progress is not None:
                progress(phase, lo, total, float(np.mean(objective[..., -1])), rhos)
            if lo % config.checkpoint_every == 0 and lo < total:
                ckpt.save(meta, models, states, _finished(snapshots))
        snapshots[phase] = models if phase == 3 else nim.take(models, 0)
        meta["phase"], meta["step"] = phase + 1, 0
        ckpt.save(meta, models, states, _finished(snapshots))
    return TinnitusResult(interrupted=False, meta=meta, models=snapshots, data=data,
                          data_attenuated=data_att, gains=gains, profiles=names,
                          history=meta["history"])

