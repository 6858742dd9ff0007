r"""The tinnitus experiment's protocol (seed 000; Dotan & Shriki 2021), with checkpoints.

Phase 1 learns W only (K = 0) on tones; phase 2 learns K only on the same tones; phase 3 learns K
(and optionally W) on tones attenuated by a hearing-loss profile. Several profiles run phase 3 as one
vmapped computation from the same phase-2 network. Step `s` of phase `p` learns on the batch drawn
with `fold_in(fold_in(key, p), s)`, so a run split into chunks, interrupted and resumed from a
checkpoint, equals an uninterrupted run bitwise.
"""

import dataclasses
import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import infomax as nim

PHASES = (1, 2, 3)


@dataclasses.dataclass(frozen=True)
class TinnitusConfig:
    """Sizes, phase lengths (learning steps of `batch_size` samples), rates and penalties.

    `ff_eta`, `rec_eta`: learning rates of W and K; `ff_l1`: L1 sign-decay of W; `rec_l2`: the L2
    penalty λ_K on K; `learn_W_attenuated`: also learn W in phase 3; `minval`: the gain of a lost
    channel; `penalties`: λ_K values of the ρ(K)-vs-λ_K sweep (None: 8 values around `rec_l2`).
    """

    n_in: int = 32
    n_out: int = 64
    n_samples: int = 2000
    batch_size: int = 16
    steps_W: int = 1000
    steps_K: int = 2000
    steps_attenuated: int = 2000
    ff_eta: float = 0.1
    rec_eta: float = 0.001
    ff_l1: float = 0.001
    rec_l2: float = 0.209
    learn_W_attenuated: bool = False
    minval: float = 0.0
    log_every: int = 100
    checkpoint_every: int = 1000
    penalties: tuple | None = None

    def __post_init__(self):
        for name in ("n_in", "n_out", "n_samples", "batch_size", "log_every", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"TinnitusConfig.{name} must be a positive integer, got {v!r}")
        for name in ("steps_W", "steps_K", "steps_attenuated"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"TinnitusConfig.{name} must be an integer >= 0, got {v!r}")
        for name in ("ff_eta", "rec_eta", "ff_l1", "rec_l2"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ValueError(f"TinnitusConfig.{name} must be a finite number >= 0, got {v!r}")
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
        return dataclasses.asdict(self) | {"penalties": None if self.penalties is None
                                           else list(self.penalties)}


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
    """`learn_steps` vmapped over a leading profile axis (models, optimizer states, data); LU solves
    (an "auto" choice would be a cond batched over profiles, running both paths)."""
    run = lambda m, s, x: nim.learn_steps(m, s, x, idx, optimizer, linear_solver="lu")  # noqa: E731
    return jax.vmap(run)(models, states, xs)


def _stack(tree, n):
    return jax.tree.map(lambda v: jnp.broadcast_to(v, (n,) + v.shape), tree)


def take(tree, i):
    """Entry `i` of a PyTree stacked over a leading (profile) axis."""
    return jax.tree.map(lambda v: v[i], tree)


class _Checkpoint:
    """`state.eqx` (models and optimizer states, `eqx.tree_serialise_leaves`) + `state.json`
    (config, profiles, phase, step, history), plus the end-of-phase models; `directory=None`
    keeps nothing."""

    def __init__(self, directory):
        self.dir = None if directory is None else Path(directory)
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)

    def save(self, meta, models, states):
        if self.dir is None:
            return
        eqx.tree_serialise_leaves(self.dir / "state.tmp.eqx", (models, states))
        (self.dir / "state.tmp.json").write_text(json.dumps(meta))
        (self.dir / "state.tmp.eqx").replace(self.dir / "state.eqx")  # atomic: never half-written
        (self.dir / "state.tmp.json").replace(self.dir / "state.json")

    def load(self):
        if self.dir is None or not (self.dir / "state.json").exists():
            return None
        return json.loads((self.dir / "state.json").read_text())

    def load_arrays(self, like):
        return eqx.tree_deserialise_leaves(self.dir / "state.eqx", like)

    def save_snapshot(self, phase, model):
        """The model(s) at the end of `phase` (`phase<k>.eqx`), kept for the measures."""
        if self.dir is not None:
            eqx.tree_serialise_leaves(self.dir / f"phase{phase}.eqx", model)

    def load_snapshots(self, model, n_profiles):
        out = {0: model}
        for phase in PHASES:
            path = self.dir / f"phase{phase}.eqx"
            if path.exists():
                like = _stack(model, n_profiles) if phase == 3 else model
                out[phase] = eqx.tree_deserialise_leaves(path, like)
        return out


