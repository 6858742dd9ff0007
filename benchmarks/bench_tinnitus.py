"""Tinnitus protocol: time per 1,000 learning steps (phase 2, K learning, the long phases) at the
`small` (32 -> 64, batch 16) and `paper` (40 -> 400, one sample per step) sizes, and the seed's NumPy
`Infomax.learn` on the same problem in the same process (timed on fewer steps, scaled to 1,000).

    python benchmarks/bench_tinnitus.py [--x64] [--quick]
"""

import sys
import time
from pathlib import Path

import jax

if "--x64" in sys.argv:
    jax.config.update("jax_enable_x64", True)
import equinox as eqx  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import seed_module, write  # noqa: E402

import neurojax.infomax as nim  # noqa: E402
from neurojax.experiments.tinnitus import TinnitusConfig, _learn, _stack  # noqa: E402


def neurojax_per_1000(cfg, chunk):
    x = nim.tones(jax.random.key(0), cfg.n_in, cfg.n_samples)
    m = nim.RecurrentInfoMax.tonotopic(cfg.n_in, cfg.n_out, dtype=x.dtype)
    opt = cfg.optimizer(2)
    models = _stack(m, 1)
    states = _stack(opt.init(eqx.filter(m, eqx.is_array)), 1)
    key = jax.random.key(1)

    def run(models, states, lo, n):
        for s in range(lo, lo + n, chunk):
            idx = nim.batch_indices(key, cfg.n_samples, cfg.batch_size, range(s, s + chunk))
            models, states, _ = _learn(models, states, x[None], idx, opt)
        return jax.block_until_ready((models, states))

    models, states = run(models, states, 0, 2 * chunk)  # warm-up (compile), K already non-zero
    t0 = time.perf_counter()
    run(models, states, 2 * chunk, 1000)
    return time.perf_counter() - t0


def seed_per_1000(cfg, steps):
    S = seed_module("infomax_seed")
    rng = np.random.default_rng(0)
    x = np.asarray(nim.tones(jax.random.key(0), cfg.n_in, cfg.n_samples), np.float64).T
    net = S.Infomax(cfg.n_in, cfg.n_out)
    net.FF_eta = 0.0  # phase 2: K only
    for _ in range(5):
        net.learn(x[:, rng.choice(cfg.n_samples, cfg.batch_size, replace=False)])
    t0 = time.perf_counter()
    for _ in range(steps):
        net.learn(x[:, rng.choice(cfg.n_samples, cfg.batch_size, replace=False)])
    return (time.perf_counter() - t0) * 1000 / steps


def main():
    quick = "--quick" in sys.argv
    rows = []
    for name, seed_steps in (("small", 200), ("paper", 50 if quick else 200)):
        cfg = TinnitusConfig.preset(name)
        if name == "paper":
            cfg = TinnitusConfig.preset(name, n_samples=20_000)  # data set size does not matter
        t = neurojax_per_1000(cfg, chunk=100)
        try:
            ts = seed_per_1000(cfg, seed_steps)
        except (ImportError, FileNotFoundError):
            ts = float("nan")
        rows.append({"preset": name, "size": f"{cfg.n_in}->{cfg.n_out}", "batch": cfg.batch_size,
                     "neurojax_s_per_1000": t, "seed_s_per_1000": ts, "speedup": ts / t,
                     "phase_steps": cfg.steps_W + cfg.steps_K + cfg.steps_attenuated,
                     "neurojax_protocol_h": t * (cfg.steps_W + cfg.steps_K +
                                                 cfg.steps_attenuated) / 1000 / 3600})
    write("tinnitus", {"note": "phase-2 (K) learning steps; seed timed on fewer steps, scaled"},
          rows, ["preset", "size", "batch", "neurojax_s_per_1000", "seed_s_per_1000", "speedup",
                 "neurojax_protocol_h"])


if __name__ == "__main__":
    main()
