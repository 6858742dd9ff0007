"""Run every benchmark and the scaling measurements; write one report.

    python benchmarks/run_all.py [--quick] [--no-readme]

Each `bench_*.py` runs in its own process (writing `results/<name>-<device>-<date>.*`); the
InfoMax scaling (time per 40 -> 400 float64 learning step vs batch size 16 ... 1024, data parallel
over 1, 2, 4 host devices via `--xla_force_host_platform_device_count`) runs in subprocesses. (Batch
4096 is left out on CPU: the per-sample LU factors kept for the backward pass alone are
4096 · 400² · 8 B = 5.2 GB in float64, and several such arrays are live; the 24 GB machine ran out.) Everything (with
`--only`, the newest earlier results of the benchmarks not run) is
collected into `results/<device>-<date>.json` and `.md`, and the README's benchmark section is
replaced by the new table (unless --no-readme).
"""

import argparse
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BENCHES = ("infomax", "ring", "info", "sparse", "tinnitus")
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def _run(cmd, env=None):
    print("$", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr[-2000:], file=sys.stderr)
    return r


def scaling(quick):
    batches = "16,64" if quick else "16,64,256,1024"
    rows, seed = [], None
    for n in (1, 2, 4):
        env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n}")
        args = [sys.executable, str(HERE / "_scaling.py"), batches] + (["--seed"] if n == 1 else [])
        r = _run(args, env)
        line = [ln for ln in r.stdout.splitlines() if ln.startswith("SCALING ")]
        if line:
            out = json.loads(line[-1][len("SCALING "):])
            rows += out["rows"]
            seed = out.get("seed_step_s_b16", seed)
    for row in rows:
        if seed and row["batch"] == 16:
            row["speedup_vs_seed"] = seed / row["step_s"]
    return rows, seed


def _latest(prefix):
    """The newest `results/<prefix><date>.json` (dates sort as ISO strings), or None."""
    paths = sorted(RESULTS.glob(f"{prefix}[0-9]*.json"), key=lambda p: p.stem[len(prefix):])
    return paths[-1] if paths else None


def _table(rows, cols):
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.4g}" if isinstance(r.get(c), float)
                                       else str(r.get(c, "")) for c in cols) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-readme", action="store_true")
    p.add_argument("--collect", action="store_true",
                   help="run nothing: rebuild today's report from the per-benchmark results and "
                   "the scaling rows of today's previous report")
    p.add_argument("--only", default="",
                   help="comma-separated names (of BENCHES, or 'scaling') to run; the others are "
                   "collected from today's results")
    a = p.parse_args()
    only = {n for n in a.only.split(",") if n}
    sys.path.insert(0, str(HERE))
    from _timing import device_name

    from neurojax.experiments import environment

    dev, today = device_name(), date.today().isoformat()
    report = {"environment": environment(), "benchmarks": {}}
    for name in BENCHES:
        ok = True
        if not a.collect and (not only or name in only):
            cmd = [sys.executable, str(HERE / f"bench_{name}.py")] + (["--quick"] if a.quick else [])
            ok = _run(cmd).returncode == 0
        path = _latest(f"{name}-{dev}-")  # today's, or the newest earlier run's
        if ok and path is not None:
            report["benchmarks"][name] = json.loads(path.read_text()) | {"file": path.stem}
    if a.collect or (only and "scaling" not in only):
        old = json.loads(_latest(f"{dev}-").read_text())["scaling_infomax_40x400_f64"]
        rows, seed = old["rows"], old["seed_step_s_b16"]
    else:
        rows, seed = scaling(a.quick)
    report["scaling_infomax_40x400_f64"] = {"rows": rows, "seed_step_s_b16": seed}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{dev}-{today}.json").write_text(json.dumps(report, indent=2))
    md = [f"### {dev}, {today} (jax {report['environment']['jax']})", ""]
    for name, res in report["benchmarks"].items():
        md += [f"**{name}** (`{res['file']}`)", "", (RESULTS / f"{res['file']}.md").read_text()
               .split("\n", 2)[-1].strip(), ""]
    md += ["**InfoMax 40 -> 400 float64, time per learning step vs batch and host devices** "
           f"(seed NumPy, batch 16: {seed:.3g} s/step)" if seed else "**InfoMax scaling**", "",
           _table(rows, ["devices", "batch", "step_s", "samples_per_s", "speedup_vs_seed"]), ""]
    text = "\n".join(md)
    (RESULTS / f"{dev}-{today}.md").write_text(text + "\n")
    print(text)
    # the README's table and the documentation's Benchmarks page
    for page in (HERE.parent / "README.md", HERE.parent / "docs" / "benchmarks.md"):
        if not a.no_readme and page.exists():
            s = page.read_text()
            if START in s and END in s:
                s = s[: s.index(START) + len(START)] + "\n" + text + "\n" + s[s.index(END):]
                page.write_text(s)


if __name__ == "__main__":
    main()
