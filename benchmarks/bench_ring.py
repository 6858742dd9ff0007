"""Plastic delayed ring (seed 001): neurojax vs the seed's NumPy code, in the same process.

1. Both variants at N = 500 for a horizon the seed finishes (5 periods = 2,499 steps): per-step time,
   speed-up, and the largest relative difference of the final weights (float64).
2. neurojax alone for the full 150 periods (74,999 steps, record_every = 50): per-step time and the
   memory of the run (state + record, and XLA's temporary buffers).
3. `ring.sweep` over 1, 8, 32 configurations (circulant and full, N = 500, 2,499 steps).
The full variant runs blocked (`block`, default `nr.default_block`); its per-step path (`block=1`)
and float32 are timed alongside, all against the seed's step time of the same process.

    python benchmarks/bench_ring.py [--quick]
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import seed_module, time_call, write  # noqa: E402

import neurojax.ring as nr  # noqa: E402


def bench_parity(S, rows, periods):
    cfg = nr.RingConfig()
    for variant, mode in (("circulant", "conv"), ("full", "full")):
        t0 = time.perf_counter()
        ref = S.run(mode, periods=periods, N=500, seed=0)
        t_seed = time.perf_counter() - t0
        steps = ref["X"].shape[0] - 1

        def run(variant=variant, w0=ref["w0"]):
            return nr.simulate(cfg, w0, periods=periods, variant=variant, record_every=50).state.w

        t = time_call(run, repeat=3)
        w = np.asarray(run())
        block = f", block {nr.default_block(cfg)}" if variant == "full" else ""
        rows.append({"case": f"{variant}{block}, N=500, {steps} steps", "dtype": "float64",
                     "seed_step_s": t_seed / steps, "neurojax_step_s": t["best_s"] / steps,
                     "speedup": t_seed / t["best_s"],
                     "max_rel_diff": float(np.abs(w - ref["w"]).max() / np.abs(ref["w"]).max())})
        if variant != "full":
            continue
        for dtype, blk in ((jnp.float64, 1), (jnp.float32, None), (jnp.float32, 1)):
            w0 = jnp.asarray(ref["w0"], dtype)

            def run_b(w0=w0, blk=blk):
                return nr.simulate(cfg, w0, periods=periods, variant="full", record_every=50,
                                   block=blk).state.w

            tb = time_call(run_b, repeat=3)
            wb = np.asarray(run_b(), np.float64)
            label = "per-step (block 1)" if blk == 1 else f"block {nr.default_block(cfg)}"
            rows.append({"case": f"full, {label}, N=500, {steps} steps",
                         "dtype": jnp.dtype(dtype).name, "seed_step_s": t_seed / steps,
                         "neurojax_step_s": tb["best_s"] / steps,
                         "speedup": t_seed / tb["best_s"],
                         "max_rel_diff": float(np.abs(wb - ref["w"]).max()
                                               / np.abs(ref["w"]).max())})


def bench_long(rows, periods=150, record_every=50):
    cfg = nr.RingConfig()
    steps = cfg.steps_for(periods) - 1
    for variant, dtype in (("circulant", jnp.float64), ("circulant", jnp.float32),
                           ("full", jnp.float64), ("full", jnp.float32)):
        shape = (cfg.N, cfg.N) if variant == "full" else (cfg.N,)
        w = (0.05 / (cfg.N if variant == "full" else 1)
             * jax.random.normal(jax.random.key(0), shape)).astype(dtype)

        def run(w=w, variant=variant):
            return nr.simulate(cfg, w, periods=periods, record_every=record_every,
                               variant=variant)

        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time_call(run, repeat=2)
        res = run()
        state, rec = res.state, res.rates
        rows.append({
            "case": f"{variant}, N=500, {periods} periods ({steps} steps), record_every={record_every}",
            "dtype": jnp.dtype(dtype).name, "neurojax_step_s": t["best_s"] / steps,
            "neurojax_total_s": t["best_s"],
            "state_plus_record_MB": (sum(x.nbytes for x in jax.tree.leaves(state)) + rec.nbytes) / 1e6,
            "rss_growth_MB": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1e3,
        })


def bench_sweep(rows, sizes, steps=2499):
    cfg = nr.RingConfig()
    for variant in ("circulant", "full"):
        shape = (cfg.N, cfg.N) if variant == "full" else (cfg.N,)
        w0 = 0.05 / (cfg.N if variant == "full" else 1) * jax.random.normal(jax.random.key(0),
                                                                              shape)
        base = None
        for b in sizes:
            lam = jnp.linspace(5.0, 40.0, b)

            def run(lam=lam, w0=w0, variant=variant):
                return nr.sweep(cfg, w0, {"lam": lam}, steps=steps, record_every=50,
                                variant=variant).states.w

            t = time_call(run, repeat=2)
            base = base or t["best_s"]
            rows.append({"case": f"sweep {variant} N=500, {steps} steps, {b} configs",
                         "dtype": "float64", "neurojax_total_s": t["best_s"], "configs": b,
                         "time_vs_1_config": t["best_s"] / base})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="shorter horizons (smoke run)")
    a = p.parse_args()
    S = seed_module("ring_seed")
    rows = []
    bench_parity(S, rows, periods=5)
    bench_long(rows, periods=20 if a.quick else 150)
    bench_sweep(rows, [1, 8] if a.quick else [1, 8, 32])
    write("ring", {"note": "per-step times; seed and neurojax run the same Euler scheme in float64"},
          rows, ["case", "dtype", "seed_step_s", "neurojax_step_s", "speedup", "max_rel_diff",
                 "neurojax_total_s", "state_plus_record_MB", "rss_growth_MB", "configs",
                 "time_vs_1_config"])


if __name__ == "__main__":
    main()
