import json
import subprocess
import sys

import pytest

import neurojax.infomax as nim
from neurojax._cli import build_parser, main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "neurojax", *args], capture_output=True, text=True)


def _parse(args, capsys):
    """Parse `args` in this process (no interpreter start-up per case, ~3 s each); returns
    `(exit code, stdout, stderr)` when the parser exits, None when it accepts them."""
    try:
        build_parser().parse_args(args)
    except SystemExit as e:
        out = capsys.readouterr()
        return e.code, out.out, out.err
    return None


def test_help_and_version(capsys):
    for args in (["--help"], ["demo", "--help"], ["infomax", "--help"], ["ring", "--help"],
                 ["info", "--help"], ["sparse", "--help"], ["tinnitus", "--help"],
                 ["paper", "--help"]):
        code, out, _ = _parse(args, capsys)
        assert code == 0 and "usage" in out
    r = _run("--version")  # the console entry point itself, once
    assert r.returncode == 0 and "neurojax" in r.stdout


@pytest.mark.parametrize(
    "args, text",
    [
        (["demo", "--seed", "abc"], "--seed"),
        (["demo", "--bogus"], "--bogus"),
        (["demo", "--platform", "tpu9"], "--platform"),
        (["nosuchcommand"], "nosuchcommand"),
        (["infomax", "--steps", "-3"], "--steps"),
        (["ring", "--variant", "hexagonal"], "--variant"),
        (["ring", "--N", "0"], "--N"),
        (["demo", "--seed", str(2**64)], "--seed"),
        (["demo", "--out", __file__ + "/sub"], "--out"),  # under a file
        (["sparse", "--out", "/proc/neurojax-x"], "--out"),  # a folder that cannot be made
    ],
)
def test_bad_arguments_exit_2_one_line(args, text, capsys):
    parsed = _parse(args, capsys)
    if parsed is None:  # found after parsing: through the entry point
        r = _run(*args)
        code, err = r.returncode, r.stderr
    else:
        code, _, err = parsed
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in err


def test_missing_platform_exits_2_one_line(tmp_path):
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):  # pragma: no cover (a GPU machine)
        pytest.skip("this machine has a GPU")
    r = _run("info", "--platform", "gpu", "--out", str(tmp_path))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "--platform gpu" in lines[0] and "GPU" in lines[0], r.stderr
    assert not (tmp_path / "summary.json").exists()


def test_platform_cpu_takes_effect(tmp_path):
    """`--platform cpu` goes through jax.config although `import neurojax` imported JAX first."""
    r = _run("infomax", "--platform", "cpu", "--out", str(tmp_path), "--steps", "2", "--n-in", "4",
             "--n-out", "6", "--no-progress")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["environment"]["backend"] == "cpu", summary["environment"]


def test_import_is_light():
    code = ("import sys, neurojax; from jax._src import xla_bridge as xb; "
            "bad = [m for m in ('matplotlib', 'neurojax.experiments', 'tqdm') if m in sys.modules]; "
            "assert not bad, bad; assert not xb.backends_are_initialized(), 'a backend started'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_unknown_demo_capability(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--only", "nope", "--no-progress"]) == 2
    assert "nope" in capsys.readouterr().err


