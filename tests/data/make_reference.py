"""Write the seed-reference fixtures of the parity tests into `tests/data/reference/`.

    python tests/data/make_reference.py        # with ../shared/reference beside the checkout

Runs the parity tests with `NEUROJAX_RECORD_REFERENCE=1`: each call of
`tests/reference.py:reference(name, compute)` then runs `compute` on the seeds' NumPy code
(`../shared/reference/infomax_seed.py`, `ring_seed.py`; or `$NEUROJAX_REFERENCE`) and writes
`<name>.npz` (atomically) before the test compares with it, so the fixtures are exactly what the
tests read. Afterwards the tests read the fixtures and no longer need the seed code; rerun this
script when a parity test changes the reference values it asks for.
"""

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
PARITY = ["test_infomax_inputs.py", "test_infomax_model.py", "test_infomax_objective.py",
          "test_infomax_online.py", "test_infomax_equilibrium.py", "test_infomax_learning.py",
          "test_infomax_train.py", "test_ring_simulate.py"]

if __name__ == "__main__":
    env = {**os.environ, "NEUROJAX_RECORD_REFERENCE": "1"}
    # one process (`-n 0`): two xdist workers could write the same fixture at once
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
           *[str(TESTS / f) for f in PARITY]]
    print("$", " ".join(cmd), flush=True)
    sys.exit(subprocess.call(cmd, env=env, cwd=TESTS.parent))
