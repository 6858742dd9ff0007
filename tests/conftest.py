"""Shared test fixtures: float64 switch, keys, tree comparison, the seed reference code."""

import gc
import importlib
import os
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

REFERENCE_DIR = Path(os.environ.get("NEUROJAX_REFERENCE", Path(__file__).resolve().parents[1] / ".." / "shared" / "reference")).resolve()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module. Each XLA:CPU executable keeps a few
    memory mappings for its code; the whole suite compiles enough programs to pass Linux's
    default limit of 65,530 mappings per process (measured: 35,000 halfway through), after
    which a compile segfaults inside XLA."""
    yield
    jax.clear_caches()
    gc.collect()


@pytest.fixture
def x64():
    """Run the test in float64, restoring the previous setting afterwards."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture
def getkey():
    """`getkey()` returns a fresh PRNG key each call (deterministic sequence per test)."""
    counter = iter(range(10**9))

    def _getkey():
        return jax.random.key(next(counter))

    return _getkey


def tree_allclose(a, b, *, rtol=1e-7, atol=0.0) -> bool:
    """True when two PyTrees have the same structure and all leaves are allclose."""
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:
        return False
    return all(np.allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol) for x, y in zip(la, lb))


def max_rel(a, b) -> float:
    """max |a − b| / max |b| (relative error normalised by the reference's scale)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def seed_reference(name: str):
    """Import `shared/reference/<name>.py` (the seeds' NumPy code), or skip the test if it is
    absent — a failure instead with `NEUROJAX_REQUIRE_REFERENCE=1` (set by CI) or while recording
    fixtures (`tests/reference.py`)."""
    if not (REFERENCE_DIR / f"{name}.py").exists():
        why = f"seed reference code not found at {REFERENCE_DIR} (needs ../shared beside the checkout)"
        if os.environ.get("NEUROJAX_REQUIRE_REFERENCE") == "1" or \
                os.environ.get("NEUROJAX_RECORD_REFERENCE") == "1":
            pytest.fail(why)
        pytest.skip(why)
    if str(REFERENCE_DIR) not in sys.path:
        sys.path.insert(0, str(REFERENCE_DIR))
    return importlib.import_module(name)
