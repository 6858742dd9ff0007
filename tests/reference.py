"""Seed-reference values for the parity tests, from fixtures in `tests/data/reference/`.

The parity tests compare neurojax with the seeds' NumPy code (`../shared/reference/*.py`). So
that they run from any clone, each reference value a test needs is a small `.npz` fixture:
`reference(name, compute)` returns the fixture's arrays. `python tests/data/make_reference.py`
(with `../shared/reference` beside the checkout) re-runs the parity tests with
`NEUROJAX_RECORD_REFERENCE=1`, which makes `reference` call `compute(seeds)` with the seed
modules and write what it returns. A missing fixture fails the test (it is part of the
repository); only the long golden runs (`@pytest.mark.slow`) use the seed code live, through
`conftest.seed_reference`.
"""

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from conftest import seed_reference

DATA = Path(__file__).resolve().parent / "data" / "reference"


def recording() -> bool:
    return os.environ.get("NEUROJAX_RECORD_REFERENCE") == "1"


def _seeds():
    return SimpleNamespace(infomax_seed=seed_reference("infomax_seed"),
                           ring_seed=seed_reference("ring_seed"))


def reference(name: str, compute) -> dict:
    """The reference arrays `name` (a dict of NumPy arrays): read from
    `tests/data/reference/<name>.npz`, or, when recording, `compute(seeds)` (a dict of arrays;
    `seeds.infomax_seed`, `seeds.ring_seed` are the seed modules) written there first."""
    path = DATA / f"{name}.npz"
    if recording():
        value = {k: np.asarray(v) for k, v in compute(_seeds()).items()}
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **value)
        os.replace(tmp, path)
    if not path.exists():
        raise FileNotFoundError(f"reference fixture {path} is missing: run "
                                f"`python tests/data/make_reference.py` with ../shared beside "
                                f"the checkout")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}