def run_protocol(config: TinnitusConfig, profile="baseline", *, key, checkpoint_dir=None,
                 resume: bool = False, stop_after: int | None = None, progress=None,
                 dtype=None) -> dict:
    """Run the three phases; returns `models` ({phase: model (stacked over profiles in phase 3)}),
    `data`, `gains` (profiles × n_in), `history` (per-step objective, per-log ρ(K) per phase).

    `checkpoint_dir`: checkpoint after each phase and every `checkpoint_every` steps; `resume=True`
    continues from the last checkpoint there (same config and profiles required). `stop_after`
    (steps in total) interrupts the run after that many steps (for testing resumption).
    `progress(phase, step, total, objective, rho)` is called after each logged chunk."""
    if not isinstance(config, TinnitusConfig):
        raise TypeError(f"`config` must be a TinnitusConfig, got {type(config).__name__}")
    profs = profiles_of(profile)
    gains = jnp.stack([nim.hearing_loss(p, config.n_in, minval=config.minval) for p in profs])
    names = [p if isinstance(p, str) else "custom" for p in profs]
    data = nim.tones(jax.random.fold_in(key, 0), config.n_in, config.n_samples)
    if dtype is not None:
        data, gains = data.astype(dtype), gains.astype(dtype)
    data_att = jax.vmap(nim.attenuate, (None, 0))(data, gains)
    P = len(profs)
    ckpt = _Checkpoint(checkpoint_dir)
    meta = {"config": config.to_json(), "profiles": names, "gains": np.asarray(gains).tolist(),
            "phase": 1, "step": 0, "history": {str(p): {"objective": [], "rho_step": [], "rho": []}
                                               for p in PHASES}}
    model = nim.RecurrentInfoMax.tonotopic(config.n_in, config.n_out, dtype=data.dtype)
    models = _stack(model, 1)
    states = _stack(config.optimizer(1).init(eqx.filter(model, eqx.is_array)), 1)
    snapshots = {0: model}
    saved = ckpt.load() if resume else None
    if saved is not None:
        if saved["config"] != meta["config"] or saved["profiles"] != names or \
                saved["gains"] != meta["gains"]:
            raise ValueError("resume: the checkpoint in checkpoint_dir was made with another "
                             "config or profile")
        meta = saved
        # the phase whose models/states were saved: at step 0 of a phase, the previous one's
        phase_saved = meta["phase"] if meta["step"] > 0 else meta["phase"] - 1
        n = P if phase_saved == 3 else 1
        like_states = config.optimizer(phase_saved).init(eqx.filter(model, eqx.is_array))
        models, states = ckpt.load_arrays((_stack(model, n), _stack(like_states, n)))
        snapshots = ckpt.load_snapshots(model, P)
    done_total = 0
    for phase in PHASES:
        if phase < meta["phase"]:
            done_total += config.steps(phase)
            continue
        opt = config.optimizer(phase)
        if meta["step"] == 0:  # entering the phase: new optimizer state; phase 3 fans out
            if phase == 3:
                models = _stack(take(models, 0), P)
            states = _stack(opt.init(eqx.filter(take(models, 0), eqx.is_array)),
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
                    return {"interrupted": True, "meta": meta}
            idx = nim.batch_indices(pkey, config.n_samples, config.batch_size, range(lo, hi))
            models, states, out = _learn(models, states, xs, idx, opt)
            hist["objective"].extend(np.asarray(out["objective"]).T.tolist())  # steps x profiles
            rhos = np.asarray(jax.vmap(nim.rho)(models.K)).tolist()
            hist["rho_step"].append(hi)
            hist["rho"].append(rhos)
            done_total += hi - lo
            lo = hi
            meta["step"] = lo
            if progress is not None:
                progress(phase, lo, total, float(np.mean(out["objective"][..., -1])), rhos)
            if lo % config.checkpoint_every == 0 and lo < total:
                ckpt.save(meta, models, states)
        snapshots[phase] = models if phase == 3 else take(models, 0)
        meta["phase"], meta["step"] = phase + 1, 0
        ckpt.save_snapshot(phase, snapshots[phase])
        ckpt.save(meta, models, states)
    return {"interrupted": False, "models": snapshots, "data": data, "data_attenuated": data_att,
            "gains": gains, "profiles": names, "history": meta["history"]}

