"""The committed results of the long paper runs: re-analysing a committed checkpoint reproduces
its summary; the output-count summary's helpers."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from neurojax.experiments._output_count import _plateau, figure

RESULTS = Path(__file__).resolve().parents[1] / "results" / "paper"


@pytest.mark.slow
def test_reanalysing_the_committed_400_output_checkpoint_reproduces_its_summary(tmp_path):
    """The finished 40 → 400 run (λ_K = 0.226, baseline) resumed from its committed checkpoint:
    no step is taken, the analysis rewrites paper_summary.json, and ρ(K) before and after, the
    drift and the (absent) crossings equal the committed summary's."""
    from neurojax.experiments._paper_run import paper_experiment

    committed = json.loads((RESULTS / "p400" / "paper_summary.json").read_text())
    shutil.copytree(RESULTS / "p400" / "run", tmp_path / "run")
    paper_experiment(tmp_path, preset="paper", seed=0, resume=True, overwrite=False,
                     progress=False, dtype="float32", scale_step=0.5, penalties=[0.226],
                     profiles=["baseline"])
    new = json.loads((tmp_path / "paper_summary.json").read_text())
    np.testing.assert_allclose(new["rho_before"], committed["rho_before"], rtol=1e-6)
    np.testing.assert_allclose(new["profiles"]["baseline"]["rho_after"],
                               committed["profiles"]["baseline"]["rho_after"], rtol=1e-6)
    np.testing.assert_allclose(new["rho_drift_last10pct_phase2"],
                               committed["rho_drift_last10pct_phase2"], rtol=1e-6)
    assert new["crossings_before"] == committed["crossings_before"]
    assert new["paper_crossings"] == {"before": 0.183, "after": 0.228}


def test_plateau_is_the_relative_change_over_the_last_fraction():
    rho = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0], [4.0, 2.0], [5.0, 2.0]])
    # last 20 % of 5 chunks: from chunk 4 (index 3) to chunk 5
    np.testing.assert_allclose(_plateau(rho, 0.2), [0.2, 0.0])


def test_output_count_figure_from_a_summary(tmp_path):
    from neurojax.experiments._output_count import shelf_end

    summary = {"80": {"crossing": {"crossing": 0.04}, "rho_step": [60_000, 70_000],
                      "rho_log": [[4.5, 3.5, 1.0], [4.4, 3.4, 1.0]], "penalties": [0.02, 0.1, 0.2],
                      "rho_before": [4.4, 3.4, 1.0]},
               "60": {"crossing": {"crossing": 0.045}}}
    path = figure(summary, tmp_path / "oc.png")
    assert path.exists() and path.stat().st_size > 10_000
    # the end of the shelf: where ρ(K) passes 3 going down, linear in λ_K
    assert shelf_end(summary["80"]) == pytest.approx(0.1 + 0.1 * 0.4 / 2.4)
    assert shelf_end(summary["60"]) is None


@pytest.mark.slow
def test_output_count_resumes_from_its_run_directories(tmp_path):
    from neurojax.experiments._output_count import output_count

    first = output_count(tmp_path, [44], [0.05, 0.1], phase2=2000)
    again = output_count(tmp_path, [44], [0.05, 0.1], phase2=2000)  # resumes the finished run
    assert again["44"]["rho_before"] == first["44"]["rho_before"]
    assert (tmp_path / "output_count.png").exists()
    assert json.loads((tmp_path / "output_count.json").read_text())["44"]["crossing"] == \
        first["44"]["crossing"]
