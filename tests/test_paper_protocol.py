import json

import jax
import numpy as np
import pytest
from _protocols import Stop, same_history, same_models, stop_after

import neurojax.infomax as nim
from neurojax.experiments import PAPER_PENALTIES, PaperConfig, _checkpoint, run_paper


def _cfg(**kw):
    base = dict(steps=(40, 80, 80), chunk=20, eval_every=20, n_eval=4, pool_size=200,
                dtype="float64")
    return PaperConfig.preset("tiny", **(base | kw))


@pytest.fixture(scope="module")
def full_run():
    jax.config.update("jax_enable_x64", True)
    try:
        yield run_paper(_cfg(), seed=3)
    finally:
        jax.config.update("jax_enable_x64", False)


def test_presets_follow_the_paper():
    cfg = PaperConfig.preset("paper")
    assert (cfg.n_in, cfg.n_out, cfg.pool_size, cfg.steps) == (40, 400, 10**6,
                                                              (50_000, 1_000_000, 1_000_000))
    assert (cfg.ff_eta, cfg.ff_l1, cfg.rec_eta, cfg.eval_every, cfg.n_eval, cfg.stop_rise) == \
        (0.1, 0.001, 0.001, 100, 10, 100.0)
    assert cfg.penalties == PAPER_PENALTIES and len(PAPER_PENALTIES) == 18
    assert cfg.profiles == ("baseline", "shifted", "soft", "band", "low")
    reduced = PaperConfig.preset("reduced")
    assert reduced.n_in == 40 and reduced.steps == cfg.steps and len(reduced.penalties) >= 10


