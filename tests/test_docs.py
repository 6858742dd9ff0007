"""The documentation: the API reference lists every public name; the site builds (slow)."""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", ROOT / "docs" / "gen_api.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_api_reference_lists_every_public_name():
    gen = _gen_api()
    for sub in gen.SUBPACKAGES:
        names = gen.public_names(sub)
        assert names, sub
        page = (ROOT / "docs" / "api" / f"{sub or 'neurojax'}.md").read_text()
        path = f"neurojax.{sub}" if sub else "neurojax"
        listed = set(re.findall(rf"^::: {re.escape(path)}\.(\w+)$", page, flags=re.M))
        missing, extra = set(names) - listed, listed - set(names)
        assert not missing and not extra, (f"docs/api for {path}: missing {sorted(missing)}, "
                                           f"not exported {sorted(extra)}; run docs/gen_api.py")


def test_every_api_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        assert f"api/{page.name}" in nav, page


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    if shutil.which("mkdocs") is None and importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