def test_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SystemExit) as exit_:  # rejected while parsing, before anything runs
        main(["demo", "--out", str(f), "--no-progress"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "not a directory" in err[0]


def test_infomax_command_writes_summary(tmp_path):
    assert main(["infomax", "--out", str(tmp_path), "--steps", "8", "--n-in", "8", "--n-out", "12",
                 "--no-progress"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["steps"] == 8 and summary["environment"]["backend"] == "cpu"
    assert (tmp_path / "infomax_weights.png").stat().st_size > 1000


def test_parser_has_common_options():
    args = build_parser().parse_args(["demo", "--x64", "--platform", "cpu", "--seed", "3"])
    assert args.x64 and args.platform == "cpu" and args.seed == 3 and args.out == "./neurojax-out"


def test_demo_ring_writes_results(tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--only", "ring", "--no-progress"]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    ring = res["capabilities"]["ring"]
    assert ring["finite"] and ring["steps"] == 74999 and res["environment"]["jax"]
    # the learned kernel replays a travelling wave with the drive off
    assert ring["replay_wave"]["persists"] and ring["driven_wave"]["speed"] == pytest.approx(-5000)
    assert (tmp_path / "ring_raster.png").stat().st_size > 1000


@pytest.mark.parametrize("variant", ["full", "single"])
def test_ring_command_writes_summary(tmp_path, variant):
    assert main(["ring", "--variant", variant, "--periods", "3", "--N", "60", "--replay-periods",
                 "2", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["variant"] == variant and summary["steps"] == 3 * 60 - 1
    assert summary["driven_wave"]["speed"] == pytest.approx(-5000, rel=1e-2)
    assert ("translation_invariance" in summary) == (variant == "full")
    assert (tmp_path / "ring_kernel.png").stat().st_size > 1000


def test_info_command_writes_summary(tmp_path):
    assert main(["info", "--out", str(tmp_path), "--seeds", "1", "--n", "512", "--steps", "50",
                 "--batch-size", "64", "--no-progress"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["mean"]) == {"plug-in", "KSG", "InfoNCE", "NWJ", "JSD", "DV"}
    assert len(summary["mean"]["KSG"]) == len(summary["true_mi"]) == 5
    # KSG needs no training: already close at n = 512
    assert summary["max_abs_error"]["KSG"] < 0.15
    assert (tmp_path / "info_estimators.png").stat().st_size > 1000


def test_sparse_command_writes_summary(tmp_path):
    assert main(["sparse", "--out", str(tmp_path), "--patches", "600", "--rounds", "6",
                 "--no-progress"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    k = summary["kurtosis"]
    # the tutorial's claim: temporal differencing raises kurtosis of the panning pixel
    assert min(k[f"|Δ{t}|"] for t in (1, 2, 4, 8, 16)) > k["signal"]
    # OMP error is non-increasing in the number of nonzeros and at noise level at the true 4
    err = summary["omp"]["relative_error"]
    assert all(b <= a + 1e-6 for a, b in zip(err, err[1:])) and err[3] < 0.25 < err[2]
    assert summary["digits"]["kurtosis_dictionary_codes"] > summary["digits"]["kurtosis_pca_codes"]
    for name in summary["figures"]:
        assert (tmp_path / name).stat().st_size > 1000


def test_tinnitus_command_bad_profile_exits_2():
    r = _run("tinnitus", "--profile", "deaf")
    assert r.returncode == 2 and "--profile" in r.stderr


def test_tinnitus_experiment_writes_summary_and_resumes(tmp_path):
    from neurojax.experiments import TinnitusConfig, tinnitus_experiment

    cfg = TinnitusConfig(n_in=8, n_out=12, n_samples=200, batch_size=8, steps_W=20, steps_K=20,
                         steps_attenuated=20, rec_eta=0.02, log_every=10, checkpoint_every=10,
                         penalties=(0.05, 0.5))
    res = tinnitus_experiment(tmp_path, config=cfg, profile="all", progress=False,
                              sweep_steps=(10, 10))
    assert res["profiles"] == list(nim.PROFILES)
    assert "tinnitus_profiles.png" in res["figures"]
    b = res["per_profile"]["baseline"]
    assert len(b["silence_after"]) == 12 and len(b["audiogram_db"]) == 8
    assert len(b["sweep"]["rho_after"]) == 2 and len(b["slowing"]["picard_steps"]) == 17
    json.dumps(res, allow_nan=False)  # strict JSON (no inf/nan)
    for name in res["figures"]:
        assert (tmp_path / name).stat().st_size > 1000
    again = tinnitus_experiment(tmp_path, config=cfg, profile="all", progress=False,
                                sweep_steps=(10, 10), resume=True)  # finished: same numbers
    assert again["per_profile"]["baseline"]["silence_after"] == b["silence_after"]
    with pytest.raises(ValueError, match="already holds a run"):  # nothing replaced silently
        tinnitus_experiment(tmp_path, config=cfg, profile="all", progress=False, sweep_steps=(10, 10))


def test_paper_command_runs_resumes_and_refuses_to_overwrite(tmp_path, capsys):
    out = str(tmp_path / "p")
    assert main(["paper", "--preset", "tiny", "--out", out, "--no-progress",
                 "--scale-step", "1"]) == 0
    s = json.loads((tmp_path / "p" / "paper_summary.json").read_text())
    assert s["penalties"] == [0.05, 0.2] and set(s["profiles"]) == {"baseline", "low"}
    assert len(s["rho_before"]) == 2 and len(s["profiles"]["low"]["rho_after"]) == 2
    assert {"crossing", "all", "reason"} <= set(s["crossings_before"])
    for fig in ("rho_vs_lambda.png", "critical_slowing.png", "measures.png"):
        assert (tmp_path / "p" / fig).stat().st_size > 0
    capsys.readouterr()
    assert main(["paper", "--preset", "tiny", "--out", out, "--no-progress"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(["paper", "--preset", "tiny", "--out", out, "--no-progress", "--seed", "3",
                 "--resume"]) == 2
    assert "seed: checkpoint 0, now 3" in capsys.readouterr().err
    assert main(["paper", "--preset", "tiny", "--out", str(tmp_path / "q"), "--resume",
                 "--no-progress"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["paper", "--penalties", "0"])