def test_paper_profiles_equal_their_formulas():
    j = np.arange(1, 41)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    formulas = {"baseline": sig(10 * (20 - j)), "shifted": sig(10 * (30 - j)),
                "soft": sig(1.0 * (20 - j)), "low": sig(10 * (j - 20)),
                "band": 1 - (1 - sig(1.0 * (10 - j))) * (1 - sig(1.0 * (j - 30)))}
    for name, f in formulas.items():
        np.testing.assert_allclose(np.asarray(nim.hearing_loss(name, 40)), f, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("field, value", [
    ("penalties", (0.1, 0.0)), ("penalties", (-0.2,)), ("profiles", ("tinnitus",)),
    ("n_eval", 10**4), ("chunk", 30), ("steps", (10, 20)), ("dtype", "float16"),
    ("stop_rise", float("nan")), ("pool_size", 0),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        _cfg(**{field: value})


def test_bad_preset_and_seed():
    with pytest.raises(ValueError, match="preset"):
        PaperConfig.preset("huge")
    with pytest.raises(ValueError, match="seed"):
        run_paper(_cfg(dtype="float32"), seed=-1)
    with pytest.raises(TypeError, match="config"):
        run_paper({"n_in": 40}, seed=0)


def test_sweep_equals_separate_runs_per_lambda(x64, full_run):
    cfg = _cfg()
    L = len(cfg.penalties)
    for i, lam in enumerate(cfg.penalties):
        one = run_paper(_cfg(penalties=(lam,)), seed=3).models
        s = full_run.models
        np.testing.assert_allclose(one[2].K[0], s[2].K[i], rtol=0, atol=1e-10)
        for p in range(len(cfg.profiles)):
            np.testing.assert_allclose(one[3].K[p], s[3].K[p * L + i], rtol=0, atol=1e-10)
    assert np.all(np.diagonal(full_run.models[3].K, axis1=1, axis2=2) == 0)
    assert full_run.history[3]["cost"].shape == (80 // 20, 4)


@pytest.mark.parametrize("stop", [60, 140])  # mid phase 2, mid phase 3
def test_interrupted_and_resumed_equals_uninterrupted_bitwise(x64, full_run, tmp_path, stop):
    with pytest.raises(Stop):
        run_paper(_cfg(), seed=3, out=tmp_path, progress=stop_after(stop, _cfg().steps))
    resumed = run_paper(_cfg(), seed=3, out=tmp_path, resume=True)
    same_models(full_run.models, resumed.models)
    same_history(full_run.history, resumed.history)
    # each process that ran the run is one segment: where it began and ended, its commit
    segments = json.loads((tmp_path / "segments.json").read_text())
    assert [s["from"] for s in segments] == [{"phase": 1, "step": 0}, segments[1]["from"]]
    assert segments[1]["from"] == segments[0]["to"] and segments[1]["to"] == {"phase": 4, "step": 0}
    assert all("commit" in s and s["wall_s"] > 0 for s in segments)


class _Killed(Exception):
    pass


@pytest.mark.parametrize("point", ["arrays", "meta", "publish", "prune"])
def test_kill_at_every_write_point_resumes_bitwise(x64, full_run, tmp_path, monkeypatch, point):
    calls = {"n": 0}

    def fault(where):
        if where == point:
            calls["n"] += 1
            if calls["n"] == 5:  # the fifth save: inside phase 2
                raise _Killed(where)

    monkeypatch.setattr(_checkpoint, "_fault", fault)
    with pytest.raises(_Killed):
        run_paper(_cfg(), seed=3, out=tmp_path)
    monkeypatch.setattr(_checkpoint, "_fault", lambda where: None)
    resumed = run_paper(_cfg(), seed=3, out=tmp_path, resume=True)
    same_models(full_run.models, resumed.models)
    same_history(full_run.history, resumed.history)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("ckpt-")]) == 1


def test_run_directory_refuses_to_lose_or_mix_runs(x64, tmp_path):
    cfg = _cfg(steps=(20, 20, 20))
    with pytest.raises(ValueError, match="no checkpoint"):
        run_paper(cfg, seed=0, out=tmp_path / "none", resume=True)
    with pytest.raises(Stop):
        run_paper(cfg, seed=0, out=tmp_path / "a", progress=stop_after(20, cfg.steps))
    before = sorted(p.name for p in (tmp_path / "a").iterdir())
    with pytest.raises(ValueError, match="already holds a run"):
        run_paper(cfg, seed=0, out=tmp_path / "a")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == before  # nothing overwritten
    with pytest.raises(ValueError, match="seed: checkpoint 0, now 7"):
        run_paper(cfg, seed=7, out=tmp_path / "a", resume=True)
    with pytest.raises(ValueError, match="config"):
        run_paper(_cfg(steps=(20, 20, 20), dtype="float32"), seed=0, out=tmp_path / "a",
                  resume=True)
    with pytest.raises(ValueError, match="config"):
        run_paper(_cfg(steps=(20, 20, 20), penalties=(0.3,)), seed=0, out=tmp_path / "a",
                  resume=True)
    (ckpt,) = [p for p in (tmp_path / "a").iterdir() if p.name.startswith("ckpt-")]
    data = (ckpt / "arrays.npz").read_bytes()
    (ckpt / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="arrays.npz"):
        run_paper(cfg, seed=0, out=tmp_path / "a", resume=True)
    (ckpt / "meta.json").write_text("{")
    with pytest.raises(ValueError, match="meta.json"):
        run_paper(cfg, seed=0, out=tmp_path / "a", resume=True)
    (tmp_path / "a" / "run.lock").write_text("1")  # pid 1 is alive: another process's run
    with pytest.raises(ValueError, match="in use by process 1"):
        run_paper(cfg, seed=0, out=tmp_path / "a", resume=True)
    (tmp_path / "a" / "run.lock").write_text(str(2**22 + 12345))  # no such process: stale
    done = run_paper(cfg, seed=0, out=tmp_path / "a", overwrite=True)
    assert done.finished
    assert json.loads((tmp_path / "a" / "run.json").read_text())["seed"] == 0


_MESH_SCRIPT = """
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
from neurojax.experiments import PaperConfig, run_paper
cfg = PaperConfig.preset("tiny", steps=(40, 40, 40), chunk=20, eval_every=20, n_eval=4,
                         pool_size=200, dtype="float64", penalties=(0.05, 0.1, 0.2))
one = run_paper(cfg, seed=1).models
mesh = jax.make_mesh((2,), ("members",))
two = run_paper(cfg, seed=1, mesh=(mesh, "members")).models  # the pair form of `mesh=`
print("RESULT", len(jax.devices()), max(float(np.max(np.abs(getattr(one[p], f) - getattr(two[p], f))))
                                        for p in one for f in ("W", "K")))
"""
_REFUSE_SCRIPT = """
import jax
from neurojax.experiments import PaperConfig, run_paper
try:
    run_paper(PaperConfig.preset("tiny"), seed=0, mesh=jax.make_mesh((2,), ("members",)))
except ValueError as err:
    print("RESULT", err)
"""


def test_members_split_over_a_device_mesh_equal_one_device():
    import os
    import subprocess
    import sys

    flags = os.environ.get("XLA_FLAGS", "")  # the suite's LLVM level (conftest.py) and 2 devices
    env = dict(os.environ, JAX_PLATFORMS="cpu", NEUROJAX_UNSAFE_CPU_MESH="1",
               XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count=2".strip())
    r = subprocess.run([sys.executable, "-c", _MESH_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")][-1].split()
    assert int(line[1]) == 2  # 3 members (phase 2) and 6 (phase 3) padded to even counts
    assert float(line[2]) <= 1e-12
    env.pop("NEUROJAX_UNSAFE_CPU_MESH")
    r = subprocess.run([sys.executable, "-c", _REFUSE_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=300)
    assert "RESULT `mesh`: splitting members over several CPU devices" in r.stdout, r.stderr


def test_resume_checks_metadata_and_array_shapes(x64, tmp_path):
    """A checkpoint whose metadata or arrays disagree with the run is an error naming the file
    and the field, never a run on the wrong state (issue 37)."""
    import json

    import numpy as np

    from neurojax.experiments._checkpoint import RunDirectory

    cfg = _cfg(steps=(20, 40, 20))
    with pytest.raises(Stop):  # in phase 2
        run_paper(cfg, seed=0, out=tmp_path / "a", progress=stop_after(40, cfg.steps))
    (ckpt,) = [p for p in (tmp_path / "a").iterdir() if p.name.startswith("ckpt-")]
    meta = json.loads((ckpt / "meta.json").read_text())
    for field, value in (("phase", 7), ("step", 10_000), ("step", -1), ("phase", "2")):
        (ckpt / "meta.json").write_text(json.dumps(meta | {field: value}))
        with pytest.raises(ValueError, match=rf"meta.json: `{field}`"):
            run_paper(cfg, seed=0, out=tmp_path / "a", resume=True)
    (ckpt / "meta.json").write_text(json.dumps(meta))
    with np.load(ckpt / "arrays.npz") as z:
        arrays = {k: z[k] for k in z.files}
    for name, bad in (("state.model.W", arrays["state.model.W"][:, :3]),
                      ("models.1.K", arrays["models.1.K"].reshape(-1)),
                      ("history.2.cost", arrays["history.2.cost"][:, :1])):
        np.savez(ckpt / "arrays.npz", **(arrays | {name: bad}))
        with pytest.raises(ValueError, match=rf"arrays.npz: array `{name}` has shape"):
            run_paper(cfg, seed=0, out=tmp_path / "a", resume=True)
    np.savez(ckpt / "arrays.npz", **{k: v for k, v in arrays.items() if k != "state.model.K"})
    with pytest.raises(ValueError, match="array `state.model.K` is missing"):
        run_paper(cfg, seed=0, out=tmp_path / "a", resume=True)
    np.savez(ckpt / "arrays.npz", **arrays)
    assert run_paper(cfg, seed=0, out=tmp_path / "a", resume=True).finished
    # an array the loader could not read back is refused before anything is written
    run = RunDirectory(tmp_path / "b", {"x": 1})
    with pytest.raises(ValueError, match="dtype object"):
        run.save({"ragged": np.array([np.zeros(2), np.zeros(3)], dtype=object)}, {})
    assert run.latest_name() is None


def test_a_run_of_the_format_before_the_engine_is_upgraded_and_resumed(x64, full_run, tmp_path):
    """tests/data/paper_v1_run: this module's run made by the code before the protocol engine
    (commit a623a8b, checkpoint format `paper-online-1`, default XLA flags), stopped at phase-3
    step 20. Resumed by this code it is upgraded in place (a new atomic checkpoint): the saved
    networks and history come back bitwise, and the finished run equals an uninterrupted one to
    3e-9 (the suite compiles with other XLA flags than the run that wrote the file, and learning
    grows that rounding difference). Only
    the per-block objective, which that format did not record, is NaN."""
    import shutil
    from pathlib import Path

    src = Path(__file__).parent / "data" / "paper_v1_run"
    shutil.copytree(src, tmp_path / "v1")
    assert json.loads((tmp_path / "v1" / "run.json").read_text())["protocol"] == "paper-online-1"
    with np.load(src / "ckpt-000007" / "arrays.npz") as z:
        v1 = {k: z[k] for k in z.files}
    with pytest.raises(ValueError, match="seed"):  # another run's identity: left untouched
        run_paper(_cfg(), seed=4, out=tmp_path / "v1", resume=True)
    resumed = run_paper(_cfg(), seed=3, out=tmp_path / "v1", resume=True)
    for p in (1, 2):
        assert np.array_equal(resumed.models[p].K, v1[f"snap_K{p}"])
        assert np.array_equal(resumed.models[p].W, v1[f"snap_W{p}"])
        for k in ("cost", "fp_steps", "sound", "active", "rho", "rho_step"):
            assert np.array_equal(resumed.history[p][k], v1[f"h{p}_{k}"]), (p, k)
    # measured: 3.1e-9 (rounding of another compilation, grown over 60 learning steps)
    np.testing.assert_allclose(resumed.models[3].K, full_run.models[3].K, rtol=0, atol=1e-7)
    assert np.array_equal(resumed.history[3]["active"], full_run.history[3]["active"])
    assert np.isnan(resumed.history[2]["objective"]).all()
    assert not np.isnan(resumed.history[3]["objective"][-1]).any()  # learned after the upgrade
    ident = json.loads((tmp_path / "v1" / "run.json").read_text())
    assert (ident["protocol"], ident["upgraded_from"]) == ("paper-online-2", "paper-online-1")
