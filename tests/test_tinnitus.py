import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _protocols import Stop, same_history, same_models, stop_after

import neurojax.infomax as nim
from neurojax.experiments import TinnitusConfig, run_protocol

TINY = dict(n_in=8, n_out=12, n_samples=200, batch_size=8, steps_W=30, steps_K=40,
            steps_attenuated=40, rec_eta=0.02, log_every=10, checkpoint_every=20)
STEPS = (TINY["steps_W"], TINY["steps_K"], TINY["steps_attenuated"])


def _leaves_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(np.array_equal(np.asarray(x), np.asarray(y))
                                      for x, y in zip(la, lb))


@pytest.mark.parametrize("field, value", [
    ("steps_K", -1), ("n_in", 0), ("batch_size", 500), ("rec_l2", -0.1), ("ff_eta", float("nan")),
    ("minval", 1.5), ("checkpoint_every", 15), ("penalties", (-1.0,)), ("rec_eta", 0.0),
    ("ff_eta", 0.0),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        TinnitusConfig(**(TINY | {field: value}))


def test_a_phase_plan_without_learning_is_refused():
    from neurojax.experiments import PaperConfig

    with pytest.raises(ValueError, match="no learning phase"):
        TinnitusConfig(**(TINY | dict(steps_W=0, steps_K=0, steps_attenuated=0)))
    with pytest.raises(ValueError, match="PaperConfig.steps: the phase plan has no learning"):
        PaperConfig(steps=(0, 0, 0))
    with pytest.raises(ValueError, match="PaperConfig.rec_eta must be a finite number > 0"):
        PaperConfig(rec_eta=0.0)


def test_presets_and_bad_profile():
    paper = TinnitusConfig.preset("paper")
    assert (paper.n_in, paper.n_out, paper.rec_l2, paper.steps_K) == (40, 400, 0.226, 1_000_000)
    assert TinnitusConfig.preset("small").n_out == 64
    with pytest.raises(ValueError, match="preset"):
        TinnitusConfig.preset("huge")
    with pytest.raises(ValueError, match="profile"):
        run_protocol(TinnitusConfig(**TINY), "tinnitus", key=jax.random.key(0))
    with pytest.raises(ValueError, match="profile"):
        run_protocol(TinnitusConfig(**TINY), jnp.ones(7), key=jax.random.key(0))
    with pytest.raises(ValueError, match="checkpoint_dir"):
        run_protocol(TinnitusConfig(**TINY), key=jax.random.key(0), resume=True)


def test_interrupted_and_resumed_run_equals_uninterrupted_bitwise(x64, tmp_path):
    cfg = TinnitusConfig(**TINY)
    key = jax.random.key(4)
    full = run_protocol(cfg, "baseline", key=key, dtype=jnp.float64)
    ck = tmp_path / "ck"
    # interrupt mid phase 2 (step 30 + 25 = 55: after the checkpoint at phase-2 step 20)
    with pytest.raises(Stop):
        run_protocol(cfg, "baseline", key=key, checkpoint_dir=ck, dtype=jnp.float64,
                     progress=stop_after(55, STEPS))
    (saved,) = [p for p in ck.iterdir() if p.name.startswith("ckpt-")]
    meta = json.loads((saved / "meta.json").read_text())
    assert (meta["phase"], meta["step"]) == (2, 20)
    resumed = run_protocol(cfg, "baseline", key=key, checkpoint_dir=ck, resume=True,
                           dtype=jnp.float64)
    same_models(full.models, resumed.models)
    same_history(full.history, resumed.history)
    # and again, interrupted at the end of phase 2 and inside phase 3, with two profiles
    full2 = run_protocol(cfg, ["baseline", "low"], key=key, dtype=jnp.float64)
    for stop in (70, 95):
        ck3 = tmp_path / f"ck{stop}"
        with pytest.raises(Stop):
            run_protocol(cfg, ["baseline", "low"], key=key, checkpoint_dir=ck3,
                         dtype=jnp.float64, progress=stop_after(stop, STEPS))
        again = run_protocol(cfg, ["baseline", "low"], key=key, checkpoint_dir=ck3, resume=True,
                             dtype=jnp.float64)
        same_models(full2.models, again.models)
    # a checkpoint made with another config, key, dtype or profile is refused, naming the field
    for kw, field in (({"config": TinnitusConfig(**(TINY | {"rec_l2": 0.3}))}, "config"),
                      ({"key": jax.random.key(7)}, "key"), ({"dtype": jnp.float32}, "dtype"),
                      ({"profile": "low"}, "profiles")):
        args = {"config": cfg, "profile": "baseline", "key": key, "dtype": jnp.float64} | kw
        with pytest.raises(ValueError, match=f"another configuration .*{field}"):
            run_protocol(args.pop("config"), args.pop("profile"), checkpoint_dir=ck, resume=True,
                         **args)
    with pytest.raises(ValueError, match="already holds a run"):
        run_protocol(cfg, "baseline", key=key, checkpoint_dir=ck, dtype=jnp.float64)
    with pytest.raises(ValueError, match="no checkpoint"):
        run_protocol(cfg, "baseline", key=key, checkpoint_dir=tmp_path / "none", resume=True)


class _Killed(Exception):
    pass


@pytest.mark.parametrize("point", ["arrays", "meta", "publish", "prune"])
def test_kill_at_every_write_point_resumes_bitwise(x64, tmp_path, monkeypatch, point):
    from neurojax.experiments import _checkpoint

    cfg = TinnitusConfig(**TINY)
    key = jax.random.key(4)
    full = run_protocol(cfg, ["baseline", "low"], key=key, dtype=jnp.float64)
    calls = {"n": 0}

    def fault(where):
        if where == point:
            calls["n"] += 1
            if calls["n"] == 4:  # the fourth save: end of phase 2
                raise _Killed(where)

    monkeypatch.setattr(_checkpoint, "_fault", fault)
    with pytest.raises(_Killed):
        run_protocol(cfg, ["baseline", "low"], key=key, checkpoint_dir=tmp_path, dtype=jnp.float64)
    monkeypatch.setattr(_checkpoint, "_fault", lambda where: None)
    again = run_protocol(cfg, ["baseline", "low"], key=key, checkpoint_dir=tmp_path, resume=True,
                         dtype=jnp.float64)
    same_models(full.models, again.models)
    same_history(full.history, again.history)


def test_phases_learn_what_they_should(x64):
    cfg = TinnitusConfig(**TINY)
    run = run_protocol(cfg, "all", key=jax.random.key(1), dtype=jnp.float64)
    m0, m1, m2 = (nim.take(run.models[p], 0) for p in (0, 1, 2))
    m3 = run.models[3]
    assert not np.array_equal(m0.W, m1.W) and np.all(m1.K == 0)  # phase 1: W only
    assert np.array_equal(m1.W, m2.W) and np.any(m2.K != 0)  # phase 2: K only
    assert m3.K.shape == (len(nim.PROFILES), 12, 12)  # phase 3: one network per profile, W still frozen
    assert np.array_equal(m3.W, np.broadcast_to(m2.W, m3.W.shape))
    assert np.all(np.diag(m2.K) == 0)
    # every profile saw its own attenuated inputs
    gains = np.stack([nim.hearing_loss(p, 8) for p in nim.PROFILES])
    np.testing.assert_allclose(run.gains, gains)
    assert len({float(jnp.sum(k)) for k in m3.K}) == len(nim.PROFILES)


@pytest.mark.slow
def test_small_preset_reproduces_the_tinnitus_effect(x64, tmp_path):
    from neurojax.experiments import tinnitus_measures as measures

    cfg = TinnitusConfig.preset("small")
    run = run_protocol(cfg, ["baseline", "low"], key=jax.random.key(0), dtype=jnp.float64)
    res = measures(run, cfg, key=jax.random.key(1), sweep_steps=(200, 200))
    base, low = res["profiles"]["baseline"], res["profiles"]["low"]
    print(f"silence response ratio after/before phase 3: baseline lost {base['silence_ratio_lost']:.3f}"
          f" intact {base['silence_ratio_intact']:.3f}; low lost {low['silence_ratio_lost']:.3f}"
          f" intact {low['silence_ratio_intact']:.3f}")
    assert base["silence_ratio_lost"] > 1.2 > base["silence_ratio_intact"]
    # the low profile moves the effect to the low channels
    n = cfg.n_out
    gain_b = base["silence_after"] - res["silence_before"]
    gain_l = low["silence_after"] - res["silence_before"]
    assert gain_b[n // 2:].mean() > gain_b[: n // 2].mean()
    assert gain_l[: n // 2].mean() > gain_l[n // 2:].mean()
    assert low["silence_ratio_lost"] > 1.2 > low["silence_ratio_intact"]


def test_diverging_protocol_stops_cleanly_with_its_checkpoint(x64, tmp_path):
    """Learning that goes non-finite (rec_eta = 100 diverges in phase 2's first chunk) stops the
    protocol: it returns `diverged`, saves the state before the chunk and the history (phase 1's
    30 steps), and the CLI layer raises LearningDiverged naming the phase, steps and checkpoint."""
    from neurojax.experiments import LearningDiverged, tinnitus_experiment

    cfg = TinnitusConfig(**(TINY | {"rec_eta": 100.0}))
    r = run_protocol(cfg, "baseline", key=jax.random.key(0), checkpoint_dir=tmp_path / "ck",
                     dtype=jnp.float64)
    assert not r.finished and r.diverged == {"phase": 2, "step": 0, "to": 10}
    newest = sorted((tmp_path / "ck").glob("ckpt-*"))[-1]
    meta = json.loads((newest / "meta.json").read_text())
    assert meta["diverged"] == r.diverged and (meta["phase"], meta["step"]) == (2, 0)
    with np.load(newest / "arrays.npz") as z:
        assert z["history.1.objective"].shape == (30, 1) and "history.2.objective" not in z
    with pytest.raises(LearningDiverged, match="phase 2 between steps 0 and 10"):
        tinnitus_experiment(tmp_path / "out", config=cfg, progress=False)


def test_the_one_crossing_helper():
    from neurojax.experiments._crossing import crossing

    lam, rho = [0.3, 0.1, 0.2], [2.0, 6.0, 5.0]  # unsorted on purpose
    lin = crossing(lam, rho)
    assert lin["crossing"] == pytest.approx(0.2 + (4 - 5) / (2 - 5) * 0.1)
    log = crossing(lam, rho, log=True)["crossing"]
    assert log == pytest.approx(np.exp(np.log(0.2) + (1 / 3) * (np.log(0.3) - np.log(0.2))))
    up_down = crossing([0.1, 0.2, 0.3], [3.0, 5.0, 3.0])
    assert up_down["all"] == pytest.approx([0.15, 0.25]) and up_down["reason"] is None
    none = crossing([0.1, 0.2], [3.0, 3.5])
    assert none["crossing"] is None and "below 4.0" in none["reason"]
    with pytest.raises(ValueError, match="rho"):
        crossing([0.1, 0.2], [3.0])


def test_resume_refuses_a_truncated_snapshot_or_bad_metadata(tmp_path):
    import json

    cfg = TinnitusConfig(**TINY)
    with pytest.raises(Stop):
        run_protocol(cfg, key=jax.random.key(0), checkpoint_dir=tmp_path,
                     progress=stop_after(50, STEPS))
    (ckpt,) = [p for p in tmp_path.iterdir() if p.name.startswith("ckpt-")]
    with np.load(ckpt / "arrays.npz") as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(ckpt / "arrays.npz", **(arrays | {"models.1.W": arrays["models.1.W"][:, :3]}))
    with pytest.raises(ValueError, match="arrays.npz: array `models.1.W` has shape"):
        run_protocol(cfg, key=jax.random.key(0), checkpoint_dir=tmp_path, resume=True)
    np.savez(ckpt / "arrays.npz", **arrays)
    meta = json.loads((ckpt / "meta.json").read_text())
    (ckpt / "meta.json").write_text(json.dumps(meta | {"phase": 7}))
    with pytest.raises(ValueError, match="meta.json: `phase`"):
        run_protocol(cfg, key=jax.random.key(0), checkpoint_dir=tmp_path, resume=True)
