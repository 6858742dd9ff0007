"""Scale-out on CPU: 4 fake host devices (XLA flag) and a 2-process jax.distributed job, each in
subprocesses so the default test session keeps its single device."""

import ast
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = str(Path(__file__).resolve().parent / "_parallel_worker.py")


def _env(devices=None):
    env = dict(os.environ)  # keeps the suite's XLA_FLAGS (its LLVM level, see conftest.py)
    env["JAX_PLATFORMS"] = "cpu"
    flags = env.get("XLA_FLAGS", "").split()
    flags = [f for f in flags if not f.startswith("--xla_force_host_platform_device_count")]
    if devices:
        flags.append(f"--xla_force_host_platform_device_count={devices}")
    env["XLA_FLAGS"] = " ".join(flags)
    return env


def _result(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, stdout
    return ast.literal_eval(lines[-1][len("RESULT "):])


def test_sharded_learning_and_sweeps_equal_single_device():
    r = subprocess.run([sys.executable, WORKER, "devices"], env=_env(4), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = _result(r.stdout)
    assert out["devices"] == 4
    assert out["learning"] <= 1e-12  # summation order only
    assert out["learning_make_mesh"] <= 1e-12 and out["learning_named_axis"] <= 1e-12
    e = out["bad_mesh_errors"]
    assert len(e) == 3 and "1-D mesh" in e[0] and "'nope'" in e[1] and "Mesh" in e[2], e
    assert out["penalty_sweep"] <= 1e-10
    assert out["ring_sweep"] == 0.0 and out["ring_sharded"] == 4


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_sharded_learning_step_equals_single_process():
    addr = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([sys.executable, WORKER, "process", addr, "2", str(i)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True) for i in range(2)]
    try:
        outs = [p.communicate(timeout=240) for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:  # the workers catch SIGTERM: kill them
            os.killpg(p.pid, signal.SIGKILL)
        pytest.fail("2-process jax.distributed job timed out")
    for p, (so, se) in zip(procs, outs):
        if p.returncode != 0 and "collective" in se.lower() and "not" in se.lower():
            pytest.skip(f"this jaxlib lacks CPU collectives: {se.strip().splitlines()[-1]}")
        assert p.returncode == 0, se[-3000:]
        res = _result(so)
        assert res["processes"] == 2 and res["devices"] == 2
        assert res["learning"] <= 1e-12


def test_launch_runs_a_data_parallel_subcommand_in_two_processes(tmp_path):
    addr = f"127.0.0.1:{_free_port()}"
    cmd = lambda i: [sys.executable, "-m", "neurojax", "launch", "--num-processes", "2",  # noqa: E731
                     "--process-id", str(i), "--coordinator", addr, "--", "infomax", "--steps",
                     "4", "--n-in", "8", "--n-out", "12", "--batch-size", "4", "--data-parallel",
                     "--no-progress", "--out", str(tmp_path)]
    procs = [subprocess.Popen(cmd(i), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True) for i in range(2)]
    try:
        outs = [p.communicate(timeout=240) for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
        pytest.fail("neurojax launch timed out")
    for p, (_, se) in zip(procs, outs):
        assert p.returncode == 0, se[-3000:]
    import json

    a = json.loads((tmp_path / "summary.json").read_text())
    b = json.loads((tmp_path / "process-1" / "summary.json").read_text())
    assert a["environment"]["n_devices"] == 2 and a["objective_last"] == b["objective_last"]


def test_launch_needs_a_subcommand():
    r = subprocess.run([sys.executable, "-m", "neurojax", "launch", "--num-processes", "2"],
                       capture_output=True, text=True, env=_env())
    assert r.returncode == 2 and "--" in r.stderr
