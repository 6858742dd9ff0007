"""Ground truth for neurojax's MI estimators: the benchmark tasks of cbg-ethz/bmi (Czyż et al.,
"Beyond normal: on the evaluation of mutual information estimators", NeurIPS 2023).

bmi 0.1.3 pins jax < 0.5, numpy < 2 and pydantic < 2, so it cannot be installed beside neurojax.
It runs in its own environment, and the two halves meet in a folder of samples:

    python -m venv .bmi-venv
    .bmi-venv/bin/pip install benchmark-mi==0.1.3 "jax==0.4.25" "jaxlib==0.4.25"
    .bmi-venv/bin/python benchmarks/bmi_tasks.py sample --out bmi-data   # samples + bmi's KSG
    .bmi-venv/bin/python benchmarks/bmi_tasks.py fixture --out tests/data/bmi_tasks.npz
    python benchmarks/bmi_tasks.py estimate --data bmi-data               # neurojax, the table
    python benchmarks/bmi_tasks.py bounds --data bmi-data                 # variational bounds

(jax 0.4.25: bmi's pinned equinox 0.10 does not import with jax >= 0.4.34.)

`sample` draws n = 5,000 samples of each task for seeds 0-2 with bmi's own samplers, and runs
bmi's KSG estimator (`KSGEnsembleFirstEstimator`, k = 5, standardised, Euclidean marginals) on
them. `estimate` runs neurojax's `ksg_mi` (k = 3, each column rescaled by its standard
deviation, max-norm) and the same with `bias_correction="gaussian"` on the same samples. It
writes `benchmarks/results/bmi-<date>.{json,md}`: per task the true MI and each estimator's mean
and spread over the seeds, then the mean absolute error over the tasks.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

TASKS = [  # 20 tasks: 1-D, multinormal dense/sparse up to 25 x 25, Student-t, transforms
    "1v1-normal-0.75", "normal_cdf-1v1-normal-0.75", "1v1-additive-0.1", "1v1-additive-0.75",
    "1v1-bimodal-0.75", "wiggly-1v1-normal-0.75", "half_cube-1v1-normal-0.75",
    "student-identity-1-1-1", "asinh-student-identity-1-1-1",
    "multinormal-dense-2-2-0.5", "multinormal-dense-5-5-0.5", "multinormal-dense-25-25-0.5",
    "multinormal-sparse-3-3-2-2.0", "multinormal-sparse-25-25-2-2.0",
    "student-identity-2-2-1", "student-identity-5-5-3",
    "normal_cdf-multinormal-sparse-5-5-2-2.0", "half_cube-multinormal-sparse-5-5-2-2.0",
    "spiral-multinormal-sparse-5-5-2-2.0", "asinh-student-identity-3-3-2",
]
SEEDS = (0, 1, 2)
N = 5000


def sample(out: Path) -> None:
    """In bmi's environment: the samples and bmi's KSG estimate of each (task, seed)."""
    from bmi.benchmark import BENCHMARK_TASKS
    from bmi.estimators import KSGEnsembleFirstEstimator

    out.mkdir(parents=True, exist_ok=True)
    index = {}
    for name in TASKS:
        task = BENCHMARK_TASKS[name]
        for seed in SEEDS:
            x, y = task.sample(N, seed=seed)
            t = time.perf_counter()
            ksg = KSGEnsembleFirstEstimator(neighborhoods=(5,), standardize=True).estimate(x, y)
            wall = time.perf_counter() - t
            file = f"{name}--{seed}.npz"
            np.savez(out / file, x=np.asarray(x, np.float64), y=np.asarray(y, np.float64))
            index[file] = {"task": name, "title": task.name, "seed": seed, "dim_x": task.dim_x,
                           "dim_y": task.dim_y, "mi_true": float(task.mutual_information),
                           "bmi_ksg": float(ksg), "bmi_ksg_s": wall}
            print(f"{name} seed {seed}: true {task.mutual_information:.3f} bmi KSG {ksg:.3f} "
                  f"({wall:.1f} s)", flush=True)
    (out / "index.json").write_text(json.dumps(index, indent=1))


FIXTURE_TASKS = ["1v1-normal-0.75", "half_cube-1v1-normal-0.75", "student-identity-1-1-1",
                 "multinormal-dense-2-2-0.5", "multinormal-sparse-3-3-2-2.0"]


def fixture(out: Path, n: int = 1000) -> None:
    """In bmi's environment: a small test fixture (seed 0, n samples of FIXTURE_TASKS) with the
    true MI and bmi's KSG estimate, for the default test suite (tests/test_info_bmi.py)."""
    from bmi.benchmark import BENCHMARK_TASKS
    from bmi.estimators import KSGEnsembleFirstEstimator

    arrays = {}
    for i, name in enumerate(FIXTURE_TASKS):
        task = BENCHMARK_TASKS[name]
        x, y = task.sample(n, seed=0)
        arrays |= {f"x{i}": x, f"y{i}": y, f"mi{i}": task.mutual_information,
                   f"bmi{i}": KSGEnsembleFirstEstimator(neighborhoods=(5,)).estimate(x, y)}
    np.savez_compressed(out, names=np.array(FIXTURE_TASKS), **arrays)


