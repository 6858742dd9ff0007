r"""The protocol of Dotan & Shriki (2021) as its authors' code runs it, as one ensemble program.

ONE sample per step, drawn at random from a fixed pool; phase 1 learns W (K = 0), phase 2 learns K,
phase 3 learns K on inputs attenuated by a hearing-loss profile, stopping early when the cost
rises by more than `stop_rise` between two evaluations (docs/paper.md, "The protocol"). Every λ_K
value of the sweep is a member of one ensemble in phase 2, every (profile, λ_K) pair in phase 3,
so the whole sweep is one jitted, chunked scan (:func:`neurojax.infomax.online_run`).

Phase 1 does not depend on λ_K, so it runs once. Step `s` of phase `p` learns on pool sample
`randint(fold_in(fold_in(key, p), s))`, the same for every member (common random numbers), so a
sweep equals separate runs per λ_K, and a run interrupted and resumed from its checkpoint equals an
uninterrupted one bitwise.
"""

import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from .. import infomax as nim
from .._version import __version__
from ..parallel import mesh_axis
from ._checkpoint import RunDirectory

PAPER_PENALTIES = (0.1, 0.15, 0.17, 0.18, 0.182, 0.185, 0.19, 0.20, 0.21, 0.22, 0.225, 0.2255,
                   0.226, 0.227, 0.228, 0.23, 0.25, 0.3)
PAPER_PROFILES = ("baseline", "shifted", "soft", "band", "low")


class PaperConfig(eqx.Module):
    """The protocol's sizes, phase lengths, rates and penalties (defaults: the paper's).

    `pool_size`: the fixed pool of pre-generated samples (paper 10⁶); `steps`: phase lengths in
    single-sample steps; `penalties`: the λ_K values swept; `profiles`: hearing-loss profiles of
    phase 3 (:func:`neurojax.infomax.hearing_loss`); `eval_every`, `n_eval`: the cost is evaluated
    every `eval_every` steps on the first `n_eval` (unattenuated) pool samples; `stop_rise`: phase-3
    early stop; `chunk`: steps per jitted call, checkpoint and ρ(K) log (a multiple of
    `eval_every`); `dtype`: of learning (`float32` or `float64`).
    """

    n_in: int = eqx.field(static=True, default=40)
    n_out: int = eqx.field(static=True, default=400)
    pool_size: int = eqx.field(static=True, default=1_000_000)
    steps: tuple = eqx.field(static=True, default=(50_000, 1_000_000, 1_000_000), converter=tuple)
    ff_eta: float = eqx.field(static=True, default=0.1)
    ff_l1: float = eqx.field(static=True, default=0.001)
    rec_eta: float = eqx.field(static=True, default=0.001)
    penalties: tuple = eqx.field(static=True, default=PAPER_PENALTIES,
                                 converter=lambda v: tuple(float(p) for p in v))
    profiles: tuple = eqx.field(static=True, default=PAPER_PROFILES,
                                converter=lambda v: (v,) if isinstance(v, str) else tuple(v))
    eval_every: int = eqx.field(static=True, default=100)
    n_eval: int = eqx.field(static=True, default=10)
    stop_rise: float = eqx.field(static=True, default=100.0)
    chunk: int = eqx.field(static=True, default=10_000)
    dtype: str = eqx.field(static=True, default="float32")

    def __check_init__(self):
        for name in ("n_in", "n_out", "pool_size", "eval_every", "n_eval", "chunk"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"PaperConfig.{name} must be a positive integer, got {v!r}")
        if len(self.steps) != 3 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                                       or s < 0 for s in self.steps):
            raise ValueError(f"PaperConfig.steps must be 3 integers >= 0, got {self.steps!r}")
        if sum(self.steps) == 0:
            raise ValueError("PaperConfig.steps: the phase plan has no learning phase (all three "
                             "phases have 0 steps)")
        for name, low in (("ff_eta", 0), ("rec_eta", 0), ("ff_l1", None), ("stop_rise", None)):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0
                    and (low is None or v > low)):
                what = "> 0 (a learning rate)" if low is not None else ">= 0"
                raise ValueError(f"PaperConfig.{name} must be a finite number {what}, got {v!r}")
        if len(self.penalties) == 0 or any(not (np.isfinite(p) and p > 0) for p in self.penalties):
            raise ValueError(f"PaperConfig.penalties (λ_K) must be finite values > 0, got "
                             f"{self.penalties!r}")
        if len(self.profiles) == 0:
            raise ValueError("PaperConfig.profiles must name at least one profile")
        for p in self.profiles:
            if p not in nim.PROFILES:
                raise ValueError(f"PaperConfig.profiles: unknown profile {p!r} "
                                 f"(one of {list(nim.PROFILES)})")
        if self.n_eval > self.pool_size:
            raise ValueError(f"PaperConfig.n_eval ({self.n_eval}) must be <= pool_size "
                             f"({self.pool_size})")
        if self.chunk % self.eval_every or any(s % self.eval_every for s in self.steps):
            raise ValueError("PaperConfig.chunk and every phase length (steps) must be multiples "
                             "of eval_every")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"PaperConfig.dtype must be 'float32' or 'float64', got {self.dtype!r}")

    @classmethod
    def preset(cls, name: str, **overrides) -> "PaperConfig":
        """`paper` (40 -> 400, the 18 λ_K values, five profiles), `reduced` (40 -> 80, full
        protocol length, λ_K chosen where ρ(K) crosses 4 at that size: see the README), `tiny`
        (tests)."""
        presets = {
            "paper": {},
            "reduced": dict(n_out=80, penalties=REDUCED_PENALTIES),
            "tiny": dict(n_in=8, n_out=12, pool_size=500, steps=(200, 400, 400),
                         penalties=(0.05, 0.2), profiles=("baseline", "low"), eval_every=20,
                         n_eval=4, chunk=100, rec_eta=0.01, stop_rise=100.0),
        }
        if name not in presets:
            raise ValueError(f"`preset` must be one of {sorted(presets)}, got {name!r}")
        return cls(**(presets[name] | overrides))

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in ((f, getattr(self, f)) for f in self.__dataclass_fields__)}


