"""Where `lasso_lars`'s time goes on a CPU: an op-level profile of one call on bench_sparse's
natural-patch problem (10,000 whitened 8×8 patches, 256 data atoms, α = 1, float32) or its
Gaussian one (`--problem gaussian`: 5,000 samples, 64 × 256 Gaussian atoms, α = 0.1).

The call runs under `jax.profiler.trace` with XLA:CPU's per-kernel trace events on; the trace's
events are summed by kernel name (a fusion, a gather, a `while` body's copy, ...), and the
kernels are printed with their share of the call's time. Run it on one quiet core:

    OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/profile_homotopy.py [--top 30]

`--n-rows`, `--atoms` and `--alpha` change the patch problem.
"""

import argparse
import collections
import os
import re
import sys
import tempfile
import time
from pathlib import Path

# per-kernel trace events (XLA reads its flags at the first computation)
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true").strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sparse import _data_atoms, _gaussian, _patches  # noqa: E402

import neurojax.sparse as ns  # noqa: E402


def kernel_times(trace_dir):
    """{event name: [self µs, count]}: the self time (the event's duration less its nested
    events') of every event on the threads that run XLA's kernels, summed by name."""
    (path,) = Path(trace_dir).rglob("*.xplane.pb")
    data = jax.profiler.ProfileData.from_file(str(path))
    totals = collections.defaultdict(lambda: [0.0, 0])
    for plane in data.planes:
        for line in plane.lines:
            events = sorted(((ev.start_ns, ev.duration_ns, ev.name) for ev in line.events),
                            key=lambda e: (e[0], -e[1]))
            if not any(name.startswith("ThunkExecutor") for _, _, name in events):
                continue  # a Python or runtime thread, not one that runs kernels
            stack = []  # [end, name, self time] of the enclosing events
            for start, dur, name in events + [(float("inf"), 0, None)]:
                while stack and stack[-1][0] <= start:
                    end, n, own = stack.pop()
                    totals[n][0] += own / 1e3
                    totals[n][1] += 1
                if name is None:
                    break
                if stack:
                    stack[-1][2] -= dur
                stack.append([start + dur, name, dur])
    return totals


def _table(title, rows, busy, top):
    """The `top` rows of {name: [µs, calls]} by time, with their share of `busy` µs."""
    print(f"{title:60s} {'ms':>9s} {'calls':>7s} {'µs/call':>8s} {'share':>6s}")
    for name, (us, count) in sorted(rows.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"{name[:60]:60s} {us / 1e3:9.2f} {count:7d} {us / count:8.1f} {us / busy:6.1%}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=("patches", "gaussian"), default="patches")
    ap.add_argument("--n-rows", type=int, default=10_000)
    ap.add_argument("--atoms", type=int, default=256)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=30)
    a = ap.parse_args()
    if a.problem == "gaussian":
        D, X = _gaussian(5000, 64, 256)
        a.n_rows, a.atoms, a.alpha = 5000, 256, 0.1
    else:
        X = _patches(a.n_rows, 8, jax.random.key(0))
        D = _data_atoms(X, a.atoms, 1)
    Xj, Dj = jnp.asarray(X, jnp.float32), jnp.asarray(D, jnp.float32)
    solve = lambda: ns.lasso_lars(Dj, Xj, a.alpha)  # noqa: E731
    r = jax.block_until_ready(solve())  # compile
    t = time.perf_counter()
    r = jax.block_until_ready(solve())
    wall = time.perf_counter() - t
    steps = np.asarray(r.num_steps)
    print(f"{jax.devices()[0].device_kind}: lasso_lars, {a.problem} {a.n_rows} rows, {a.atoms} atoms, "
          f"alpha {a.alpha}: {wall * 1e3:.1f} ms; path steps mean {steps.mean():.1f}, "
          f"max {steps.max()}, sum {steps.sum()}")
    with tempfile.TemporaryDirectory() as d:
        with jax.profiler.trace(d):
            t = time.perf_counter()
            jax.block_until_ready(solve())
            traced = time.perf_counter() - t
        totals = kernel_times(d)
    # runtime and Python events (the thread that waits for the kernels records them too)
    kernels = {n: v for n, v in totals.items()
               if not (n.startswith(("$", "ThunkExecutor", "CommonPjRt", "Pjit"))
                       or "::" in n or " " in n)}
    busy = sum(us for us, _ in kernels.values())
    print(f"kernels' self time {busy / 1e3:.1f} ms of the traced call ({traced * 1e3:.1f} ms); "
          f"{len(kernels)} kernels, {sum(c for _, c in kernels.values())} launches")
    _table("kernel (self time)", kernels, busy, a.top)
    # by kind: the name without XLA's numeric suffix (one op in several compiled branches)
    kinds = collections.defaultdict(lambda: [0.0, 0])
    for name, (us, count) in kernels.items():
        kind = re.sub(r"(\.\d+)+$", "", name)
        kinds[kind][0] += us
        kinds[kind][1] += count
    print()
    _table("kind (self time)", kinds, busy, a.top)

if __name__ == "__main__":
    main()
