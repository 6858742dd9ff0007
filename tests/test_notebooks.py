"""Execute the notebooks (slow): each is a jupytext percent-format .py file in notebooks/."""

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nb = jupytext.read(path)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_ipynb_in_sync_with_py(path):
    """Each notebooks/X.py has a paired X.ipynb with the same cells (`jupytext --sync`)."""
    jupytext = pytest.importorskip("jupytext")
    py, nb = jupytext.read(path), jupytext.read(path.with_suffix(".ipynb"))
    assert [c.source for c in py.cells] == [c.source for c in nb.cells]