# 40 -> 80: rho(K) = 3.2 at 0.1 and 0.85 at 0.2 after 10^6 phase-2 steps (measured when issue 18 was
# filed), so the crossing of 4 lies below 0.1; dense from 0.03 to 0.1, two values above
REDUCED_PENALTIES = (0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.12, 0.15)


class PaperResult(eqx.Module):
    """Result of :func:`run_paper`. `interrupted`: stopped by `stop_after` at (`phase`, `step`);
    then the arrays are None. Else (`phase` 4): `snapshots` (dict of NumPy arrays `W1`, `K1`,
    `W2`, `K2`, `W3`, `K3`), `history` ({phase: dict of NumPy arrays}), the sample `pool`, the
    profile `gains` and the cost samples `eval_x`."""

    interrupted: bool = eqx.field(static=True)
    phase: int = eqx.field(static=True)
    step: int = eqx.field(static=True)
    config: PaperConfig
    snapshots: dict | None = None
    history: dict | None = None
    pool: jax.Array | None = None
    gains: jax.Array | None = None
    eval_x: jax.Array | None = None


def _jnp_dtype(config):
    return jnp.float64 if config.dtype == "float64" else jnp.float32


def pool_and_gains(config: PaperConfig, key):
    """The fixed sample pool (pool_size × n_in, seed 000's generator, drawn in float32 so that
    float32 and float64 runs see the same samples) and the profiles' gains."""
    dt = _jnp_dtype(config)
    # drawn in float32 whatever the dtype: a float64 run learns on the same samples
    pool = nim.tones(config.n_in, config.pool_size,
                     dtype=jnp.float32, key=jax.random.fold_in(key, 0)).astype(dt)
    gains = jnp.stack([nim.hearing_loss(p, config.n_in) for p in config.profiles]).astype(dt)
    return pool, gains