def estimate(data: Path) -> None:
    """In neurojax's environment: neurojax's estimates on the same samples, and the table."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import neurojax.info as ni

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _timing import write

    index = json.loads((data / "index.json").read_text())
    per_task = {}
    for file, meta in index.items():
        with np.load(data / file) as z:
            x, y = z["x"], z["y"]
        t = time.perf_counter()
        ksg = float(ni.ksg_mi(x, y, k=3))
        wall = time.perf_counter() - t
        ksg5 = float(ni.ksg_mi(x, y, k=5))  # bmi's k: the same estimator up to the marginal norm
        corrected = float(ni.ksg_mi(x, y, k=3, bias_correction="gaussian",
                                    key=jax.random.key(meta["seed"])))
        row = per_task.setdefault(meta["task"], {"task": meta["title"], "dims":
                                                 f"{meta['dim_x']} x {meta['dim_y']}",
                                                 "mi_true": meta["mi_true"], "runs": []})
        row["runs"].append({"bmi_ksg": meta["bmi_ksg"], "neurojax_ksg": ksg, "neurojax_ksg_k5": ksg5,
                            "neurojax_ksg_gauss": corrected, "bmi_ksg_s": meta["bmi_ksg_s"],
                            "neurojax_ksg_s": wall})
    rows = []
    for name in TASKS:
        if name not in per_task:
            continue
        r = per_task[name]
        out = {"task": r["task"], "dims": r["dims"], "mi_true": r["mi_true"]}
        for est in ("bmi_ksg", "neurojax_ksg", "neurojax_ksg_k5", "neurojax_ksg_gauss"):
            v = np.array([run[est] for run in r["runs"]])
            out[est] = float(v.mean())
            out[f"{est}_sd"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
        out["speedup"] = float(np.mean([run["bmi_ksg_s"] / run["neurojax_ksg_s"]
                                        for run in r["runs"]]))
        rows.append(out)
    mae = {est: float(np.mean([abs(r[est] - r["mi_true"]) for r in rows]))
           for est in ("bmi_ksg", "neurojax_ksg", "neurojax_ksg_k5", "neurojax_ksg_gauss")}
    rows.append({"task": "mean absolute error over the tasks", "dims": "", "mi_true": None,
                 **{est: v for est, v in mae.items()}})
    write("bmi", {"note": f"cbg-ethz/bmi 0.1.3 tasks, n = {N}, seeds {list(SEEDS)}; nats; "
                          "bmi_ksg: bmi's KSGEnsembleFirstEstimator (k = 5, standardised, "
                          "Euclidean marginals); neurojax_ksg: ksg_mi (k = 3, std rescale, "
                          "max-norm); _k5: the same with k = 5; _gauss: with bias_correction='gaussian'; mean and sd "
                          "over the seeds; speedup: bmi KSG time / neurojax KSG time",
                  "mae": mae}, rows,
          ["task", "dims", "mi_true", "bmi_ksg", "bmi_ksg_sd", "neurojax_ksg", "neurojax_ksg_sd",
           "neurojax_ksg_k5", "neurojax_ksg_gauss", "neurojax_ksg_gauss_sd", "speedup"])


GAUSSIAN_TASKS = ["multinormal-dense-2-2-0.5", "multinormal-dense-5-5-0.5",
                  "multinormal-dense-25-25-0.5", "multinormal-sparse-3-3-2-2.0",
                  "multinormal-sparse-25-25-2-2.0"]
BOUNDS = ("infonce", "nwj", "dv")


def bounds(data: Path) -> None:
    """In neurojax's environment: the variational bounds (`train_critic`, its defaults: 2,000
    Adam steps, batch 128, held-out estimate) on the Gaussian tasks, next to bmi's KSG."""
    import jax

    import neurojax.info as ni

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _timing import write

    index = json.loads((data / "index.json").read_text())
    rows = []
    for name in GAUSSIAN_TASKS:
        runs = [(f, m) for f, m in index.items() if m["task"] == name]
        row = {"task": runs[0][1]["title"], "mi_true": runs[0][1]["mi_true"],
               "bmi_ksg_err": float(np.mean([abs(m["bmi_ksg"] - m["mi_true"]) for _, m in runs]))}
        for bound in BOUNDS:
            est, wall = [], []
            for file, meta in runs:
                with np.load(data / file) as z:
                    x, y = z["x"].astype(np.float32), z["y"].astype(np.float32)
                t = time.perf_counter()
                r = ni.train_critic(x, y, key=jax.random.key(meta["seed"]), bound=bound)
                est.append(float(r.estimate))
                wall.append(time.perf_counter() - t)
            row[bound] = float(np.mean(est))
            row[f"{bound}_err"] = float(np.mean([abs(e - row["mi_true"]) for e in est]))
            row[f"{bound}_s"] = float(np.mean(wall))
        print(row, flush=True)
        rows.append(row)
    write("bmi-bounds", {"note": f"train_critic defaults (2,000 Adam steps, batch 128, separable "
                                 f"critic, held-out estimate), float32, n = {N}, seeds "
                                 f"{list(SEEDS)}; *_err: mean absolute error over the seeds "
                                 "(nats); bmi_ksg_err: the same for bmi's KSG"}, rows,
          ["task", "mi_true", "bmi_ksg_err"] + [c for b in BOUNDS for c in (b, f"{b}_err")])


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="in bmi's environment: samples and bmi's KSG")
    s.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fixture", help="in bmi's environment: the small test fixture")
    f.add_argument("--out", type=Path, required=True)
    e = sub.add_parser("estimate", help="in neurojax's environment: estimates and the table")
    e.add_argument("--data", type=Path, required=True)
    b = sub.add_parser("bounds", help="in neurojax's environment: variational bounds")
    b.add_argument("--data", type=Path, required=True)
    a = p.parse_args()
    {"sample": lambda: sample(a.out), "fixture": lambda: fixture(a.out),
     "estimate": lambda: estimate(a.data), "bounds": lambda: bounds(a.data)}[a.command]()


if __name__ == "__main__":
    main()
