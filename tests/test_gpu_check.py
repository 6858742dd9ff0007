"""`benchmarks/gpu_check.sh --dry-run`: the GPU readiness script runs end to end on the CPU at
tiny sizes (everything but the CUDA install) and writes its report with the device named."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_dry_run(tmp_path):
    env = {**os.environ, "NEUROJAX_BENCH_RESULTS": str(tmp_path)}
    subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run"], cwd=ROOT,
                   env=env, check=True, timeout=600)
    (report,) = tmp_path.glob("gpu_check-dry-*.json")
    data = json.loads(report.read_text())
    assert data["dry_run"] and data["environment"]["backend"] == "cpu"
    whats = [r["what"] for r in data["rows"]]
    assert whats[0].startswith("tests") and data["rows"][0]["value"] == 0
    assert any("ensemble" in w for w in whats) and any(w.startswith("omp") for w in whats)
