"""Recurrent InfoMax learning: neurojax vs seed 000's NumPy code, in the same process.

1. 32->64, batch 16, the 220 batches of the seed's `demo_run` (140 normal + 80 attenuated), learning
   only (no cost evaluation), float64.
2. Paper size 40->400, batch 16, a few steps from a state with K != 0, float64 (and float32 for neurojax);
   once as the seed leaves it (small K: neurojax's Neumann solves) and once with K x 200 (LU solves).
3. neurojax alone at 40->400 for larger batches (time per step).

    python benchmarks/bench_infomax.py [--quick]
"""

import argparse
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import seed_module, time_call, write  # noqa: E402

import neurojax.infomax as nim  # noqa: E402


def bench_demo(S, rows):
    ref = S.demo_run(steps=220, attenuate_step=140)
    net = S.Infomax(32, 64)
    t0 = time.perf_counter()
    for i, b in enumerate(ref["batches"]):
        net.learn((ref["x"] if i < 140 else ref["x_att"])[:, b])
    t_seed = time.perf_counter() - t0
    x, x_att = jnp.asarray(ref["x"].T), jnp.asarray(ref["x_att"].T)
    b = jnp.asarray(ref["batches"])
    m0 = nim.RecurrentInfoMax.tonotopic(32, 64)

    def run():
        m = nim.train_on_batches(m0, x, b[:140]).model
        m = nim.train_on_batches(m, x_att, b[140:]).model
        return m.W, m.K

    t = time_call(run, repeat=3)
    W, K = run()
    err = max(float(np.abs(np.asarray(W) - net.W).max() / np.abs(net.W).max()),
              float(np.abs(np.asarray(K) - net.K).max() / np.abs(net.K).max()))
    rows.append({"case": "32->64 demo, 220 steps, b=16", "dtype": "float64", "seed_s": t_seed,
                 "neurojax_s": t["best_s"], "speedup": t_seed / t["best_s"], "max_rel_diff": err})


def paper_state(S, batch, n_samples=2000):
    S.reseed(1)
    x = S.generate_input(40, n_samples)
    rng = np.random.default_rng(0)
    net = S.Infomax(40, 400)
    for _ in range(2):  # two seed steps so that K != 0
        net.learn(x[:, rng.choice(n_samples, batch, replace=False)])
    return net, x, rng


def bench_paper(S, rows, steps, k_scale=1.0):
    """40->400 learning steps from the seed's state after two steps (K != 0, small: neurojax's
    "auto" linear solver takes the Neumann path); with `k_scale` K is scaled up first, past the
    Neumann bound, so that neurojax takes its LU path (the seed's work does not depend on K)."""
    net, x, rng = paper_state(S, 16)
    net.K = net.K * k_scale
    W, K = net.W.copy(), net.K.copy()
    idx = np.stack([rng.choice(x.shape[1], 16, replace=False) for _ in range(steps)])
    t0 = time.perf_counter()
    for b in idx:
        net.learn(x[:, b])
    t_seed = (time.perf_counter() - t0) / steps
    for dtype in (jnp.float64, jnp.float32):
        m0 = nim.RecurrentInfoMax(jnp.asarray(W, dtype), jnp.asarray(K, dtype))
        xd, bi = jnp.asarray(x.T, dtype), jnp.asarray(idx)
        t = time_call(lambda m0=m0, xd=xd, bi=bi: nim.train_on_batches(m0, xd, bi).model.W, repeat=3)
        m = nim.train_on_batches(m0, xd, bi).model
        err = float(np.abs(np.asarray(m.W, np.float64) - net.W).max() / np.abs(net.W).max())
        roots = nim.batch_roots(m0, xd[idx[0]]).g
        bound = float(neumann_contraction(m0.K, roots))
        # the path "auto" took (the first step's; the policy's threshold is on this bound)
        path = "neumann" if bool(nim.objective_and_grads(m0, xd[idx[0]]).neumann) else "lu"
        per_step = t["best_s"] / steps
        rows.append({"case": f"40->400, b=16, {steps} steps, K!=0" + (f" x{k_scale:g}" if k_scale != 1 else ""),
                     "dtype": jnp.dtype(dtype).name, "linear_solver": f"{path} (bound {bound:.2g})",
                     "seed_s": t_seed, "neurojax_s": per_step, "speedup": t_seed / per_step,
                     "max_rel_diff": err})


def bench_batches(rows, batches, steps=4):
    key = jax.random.key(0)
    x = nim.tones(40, 8192, key=key)
    m0 = nim.RecurrentInfoMax.tonotopic(40, 400)
    m0 = nim.RecurrentInfoMax(m0.W, 1e-3 * jax.random.normal(key, (400, 400)) * (1 - jnp.eye(400)))
    for batch in batches:
        bi = nim.batch_indices(x.shape[0], batch, range(steps), key=key)
        t = time_call(lambda bi=bi: nim.train_on_batches(m0, x, bi).model.W, repeat=2)
        rows.append({"case": f"40->400 neurojax only, b={batch}", "dtype": "float64",
                     "neurojax_s": t["best_s"] / steps, "samples_per_s": batch * steps / t["best_s"]})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer steps/batches (smoke run)")
    a = p.parse_args()
    S = seed_module("infomax_seed")
    rows = []
    bench_demo(S, rows)
    bench_paper(S, rows, steps=2 if a.quick else 4)
    bench_paper(S, rows, steps=2 if a.quick else 4, k_scale=200.0)
    bench_batches(rows, [16, 64] if a.quick else [16, 64, 256])
    write("infomax", {"note": "seed_s/neurojax_s are per run (demo) or per step (40->400)"}, rows,
          ["case", "dtype", "linear_solver", "seed_s", "neurojax_s", "speedup", "max_rel_diff",
           "samples_per_s"])


if __name__ == "__main__":
    main()
