"""KSG mutual information: neurojax (chunked JAX distances) vs a scipy cKDTree NumPy implementation
written for this benchmark, in the same process, on correlated Gaussians (d = 1 and d = 4).

    python benchmarks/bench_info.py [--quick]
"""

import argparse
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from scipy.special import digamma  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import time_call, write  # noqa: E402

import neurojax.info as ni  # noqa: E402


def ksg_ckdtree(x, y, k=3):
    """KSG estimator 1 with k-d trees (max-norm): the usual NumPy/SciPy way to compute it."""
    n = len(x)
    xy = np.hstack([x, y])
    eps = cKDTree(xy).query(xy, k=k + 1, p=np.inf)[0][:, -1]  # k+1: the point itself first
    r = np.nextafter(eps, 0)  # strictly closer than eps
    nx = cKDTree(x).query_ball_point(x, r, p=np.inf, return_length=True) - 1
    ny = cKDTree(y).query_ball_point(y, r, p=np.inf, return_length=True) - 1
    return digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="n = 2000 only")
    a = p.parse_args()
    rows = []
    for d in (1, 4):
        for n in (2000,) if a.quick else (2000, 10_000):
            rho = float(ni.rho_for_mi(0.5, d))
            rng = np.random.default_rng(0)
            x = rng.standard_normal((n, d))
            y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, d))
            t_ref = time_call(lambda x=x, y=y: ksg_ckdtree(x, y), repeat=3, warmup=0)
            xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)
            t_nj = time_call(lambda xj=xj, yj=yj: ni.ksg_mi(xj, yj), repeat=3)
            ref, got = ksg_ckdtree(x, y), float(ni.ksg_mi(xj, yj))
            rows.append({"case": f"KSG k=3, d={d}, n={n}, MI=0.5", "ckdtree_s": t_ref["best_s"],
                         "neurojax_s": t_nj["best_s"],
                         "speedup": t_ref["best_s"] / t_nj["best_s"],
                         "estimate": got, "abs_diff_vs_ckdtree": abs(got - ref)})
    write("info", {"note": "float64; both compute the same KSG-1 estimate"}, rows,
          ["case", "ckdtree_s", "neurojax_s", "speedup", "estimate", "abs_diff_vs_ckdtree"])


if __name__ == "__main__":
    main()
