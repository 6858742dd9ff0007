"""Information theory against the toolboxes neuroscientists use, in one process, float64:

1. KSG MI and Frenzel–Pompe CMI (k = 3): neurojax (`method="auto"`: k-d trees on a CPU; and the
   brute-force JAX tiles, the accelerator path) vs NPEET (`npeet_plus.mi` / `cmi`), correlated
   Gaussians, n = 2k / 10k (d = 1 / 4 / 8 per variable) and 100k (d = 1 / 4);
2. Gaussian-copula MI: `neurojax.info.gcmi` (and vmapped over 1,000 "time points") vs frites'
   `gcmi_1d_cc` (and a loop over it);
3. O-information of every multiplet of orders 3-5 (Gaussian copula): `neurojax.info.higher_order`
   (one vmapped program per order, vmapped over the "variables" axis) vs `hoi.metrics.Oinfo`, on
   hoi's documented workload scaled down (1,000 samples x 10 features x 10 variables; hoi's
   example has 100 variables and orders 3-10);
4. a 1,000-permutation test: `neurojax.info.permutation_test` (one vmapped program) vs a loop over
   NPEET's `mi` (and over frites' `gcmi_1d_cc`).

    python benchmarks/bench_info.py [--quick]

NPEET and frites are benchmark dependencies only (`pip install npeet-plus frites`); a missing one
is skipped. NPEET adds noise of 1e-10 to its inputs, so its estimates differ in the last digits.
"""

import argparse
import functools
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import time_call, write  # noqa: E402

import neurojax.info as ni  # noqa: E402

try:
    import npeet_plus as npeet
except ImportError:  # pragma: no cover
    npeet = None
try:
    from frites.core import gcmi_1d_cc
except ImportError:  # pragma: no cover
    gcmi_1d_cc = None
try:
    import hoi
    from hoi.metrics import Oinfo
except ImportError:  # pragma: no cover
    hoi = Oinfo = None


def _gauss(n, d, mi=0.5, seed=0):
    rho = float(ni.rho_for_mi(mi, d))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, d)), rng


def _timed(fn, repeat):
    """(best seconds, value) of `repeat` calls after one warm-up call (whose value is returned)."""
    value = jax.block_until_ready(fn())
    t = time_call(fn, repeat=repeat, warmup=0)["best_s"]
    return t, value


def _row(case, ref_name, t_ref, t_nj, extra):
    row = {"case": case, f"{ref_name}_s": t_ref, "neurojax_s": t_nj} | extra
    row["speedup"] = t_ref / t_nj if t_ref else None
    return row


def bench_knn(rows, cases):
    # the lambdas below are called within their iteration (ruff B023 does not apply)
    for d, n in cases:
        x, y, rng = _gauss(n, d)
        z = x[:, :1] + rng.standard_normal((n, 1))
        repeat = 1 if n >= 100_000 else 3
        for what, ours, theirs in (  # noqa: B023
                ("MI", lambda: ni.ksg_mi(x, y), lambda: npeet.mi(x, y, k=3, base=np.e)),  # noqa: B023
                ("CMI", lambda: ni.ksg_cmi(x, y, z),  # noqa: B023
                 lambda: npeet.cmi(x, y, z, k=3, base=np.e))):  # noqa: B023
            t_nj, got = _timed(ours, repeat)
            t_np, ref = _timed(theirs, repeat) if npeet is not None else (None, None)
            extra = {"estimate": float(got),
                     "diff_vs_npeet": None if ref is None else abs(float(got) - ref)}
            if what == "MI" and n <= 10_000:  # the accelerator path, timed on this CPU
                xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)
                extra["neurojax_brute_s"] = _timed(
                    lambda: ni.ksg_mi(xj, yj, method="brute"), repeat)[0]  # noqa: B023
            case = f"KSG {what} k=3, d={d}{' (z 1-D)' if what == 'CMI' else ''}, n={n}"
            rows.append(_row(case, "npeet", t_np, t_nj, extra))
            print(rows[-1], flush=True)


def bench_gcmi(rows, n=500, n_times=1000):
    x, y, _ = _gauss(n, 2, mi=0.3)
    t_nj = time_call(lambda: ni.gcmi(x, y, base=2), repeat=5)["best_s"]
    got = float(ni.gcmi(x, y, base=2))
    t_fr = ref = None
    if gcmi_1d_cc is not None:
        t_fr = time_call(lambda: gcmi_1d_cc(x.T, y.T), repeat=5, warmup=0)["best_s"]
        ref = gcmi_1d_cc(x.T, y.T)
    rows.append(_row(f"GCMI d=2, n={n}", "frites", t_fr, t_nj,
                     {"estimate": got, "diff_vs_frites": None if ref is None else abs(got - ref)}))
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((n_times, n, 1))
    ys = 0.3 * xs + rng.standard_normal((n_times, n, 1))
    many = jax.jit(jax.vmap(functools.partial(ni.gcmi, base=2)))
    xj, yj = jax.numpy.asarray(xs), jax.numpy.asarray(ys)
    t_nj = time_call(lambda: many(xj, yj), repeat=3)["best_s"]
    t_fr = None
    if gcmi_1d_cc is not None:
        t_fr = time_call(lambda: [gcmi_1d_cc(a.T, b.T) for a, b in zip(xs, ys)], repeat=1,
                         warmup=0)["best_s"]
    rows.append(_row(f"GCMI at {n_times} time points (vmap vs loop), n={n}", "frites", t_fr, t_nj,
                     {}))


