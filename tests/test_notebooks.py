"""Execute the notebooks (slow): each is a jupytext percent-format .py file in notebooks/.

With `NEUROJAX_NOTEBOOK_OUT=DIR` the executed notebooks (with their outputs) are written to
DIR/<name>.ipynb; `.ci/run` does so and renders them in the documentation site."""

import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_and_shows_its_figures(path, tmp_path):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    nb = jupytext.read(path)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # every notebook draws: its figures must be in its outputs (inline PNGs), not lost
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name}: no figure in the executed notebook's outputs"
    out = os.environ.get("NEUROJAX_NOTEBOOK_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(out) / f"{path.stem}.ipynb")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_ipynb_in_sync_with_py(path):
    """Each notebooks/X.py has a paired X.ipynb with the same cells (`jupytext --sync`)."""
    jupytext = pytest.importorskip("jupytext")
    py, nb = jupytext.read(path), jupytext.read(path.with_suffix(".ipynb"))
    assert [c.source for c in py.cells] == [c.source for c in nb.cells]
