"""Shared timing helpers for the benchmarks: warm-up, block_until_ready, best-of-n, JSON + markdown."""

import json
import os
import statistics
import time
from datetime import date
from pathlib import Path

import jax

RESULTS = Path(os.environ.get("NEUROJAX_BENCH_RESULTS",  # tests write elsewhere
                               Path(__file__).resolve().parent / "results"))
REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"


def newest_checkpoint(run_dir) -> Path | None:
    """`arrays.npz` of the newest checkpoint in a run directory (`neurojax.experiments`'s
    RunDirectory layout), or None if it holds none."""
    from neurojax.experiments import RunDirectory

    run = RunDirectory.__new__(RunDirectory)  # read-only: no identity check, no lock
    run.path = Path(run_dir)
    name = run.latest_name()
    return None if name is None else run.path / name / "arrays.npz"


def seed_module(name: str):
    """Import a seed's NumPy reference module (`infomax_seed`, `ring_seed`) from ../shared/reference."""
    import importlib
    import sys

    sys.path.insert(0, str(REFERENCE.resolve()))
    return importlib.import_module(name)


def time_call(fn, *, repeat: int = 3, warmup: int = 1) -> dict:
    """Time `fn()` (its result is blocked on): `warmup` untimed calls, then `repeat` timed ones."""
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return {"best_s": min(times), "median_s": statistics.median(times), "repeat": repeat}


def device_name() -> str:
    dev = jax.devices()[0]
    return f"{dev.platform}-{getattr(dev, 'device_kind', 'unknown')}".replace(" ", "_")


def write(name: str, payload: dict, rows: list[dict], columns: list[str]) -> Path:
    """Write `results/<name>-<device>-<date>.json` and a sibling `.md` table; print the table."""
    from neurojax.experiments import environment

    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{device_name()}-{date.today().isoformat()}"
    payload = {"benchmark": name, "environment": environment(), **payload, "rows": rows}
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    env = payload["environment"]
    header = f"## {name} ({env['device']}, {env['backend']}, jax {env['jax']}, x64={env['x64']})\n\n"
    (RESULTS / f"{stem}.md").write_text(header + table + "\n")
    print(header + table)
    return RESULTS / f"{stem}.json"