def bench_hoi(rows, n=1000, features=10, variables=10, orders=(3, 4, 5)):
    rng = np.random.default_rng(2)
    latent = rng.standard_normal((n, 1, variables))
    x = 0.6 * latent + rng.standard_normal((n, features, variables))

    @jax.jit
    def ours(x):
        return jax.numpy.concatenate([jax.vmap(lambda v, k=k: ni.higher_order(v, k).oinfo,
                                               in_axes=2, out_axes=1)(x) for k in orders])

    t_nj, got = _timed(lambda: ours(x), repeat=3)
    t_hoi = diff = None
    if Oinfo is not None:
        fit = lambda: Oinfo(x, verbose=False).fit(minsize=orders[0], maxsize=orders[-1],  # noqa: E731
                                                 method="gc")
        t_hoi, ref = _timed(fit, repeat=3)
        diff = float(np.max(np.abs(np.asarray(got) - ref)))
    m = np.asarray(got).shape[0]
    rows.append(_row(f"O-information, {m} multiplets of orders {orders[0]}-{orders[-1]}, n={n}, "
                     f"{features} features x {variables} variables", "hoi", t_hoi, t_nj,
                     {"diff_vs_hoi": diff}))


def bench_permutations(rows, n=1000, n_perm=1000):
    x, y, _ = _gauss(n, 1, mi=0.05)
    xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)
    key = jax.random.key(0)
    # method="auto": k-d trees on the host on a CPU (one callback per surrogate), brute-force
    # tiles on an accelerator; the brute tiles timed too (the accelerator path, on this CPU)
    times, ps = {}, {}
    for how in ("auto", "brute"):
        ksg = functools.partial(ni.ksg_mi, method=how)
        times[how] = time_call(lambda ksg=ksg: ni.permutation_test(
            ksg, xj, yj, n_permutations=n_perm, key=key).p_value, repeat=1)["best_s"]
        ps[how] = float(ni.permutation_test(ksg, xj, yj, n_permutations=n_perm, key=key).p_value)
    t_nj, p = times["auto"], ps["auto"]
    t_np = None
    if npeet is not None:
        rng = np.random.default_rng(0)

        def loop():
            v = npeet.mi(x, y, k=3, base=np.e)
            null = [npeet.mi(x, y[rng.permutation(n)], k=3, base=np.e) for _ in range(n_perm)]
            return (1 + np.sum(np.asarray(null) >= v)) / (1 + n_perm)

        t_np = time_call(loop, repeat=1, warmup=0)["best_s"]
    rows.append(_row(f"permutation test, KSG d=1, n={n}, {n_perm} permutations", "npeet", t_np,
                     t_nj, {"p_value": p, "neurojax_brute_s": times["brute"]}))
    t_nj = time_call(lambda: ni.permutation_test(ni.gcmi, xj, yj, n_permutations=n_perm,
                                                 key=key).p_value, repeat=3)["best_s"]
    t_fr = None
    if gcmi_1d_cc is not None:
        rng = np.random.default_rng(0)
        t_fr = time_call(lambda: [gcmi_1d_cc(x.T, y[rng.permutation(n)].T) for _ in range(n_perm)],
                         repeat=1, warmup=0)["best_s"]
    rows.append(_row(f"permutation test, GCMI d=1, n={n}, {n_perm} permutations", "frites", t_fr,
                     t_nj, {}))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="n = 2000, d = 1 and 4 only")
    a = p.parse_args()
    rows = []
    # d = 8 at n = 10^5: NPEET takes ~2 minutes per call there (one repeat)
    cases = ([(1, 2000), (4, 2000)] if a.quick else
             [(d, n) for d in (1, 4, 8) for n in (2000, 10_000, 100_000)])
    bench_knn(rows, cases)
    bench_gcmi(rows)
    bench_hoi(rows)
    bench_permutations(rows, n_perm=100 if a.quick else 1000)
    versions = {"npeet_plus": getattr(npeet, "__version__", "0.2.0" if npeet else None),
                "frites": __import__("frites").__version__ if gcmi_1d_cc else None,
                "hoi": getattr(hoi, "__version__", None)}
    write("info", {"note": "float64, k = 3; `speedup` = reference time / neurojax time (> 1: "
                   "neurojax faster). neurojax_s: method='auto' (k-d trees on this CPU); "
                   "neurojax_brute_s: the brute-force JAX path (the GPU path).",
                   "references": versions}, rows,
          ["case", "npeet_s", "frites_s", "hoi_s", "neurojax_s", "speedup", "neurojax_brute_s",
           "estimate", "diff_vs_npeet", "diff_vs_frites", "diff_vs_hoi", "p_value"])


if __name__ == "__main__":
    main()