@eqx.filter_jit
def _chunk(W, K, active, cost, pool, gains, eval_x, rates, pkey, lo, n_steps, n_in, learn_W,
           learn_K, eval_every, stop_rise, mesh):
    s = lo + jnp.arange(n_steps)
    idx = jax.vmap(lambda t: jax.random.randint(jax.random.fold_in(pkey, t), (), 0,
                                                pool.shape[0]))(s)

    def run(W, K, active, cost, pool, gains, idx, eval_x, rates):
        return nim.online_run(W, K, active, cost, pool, gains, idx, eval_x, rates, n_in=n_in,
                              learn_W=learn_W, learn_K=learn_K, eval_every=eval_every,
                              stop_rise=stop_rise)

    args = (W, K, active, cost, pool, gains, idx, eval_x, rates)
    if mesh is None:
        return run(*args)
    m, rows = P(mesh.axis_names[0]), P(None, mesh.axis_names[0])
    in_specs = (m, m, m, m, P(), m, P(), P(), nim.OnlineRates(m, m, m, m))
    out_specs = nim.OnlineChunk(W=m, K=m, active=m, cost=m, costs=rows, fp_steps=rows, sound=rows,
                                actives=rows)
    # members are independent: no collective; check_vma=False for the while-loop carries
    return jax.shard_map(run, mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                         check_vma=False)(*args)


def _sharded_chunk(mesh, W, K, active, cost, gains, rates, *rest):
    """`_chunk` with the members padded to a multiple of the mesh size (padding members are
    copies of the last one, inactive, and dropped from the result)."""
    E = W.shape[0]
    n = 1 if mesh is None else mesh.devices.size
    pad = -E % n
    if pad:
        ext = lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)])  # noqa: E731
        W, K, cost, gains = ext(W), ext(K), ext(cost), ext(gains)
        active = jnp.concatenate([active, jnp.zeros(pad, bool)])
        rates = jax.tree.map(ext, rates)
    pool, eval_x, pkey, lo = rest[:4]
    if mesh is not None:
        from jax.sharding import NamedSharding

        split = NamedSharding(mesh, P(mesh.axis_names[0]))
        W, K, active, cost, gains, rates = jax.device_put((W, K, active, cost, gains, rates), split)
        pool, eval_x, pkey, lo = jax.device_put((pool, eval_x, pkey, lo), NamedSharding(mesh, P()))
    res = _chunk(W, K, active, cost, pool, gains, eval_x, rates, pkey, lo, *rest[4:], mesh)
    if mesh is not None:  # gathered to the host (also drops the padding members)
        res = jax.tree.map(np.asarray, res)
        res = nim.OnlineChunk(W=res.W[:E], K=res.K[:E], active=res.active[:E], cost=res.cost[:E],
                              costs=res.costs[:, :E], fp_steps=res.fp_steps[:, :E],
                              sound=res.sound[:, :E], actives=res.actives[:, :E])
    return res


def _expected_arrays(config, meta, arrays) -> dict:
    """{name: shape} a checkpoint of `config` must hold at `meta`'s phase and step (the members
    per phase: 1, then one per λ_K, then one per λ_K and profile)."""
    L, P = len(config.penalties), len(config.profiles)
    members = {0: 1, 1: 1, 2: L, 3: L * P, 4: L * P}
    n, n_w = config.n_out, config.n_in + 1
    phase = meta["phase"]
    saved = phase if meta["step"] > 0 else phase - 1  # the phase whose networks `W`, `K` are
    e = members[saved]
    out = {"W": (e, n, n_w), "K": (e, n, n), "active": (e,),
           "cost": (e,) if arrays.get("cost", np.zeros(0)).size else (0,)}
    for p in range(1, min(phase, 4)):  # finished phases: their networks
        out |= {f"snap_W{p}": (members[p], n, n_w), f"snap_K{p}": (members[p], n, n)}
    for p in (1, 2, 3):
        for k in ("cost", "fp_steps", "sound", "active", "rho"):
            if f"h{p}_{k}" in arrays:
                out[f"h{p}_{k}"] = (None, members[p])
    return out


def _rates(config, penalties, dt):
    E = len(penalties)
    c = lambda v: jnp.full(E, v, dt)  # noqa: E731
    return nim.OnlineRates(ff_eta=c(config.ff_eta), ff_l1=c(config.ff_l1),
                           rec_eta=c(config.rec_eta), rec_l2=jnp.asarray(penalties, dt))


def spectral_radii(K):
    """ρ(K) of each matrix of a stack, on the host in float64 (for logs and summaries)."""
    return np.max(np.abs(np.linalg.eigvals(np.asarray(K, np.float64))), axis=-1)


