"""scikit-learn's own dictionary-learning tests, run against neurojax's estimators.

`sklearn/decomposition/tests/test_dict_learning.py` ships in scikit-learn's wheel. `rewrite`
takes it from the installed scikit-learn, switches its import of the six public names
(`DictionaryLearning`, `MiniBatchDictionaryLearning`, `SparseCoder`, `dict_learning`,
`dict_learning_online`, `sparse_encode`) to neurojax's and changes nothing else; `run` executes
it with pytest in a subprocess and returns each item's outcome. Run as a script it prints the
summary: `python tests/sklearn_suite.py`.
"""

import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

NAMES = ("DictionaryLearning", "MiniBatchDictionaryLearning", "SparseCoder", "dict_learning",
         "dict_learning_online", "sparse_encode")
_BLOCK = re.compile(r"from sklearn\.decomposition import \(\n(?:    \w+,\n)+\)\n")


def source() -> Path:
    import sklearn

    return Path(sklearn.__file__).parent / "decomposition" / "tests" / "test_dict_learning.py"


def rewrite(text: str) -> str:
    """The test module with its `from sklearn.decomposition import (...)` block replaced."""
    block = _BLOCK.search(text)
    if block is None:
        raise ValueError("scikit-learn's import block was not found: the test file changed")
    names = re.findall(r"    (\w+),", block.group(0))
    if sorted(names) != sorted(NAMES):
        raise ValueError(f"scikit-learn's test imports {names}, expected {NAMES}")
    new = "from neurojax.sparse import (\n" + "".join(f"    {n},\n" for n in NAMES) + ")\n"
    return text[:block.start()] + new + text[block.end():]


def run(workdir: Path, timeout: float = 3000) -> dict[str, str]:
    """Outcome ("passed", "failed", "error", "skipped") of every item, by test id."""
    workdir = Path(workdir)
    test = workdir / "test_sklearn_dict_learning.py"
    test.write_text(rewrite(source().read_text()))
    (workdir / "pytest.ini").write_text("[pytest]\n")
    xml = workdir / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", str(test), "-q", "-p", "no:cacheprovider",
                    "-p", "no:randomly", "-c", str(workdir / "pytest.ini"), "--rootdir",
                    str(workdir), f"--junitxml={xml}", "-W", "ignore::pytest.PytestUnknownMarkWarning"],
                   cwd=workdir, timeout=timeout, capture_output=True, text=True)
    outcomes = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = case.get("name")
        kinds = {child.tag for child in case}
        outcomes[name] = ("failed" if "failure" in kinds else "error" if "error" in kinds
                          else "skipped" if "skipped" in kinds else "passed")
    return outcomes


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res = run(Path(tmp))
    bad = sorted(k for k, v in res.items() if v != "passed")
    for k in bad:
        print(res[k], k)
    print(f"{len(res) - len(bad)} of {len(res)} passed")
