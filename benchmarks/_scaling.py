"""One scaling measurement, run by run_all.py in a subprocess with N fake host devices:
InfoMax 40 -> 400 (float64) time per learning step vs batch size, data parallel over all devices;
with --seed, also the seed's NumPy step at batch 16 in the same process.

    XLA_FLAGS=--xla_force_host_platform_device_count=N python benchmarks/_scaling.py 16,64 [--seed]
"""

import json
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import seed_module  # noqa: E402

import neurojax.infomax as nim  # noqa: E402
import neurojax.parallel as par  # noqa: E402


def main():
    batches = [int(b) for b in sys.argv[1].split(",")]
    key = jax.random.key(0)
    x = nim.tones(40, 8192, key=key)
    m0 = nim.RecurrentInfoMax.tonotopic(40, 400)
    m0 = nim.RecurrentInfoMax(m0.W, 1e-3 * jax.random.normal(key, (400, 400)) * (1 - jnp.eye(400)))
    n = jax.device_count()
    mesh = par.data_mesh() if n > 1 else None
    rows = []
    for b in batches:
        steps = 4 if b <= 256 else 1
        idx = nim.batch_indices(x.shape[0], b, range(steps), key=key)
        run = lambda idx=idx: nim.train_on_batches(m0, x, idx, mesh=mesh).model.W  # noqa: E731
        jax.block_until_ready(run())
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            jax.block_until_ready(run())
            times.append((time.perf_counter() - t0) / steps)
        rows.append({"devices": n, "batch": b, "step_s": min(times),
                     "samples_per_s": b / min(times)})
    out = {"rows": rows}
    if "--seed" in sys.argv:
        S = seed_module("infomax_seed")
        S.reseed(1)
        xs = S.generate_input(40, 2000)
        rng = np.random.default_rng(0)
        net = S.Infomax(40, 400)
        for _ in range(2):
            net.learn(xs[:, rng.choice(2000, 16, replace=False)])
        t0 = time.perf_counter()
        for _ in range(4):
            net.learn(xs[:, rng.choice(2000, 16, replace=False)])
        out["seed_step_s_b16"] = (time.perf_counter() - t0) / 4
    print("SCALING " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
