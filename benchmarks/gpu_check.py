"""GPU readiness in one script: what a machine with one GPU runs in <= 8 minutes, end to end.

    bash benchmarks/gpu_check.sh            # installs the CUDA build of the pinned jax, then this
    python benchmarks/gpu_check.py --dry-run   # on any machine: everything but the install, tiny

1. the devices JAX sees (and that the backend is the GPU, unless --dry-run);
2. the tests that exercise the backend policies and float64 parity (linear algebra, the online
   InfoMax step, sparse coding against scikit-learn) on that backend;
3. timings (float32): the batch-1 online K step at 40 -> 400; ensemble throughput (member-steps
   per second, and against a loop of one-member calls) at 40 -> 80 and 40 -> 400 for 1 / 8 / 32
   / 90 members; one short chunk of the paper preset (10,000 phase-1 + 10,000 phase-2 steps, one
   λ_K); OMP on the batched-OMP paper's 256 x 1024 configuration (32 atoms, 5,000 signals).
Writes `results/gpu_check-<device>-<date>.json` / `.md` with the device named.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = ["tests/test_linalg.py", "tests/test_infomax_online.py", "tests/test_sparse_estimators.py",
         "tests/test_sparse_omp.py"]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dry-run", action="store_true", help="tiny sizes, any backend (CI)")
    a = p.parse_args()
    dry = a.dry_run

    import jax

    print("devices:", jax.devices(), flush=True)
    if not dry and jax.default_backend() != "gpu":
        raise SystemExit(f"no GPU: JAX's backend is {jax.default_backend()!r}")
    rows = []
    t0 = time.perf_counter()
    tests = TESTS[:1] if dry else TESTS
    k = ["-k", "lu or solve"] if dry else ["-k", "not slow"]
    rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:randomly",
                         "-x", *k, *tests], cwd=HERE.parent).returncode
    rows.append({"what": "tests " + " ".join(Path(t).stem for t in tests), "value": rc,
                 "unit": "exit status", "seconds": time.perf_counter() - t0})

    jax.config.update("jax_enable_x64", True)  # as bench_tinnitus (float32 arrays stay float32)
    import jax.numpy as jnp
    import numpy as np

    sys.path.insert(0, str(HERE))
    import bench_tinnitus as bt
    from _timing import time_call, write

    import neurojax.infomax as nim
    import neurojax.sparse as ns

    pool = nim.tones(bt.N_IN, 2000, key=jax.random.key(0))
    n_big = 48 if dry else 400
    m = nim.RecurrentInfoMax.tonotopic(bt.N_IN, n_big, dtype=jnp.float32)
    t = bt.step_time(np.asarray(m.W), np.asarray(m.K), pool, jnp.float32, n=5 if dry else 100)
    rows.append({"what": f"batch-1 online K step 40->{n_big} f32", "value": t * 1e3, "unit": "ms"})
    for n_out in ((44, n_big) if dry else (80, 400)):
        for E in ((1, 2) if dry else (1, 8, 32, 90)):
            ens, loop = bt.ensemble_rate(n_out, E, pool, n=3 if dry else 20)
            rows.append({"what": f"ensemble 40->{n_out} f32, {E} members", "value": ens,
                         "unit": "member-steps/s", "vs_loop": ens / loop})
    from neurojax.experiments import PaperConfig, run_paper

    steps = (200, 200, 0) if dry else (10_000, 10_000, 0)
    cfg = PaperConfig(n_out=n_big, steps=steps, penalties=(0.226,), profiles=("baseline",),
                      pool_size=2000 if dry else 1_000_000, chunk=100 if dry else 10_000)
    t1 = time.perf_counter()
    run_paper(cfg, seed=0)
    rows.append({"what": f"paper preset 40->{n_big}, {steps[0]} + {steps[1]} steps, 1 λ_K",
                 "value": time.perf_counter() - t1, "unit": "s (with compilation)"})
    f, p_, kk, n = (32, 64, 4, 100) if dry else (256, 1024, 32, 5000)
    sys.argv = sys.argv[:1]
    import bench_sparse as bs

    D, X = bs.omp_problem(f, p_, kk, n)
    Dj, Xj = jnp.asarray(D, jnp.float32), jnp.asarray(X, jnp.float32)
    t = time_call(lambda: ns.omp(Dj, Xj, kk).codes, repeat=3)["best_s"]
    rows.append({"what": f"omp {f}x{p_}, {kk} atoms, {n} signals f32", "value": t, "unit": "s"})
    write("gpu_check-dry" if dry else "gpu_check", {"dry_run": dry,
                                                   "total_s": time.perf_counter() - t0},
          rows, ["what", "value", "unit", "vs_loop"])
    if rc:
        raise SystemExit(f"the tests failed on {jax.default_backend()} (exit {rc})")


if __name__ == "__main__":
    main()
