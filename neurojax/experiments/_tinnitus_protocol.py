r"""The tinnitus experiment's protocol (seed 000; Dotan & Shriki 2021), with checkpoints.

Phase 1 learns W only (K = 0) on tones; phase 2 learns K only on the same tones; phase 3 learns K
(and optionally W) on tones attenuated by a hearing-loss profile. Several profiles run phase 3 as one
vmapped computation from the same phase-2 network. Step `s` of phase `p` learns on the batch drawn
with `fold_in(fold_in(key, p), s)`, so a run split into chunks, interrupted and resumed from a
checkpoint, equals an uninterrupted run bitwise.
"""

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from .. import infomax as nim
from .._version import __version__
from ._checkpoint import RunDirectory
from ._config import Config, count, flag, number, setting, unit
from ._engine import Phase, Plan, ProtocolResult, run_phases


class TinnitusConfig(Config):
    """Sizes, phase lengths (learning steps of `batch_size` samples), rates and penalties.

    `ff_eta`, `rec_eta`: learning rates of W and K; `ff_l1`: L1 sign-decay of W; `rec_l2`: the L2
    penalty λ_K on K; `learn_W_attenuated`: also learn W in phase 3; `minval`: the gain of a lost
    channel; `penalties`: λ_K values of the ρ(K)-vs-λ_K sweep (None: 8 values around `rec_l2`).

    Presets: `small` (default sizes: 32 -> 64, a few minutes on 2 CPU cores) or `paper` (40 -> 400,
    η_W = 0.1, η_K = 0.001, λ_K = 0.226, one sample per step, phases of 50k / 1M / 1M steps as
    in Dotan & Shriki 2021; meant for a GPU). The paper's protocol as its authors run it
    (a fixed pool of 10⁶ samples, the cost evaluation and phase-3 early stop, the `band`
    profile, the λ_K sweep as one ensemble) is :func:`neurojax.experiments.run_paper`
    (`neurojax paper`).
    """

    PRESETS: ClassVar[dict] = {
        "small": {},
        "paper": dict(n_in=40, n_out=400, n_samples=100_000, batch_size=1, steps_W=50_000,
                      steps_K=1_000_000, steps_attenuated=1_000_000, rec_l2=0.226,
                      log_every=1000, checkpoint_every=50_000),
    }

    n_in: int = setting(32, count())
    n_out: int = setting(64, count())
    n_samples: int = setting(2000, count())
    batch_size: int = setting(16, count())
    steps_W: int = setting(1000, count(allow_zero=True))
    steps_K: int = setting(2000, count(allow_zero=True))
    steps_attenuated: int = setting(2000, count(allow_zero=True))
    ff_eta: float = setting(0.1, number(positive=True))
    rec_eta: float = setting(0.001, number(positive=True))
    ff_l1: float = setting(0.001, number(positive=False))
    rec_l2: float = setting(0.209, number(positive=False))
    learn_W_attenuated: bool = setting(False, flag)
    minval: float = setting(0.0, unit)
    log_every: int = setting(100, count())
    checkpoint_every: int = setting(1000, count())
    penalties: tuple | None = setting(
        None, converter=lambda v: None if v is None else tuple(float(p) for p in v))

    def _check_together(self):
        if self.steps_W + self.steps_K + self.steps_attenuated == 0:
            raise ValueError("TinnitusConfig.steps_W, steps_K, steps_attenuated: the phase plan "
                             "has no learning phase (all are 0)")
        if self.batch_size > self.n_samples:
            raise ValueError(f"TinnitusConfig.batch_size ({self.batch_size}) must be <= n_samples "
                             f"({self.n_samples})")
        if self.checkpoint_every % self.log_every:
            raise ValueError("TinnitusConfig.checkpoint_every must be a multiple of log_every")
        if self.penalties is not None and (len(self.penalties) == 0
                                           or any(not p >= 0 for p in self.penalties)):
            raise ValueError(f"TinnitusConfig.penalties must be values >= 0, got {self.penalties}")


class LearningDiverged(RuntimeError):
    """Raised by the experiment drivers when a protocol's learning diverged (non-finite weights);
    the run's checkpoint keeps the last finite state and the history before it."""


def profiles_of(profile) -> list:
    """`'all'` -> every named profile; a name -> [name]; a list of names -> the list; a gain
    vector -> [vector]."""
    if isinstance(profile, str):
        return list(nim.PROFILES) if profile == "all" else [profile]
    if isinstance(profile, (list, tuple)) and profile and all(isinstance(p, str) for p in profile):
        return list(profile)
    return [profile]


def run_protocol(config: TinnitusConfig, profile="baseline", *, key, checkpoint_dir=None,
                 resume: bool = False, overwrite: bool = False, progress=None,
                 dtype=None) -> ProtocolResult:
    """Run the three phases (the engine's batch preset: a :class:`~neurojax.infomax.BatchLearner`,
    `batch_size` distinct samples per step, one member per profile in phase 3); returns a
    :class:`ProtocolResult` (`models[p]` stacked over members: 1, 1, profiles; `history[p]`
    per step: `objective` (steps × members), and ρ(K) every `log_every` steps).

    `checkpoint_dir`: a :class:`RunDirectory` checkpointed (atomically) after each phase and every
    `checkpoint_every` steps. Its `run.json` records what determines the run: config, profiles,
    gains, key, dtype. A directory that already holds a run needs `resume=True` (continue from its
    newest checkpoint; the identity must agree, else ValueError naming the field) or
    `overwrite=True`; `resume=True` without a checkpoint is an error. `progress(info)` is called
    after every `log_every` steps with a dict (phase, step, total, members, active, rho,
    objective, elapsed_s, eta_s); an exception it raises stops the run (resume continues from the
    last checkpoint). If learning diverges (non-finite weights), the run stops with `diverged`
    set and the checkpoint holding the last finite state."""
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
    identity = {"config": config.to_json(), "profiles": names,
                "gains": np.asarray(gains, np.float64).tolist(),
                "key": np.asarray(jax.random.key_data(key)).tolist(), "dtype": str(data.dtype),
                "version": __version__, "protocol": "tinnitus-batches-2"}
    run_dir = None if checkpoint_dir is None else RunDirectory(
        checkpoint_dir, identity, resume=resume, overwrite=overwrite)

    def sample(pkey, lo, n):
        return nim.batch_indices(config.n_samples, config.batch_size, range(lo, lo + n), key=pkey)

    plan = Plan(phases=(Phase(config.steps_W, learn_W=True, learn_K=False),
                        Phase(config.steps_K, learn_W=False, learn_K=True, members="penalties"),
                        Phase(config.steps_attenuated, learn_W=config.learn_W_attenuated,
                              learn_K=True, members="profiles")),
                model=nim.RecurrentInfoMax.tonotopic(config.n_in, config.n_out, dtype=data.dtype),
                pool=data, gains=gains, penalties=(config.rec_l2,), ff_eta=config.ff_eta,
                ff_l1=config.ff_l1, rec_eta=config.rec_eta,
                learner=lambda ph: nim.BatchLearner(learn_W=ph.learn_W, learn_K=ph.learn_K),
                sample=sample, chunk=config.log_every, checkpoint_every=config.checkpoint_every,
                block=1)
    return run_phases(plan, key=key, config=config, profiles=names, run_dir=run_dir,
                      resume=resume, progress=progress)