def run_paper(config: PaperConfig, *, seed: int, out=None, resume: bool = False,
              overwrite: bool = False, stop_after: int | None = None, progress=None,
              mesh=None) -> "PaperResult":
    """Run the three phases for every λ_K and profile; returns a :class:`PaperResult`:

    - `snapshots`: `W1`, `K1` (after phase 1), `W2`, `K2` (λ_K × ...: "before deprivation"),
      `W3`, `K3` ((profile · λ_K) × ...: "after", profile-major);
    - `history`: per phase, every `eval_every` steps (evaluations × members): the cost, the largest
      fixed-point step count, whether every step was sound, whether the member still learns
      (phase 3's early stop); and ρ(K) every `chunk` steps (`rho`, `rho_step`).

    `out`: run directory (checkpoint after every chunk; see :class:`RunDirectory` for `resume` and
    `overwrite`). `stop_after`: stop after that many steps in total (a chunk boundary; testing).
    `progress(info)` is called after every chunk with a dict (phase, step, total, members, eta_s).
    `mesh`: a 1-D device mesh (e.g. `jax.make_mesh((n,), ("members",))`); the members are split
    over its devices (padded to a multiple of their number). Members never interact, so the result
    does not depend on the mesh beyond rounding.
    """
    if not isinstance(config, PaperConfig):
        raise TypeError(f"`config` must be a PaperConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be an integer >= 0, got {seed!r}")
    if mesh is not None:
        mesh, _ = mesh_axis(mesh)  # a Mesh or a (Mesh, axis_name) pair, as every `mesh=`
        if len(mesh.axis_names) != 1:
            raise ValueError(f"`mesh` must be 1-D (one axis over which members are split), got "
                             f"axes {mesh.axis_names}")
    if (mesh is not None and mesh.devices.size > 1 and mesh.devices.flat[0].platform == "cpu"
            and os.environ.get("NEUROJAX_UNSAFE_CPU_MESH") != "1"):
        # measured: 10 members of 40 -> 80 on 2 host devices hung within the first phase-2 chunk
        # (0 % CPU), 4 members did not; the per-member LAPACK calls of two devices at once
        # deadlock this jaxlib (neurojax/_linalg.py's docstring)
        raise ValueError("`mesh`: splitting members over several CPU devices can deadlock in "
                         "LAPACK on this jaxlib; run one process per core instead (a GPU mesh "
                         "is fine)")
    dt = _jnp_dtype(config)
    if dt == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError("config.dtype='float64' needs jax_enable_x64 (neurojax --x64)")
    identity = {"config": config.to_json(), "seed": int(seed), "version": __version__,
                "protocol": "paper-online-1"}
    run_dir = None if out is None else RunDirectory(out, identity, resume=resume,
                                                    overwrite=overwrite)
    key = jax.random.key(seed)
    pool, gains = pool_and_gains(config, key)
    eval_x = pool[: config.n_eval]
    L, P = len(config.penalties), len(config.profiles)
    m0 = nim.RecurrentInfoMax.tonotopic(config.n_in, config.n_out, dtype=dt)
    state = {"phase": 1, "step": 0, "W": np.asarray(m0.W)[None], "K": np.asarray(m0.K)[None],
             "active": np.ones(1, bool), "cost": None}
    hist = {p: {"cost": [], "fp_steps": [], "sound": [], "active": [], "rho": [], "rho_step": []}
            for p in (1, 2, 3)}
    snaps = {}
    if resume:
        arrays, meta = run_dir.load()
        run_dir.check_meta(meta, tuple(config.steps))
        run_dir.check_arrays(arrays, _expected_arrays(config, meta, arrays))
        state = {"phase": meta["phase"], "step": meta["step"], "W": arrays["W"], "K": arrays["K"],
                 "active": arrays["active"],
                 "cost": arrays["cost"] if arrays["cost"].size else None}
        for p in (1, 2, 3):
            for k in hist[p]:
                name = f"h{p}_{k}"
                hist[p][k] = list(arrays[name]) if name in arrays else []
        snaps = {k[5:]: v for k, v in arrays.items() if k.startswith("snap_")}
    done = sum(config.steps[: state["phase"] - 1]) + state["step"]
    t_start, done_start = time.perf_counter(), done
    total_all = config.steps[0] + config.steps[1] * L + config.steps[2] * L * P  # member-steps

    def member_steps_done():
        w = (1, L, L * P)
        return sum(config.steps[i] * w[i] for i in range(state["phase"] - 1)) + \
            state["step"] * w[state["phase"] - 1] if state["phase"] <= 3 else total_all

    def save():
        if run_dir is None:
            return
        arrays = {"W": state["W"], "K": state["K"], "active": state["active"],
                  "cost": np.zeros(0) if state["cost"] is None else state["cost"]}
        for p in (1, 2, 3):
            for k, v in hist[p].items():
                if v:
                    arrays[f"h{p}_{k}"] = np.asarray(v)
        arrays |= {f"snap_{k}": v for k, v in snaps.items()}
        run_dir.save(arrays, {"phase": state["phase"], "step": state["step"]})

    m_done_start = member_steps_done()
    while state["phase"] <= 3:
        phase = state["phase"]
        total = config.steps[phase - 1]
        if state["step"] == 0:  # entering the phase: fan the members out
            if phase == 2:
                state["W"] = np.repeat(snaps["W1"], L, axis=0)
                state["K"] = np.repeat(snaps["K1"], L, axis=0)
            elif phase == 3:
                state["W"] = np.tile(snaps["W2"], (P, 1, 1))
                state["K"] = np.tile(snaps["K2"], (P, 1, 1))
            state["active"] = np.ones(state["W"].shape[0], bool)
            state["cost"] = None
        if total == 0:  # an empty phase: its networks are those it starts from
            snaps[f"W{phase}"], snaps[f"K{phase}"] = state["W"], state["K"]
            state["phase"], state["step"] = phase + 1, 0
            continue
        E = state["W"].shape[0]
        member_gains = (jnp.repeat(gains, L, axis=0) if phase == 3
                        else jnp.ones((E, config.n_in), dt))
        penalties = (np.zeros(1) if phase == 1 else
                     np.tile(np.asarray(config.penalties), P if phase == 3 else 1))
        rates = _rates(config, penalties, dt)
        W, K = jnp.asarray(state["W"], dt), jnp.asarray(state["K"], dt)
        if state["cost"] is None:
            c0 = nim.ensemble_cost(W, K, eval_x, n_in=config.n_in).value
            state["cost"] = np.asarray(c0)
        active, cost = jnp.asarray(state["active"]), jnp.asarray(state["cost"], dt)
        pkey = jax.random.fold_in(key, phase)
        while state["step"] < total:
            lo = state["step"]
            n = min(config.chunk, total - lo)
            if stop_after is not None and done - done_start + n > stop_after:
                save()
                return PaperResult(interrupted=True, phase=phase, step=lo, config=config)
            res = _sharded_chunk(mesh, W, K, active, cost, member_gains, rates, pool, eval_x,
                                 pkey, jnp.asarray(lo), n, config.n_in, phase == 1, phase > 1,
                                 config.eval_every, config.stop_rise if phase == 3 else None)
            W, K, active, cost = res.W, res.K, res.active, res.cost
            h = hist[phase]
            h["cost"].extend(np.asarray(res.costs))
            h["fp_steps"].extend(np.asarray(res.fp_steps))
            h["sound"].extend(np.asarray(res.sound))
            h["active"].extend(np.asarray(res.actives))
            state.update(step=lo + n, W=np.asarray(W), K=np.asarray(K),
                         active=np.asarray(active), cost=np.asarray(cost))
            h["rho"].append(spectral_radii(state["K"]))
            h["rho_step"].append(lo + n)
            done += n
            if state["step"] == total:  # end of the phase: keep its networks
                snaps[f"W{phase}"], snaps[f"K{phase}"] = state["W"], state["K"]
                state["phase"], state["step"] = phase + 1, 0
            save()
            if progress is not None:
                elapsed = time.perf_counter() - t_start
                frac = (member_steps_done() - m_done_start) / max(total_all - m_done_start, 1)
                progress({"phase": phase, "step": lo + n, "total": total, "members": E,
                          "rho": h["rho"][-1], "cost": np.asarray(cost),
                          "active": int(np.sum(state["active"])), "elapsed_s": elapsed,
                          "eta_s": elapsed / frac * (1 - frac) if frac > 0 else float("nan")})
            if state["phase"] != phase:
                break
    return PaperResult(interrupted=False, phase=4, step=0, config=config, snapshots=snaps,
                       history={p: {k: np.asarray(v) for k, v in hist[p].items()} for p in (1, 2, 3)},
                       pool=pool, gains=gains, eval_x=eval_x)
