"""Shared test fixtures: float64 switch, keys, tree comparison, the seed reference code."""

import gc
import importlib
import os
import sys
from pathlib import Path

# One OpenBLAS thread per test process, and for the processes tests start (notebook kernels, CLI
# runs), unless OPENBLAS_NUM_THREADS is set. OpenBLAS threads spin after each LAPACK call. Measured
# on 2 cores: the tinnitus golden run and the tinnitus notebook (both LAPACK-heavy) started side by
# side both hit a 400 s timeout with OpenBLAS's default threads (and 600 s in a `-m slow` run),
# against 94 s and 142 s with one BLAS thread (109 s for the golden run alone).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

if os.environ["OPENBLAS_NUM_THREADS"] == "1":  # BLAS libraries a plugin loaded before this file
    from threadpoolctl import threadpool_limits

    _ONE_BLAS_THREAD = threadpool_limits(limits=1, user_api="blas")

# Compiled programs persist on disk (JAX's compilation cache) in .jax-cache/ of the checkout:
# compilation is ~3/4 of the suite's time, the `_release_compiled_programs` fixture below drops
# the in-memory programs after each module, and modules share many programs. Measured on one
# core, 5 infomax modules: 130 s without, 100 s with an empty cache, 32 s with a warm one.
# NEUROJAX_TEST_CACHE=0 turns it off. One directory per process: each pytest-xdist worker has its
# own (JAX's cache writes its files unlocked unless it evicts, and eviction rescans the whole
# directory on every write), and subprocesses started by tests compile for themselves.
if os.environ.get("NEUROJAX_TEST_CACHE", "1") != "0":
    jax.config.update("jax_compilation_cache_dir",
                      str(Path(__file__).resolve().parents[1] / ".jax-cache"
                          / os.environ.get("PYTEST_XDIST_WORKER", "main")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

# The default suite compiles for speed of compilation, not of the programs: compiling is most of
# its time. LLVM at -O0 (`--xla_backend_optimization_level=0`; XLA's default is 2), XLA:CPU's
# older elemental kernel emitter (`--xla_cpu_use_fusion_emitters=false`) and one codegen thread
# per program (the xdist workers already fill the cores). Measured on 2 cores, the default suite
# (jaxlib 0.10.2, cold caches): 11:39 and 1,308 CPU-s at -O1, 5:20 and 570 CPU-s with these
# flags; 3 infomax/sparse/ring modules on one core: 141, 100 (emitter), 51 CPU-s (both).
# -O0 computes differently in the last bits (no fused multiply-adds) and flushed float32
# subnormals that -O2 keeps (a QR of a χ with 1e-30 entries gave J = -inf instead of finite).
# CI's slow stage and NEUROJAX_TEST_OPTIMIZE=1 compile as users do. The emitter flag is only
# set on the jaxlib versions measured (XLA aborts on flags it does not know; it is being
# retired). Set before the first computation, which is when XLA reads its flags; subprocesses
# of tests inherit them.
_FAST_COMPILE = ["--xla_backend_optimization_level=0", "--xla_cpu_parallel_codegen_split_count=1"]
if os.environ.get("NEUROJAX_TEST_OPTIMIZE", "0") != "1":
    import jaxlib

    if tuple(int(v) for v in jaxlib.__version__.split(".")[:2]) == (0, 10):
        _FAST_COMPILE.append("--xla_cpu_use_fusion_emitters=false")
    os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), *_FAST_COMPILE]).strip()

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


def pytest_collection_modifyitems(config, items):
    """Under the annotation checker (`--jaxtyping-packages=...`), skip the tests marked `badinput`:
    they check the package's own error for an argument of the wrong type or shape, which the
    checker reports first (with its own message)."""
    try:
        checked = config.getoption("jaxtyping_packages")
    except ValueError:  # jaxtyping's plugin not loaded
        checked = None
    if not checked:
        return
    skip = pytest.mark.skip(reason="badinput: the annotation checker raises before the package's "
                                   "own error")
    for item in items:
        if "badinput" in item.keywords:
            item.add_marker(skip)
