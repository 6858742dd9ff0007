r"""Every CPU/GPU choice neurojax makes, in one place, with the measurement behind it.

A policy changes how a result is computed, never the result: each choice below is between
formulations that give the same numbers (tested; see `tests/test_policy.py`). Choices are made at
trace time. :func:`backend` names the backend whose policy applies: `jax.default_backend()`, or
the one set by :func:`use_policy` (so that the accelerator branch of every policy can be run, and
compared, on a CPU).

Not a policy, and not overridable: batched LAPACK calls on the CPU (a vmapped LU, triangular solve,
Cholesky or QR) can deadlock XLA's CPU thread pool when two run at once (jaxlib 0.10.2, seen in 3 of 3
trials), so on a CPU device every vmapped factorisation in :mod:`neurojax._linalg` is a loop of
unbatched calls whatever :func:`use_policy` says (:func:`sequential_lapack`).

Measured on the 2-core CPU of the development machine (jax 0.10.2), except where noted.
"""

import contextlib
from collections.abc import Iterator

import jax

__all__ = [
    "KNN_CHUNK_ROWS",
    "KNN_TREE_MAX_DIM",
    "LARS_CPU_ROWS",
    "NEUMANN_MAX_CONTRACTION",
    "NEUMANN_MIN_SIZE",
    "backend",
    "knn_method",
    "lars_group_rows",
    "newton_fallback",
    "sequential_lapack",
    "use_policy",
]

_OVERRIDE: list[str] = []
_KNOWN = ("cpu", "gpu", "tpu")


def backend() -> str:
    """The backend whose policy applies: the innermost :func:`use_policy`, else
    `jax.default_backend()`."""
    return _OVERRIDE[-1] if _OVERRIDE else jax.default_backend()


def _accelerator() -> bool:
    return backend() != "cpu"


@contextlib.contextmanager
def use_policy(name: str) -> Iterator[None]:
    """Trace with the policy of backend `name` ("cpu", "gpu" or "tpu") inside the block.

    Compiled programs are dropped on entry and exit (`jax.clear_caches()`), because a policy is
    read at trace time. For tests: e.g. the GPU's Newton fallback run on the CPU must give the
    CPU's roots bitwise."""
    if name not in _KNOWN:
        raise ValueError(f"`name` must be one of {_KNOWN}, got {name!r}")
    jax.clear_caches()
    _OVERRIDE.append(name)
    try:
        yield
    finally:
        _OVERRIDE.pop()
        jax.clear_caches()


def sequential_lapack() -> bool:
    """True on a CPU *device* (not overridable, see the module docstring): vmapped LAPACK calls
    run one matrix at a time. On a GPU the batched kernels are used (fast, no deadlock)."""
    return jax.default_backend() == "cpu"


def newton_fallback() -> str:
    """How the fixed-point solvers give Newton the members/samples that Picard left unconverged
    (exactly those, on every backend):

    - `"map"` (CPU): a `lax.map` over them with a per-row `lax.cond`, so a converged row costs
      nothing. Near criticality a few of 4–50 members fail Picard in most steps of a λ_K sweep,
      and Newton for all would pay an LU per member and iteration.
    - `"select"` (accelerators): ONE vmapped Newton solve of every row (batched kernels), its
      result kept where Picard failed (`jnp.where`). A per-row `cond` under `vmap` would run both
      branches anyway, and a batched kernel costs about one row on a GPU.
    """
    return "select" if _accelerator() else "map"


def member_mesh_allowed(mesh) -> bool:
    """Whether an ensemble's members may be split over the devices of `mesh`: not over several
    CPU devices in one process (measured: 10 members of 40 -> 80 on 2 host devices hung within the
    first phase-2 chunk at 0 % CPU — the per-member LAPACK calls of two devices at once deadlock
    this jaxlib, `neurojax/_linalg.py`), unless the environment sets
    `NEUROJAX_UNSAFE_CPU_MESH=1` (the test that reproduces the split does)."""
    import os

    several_cpus = mesh.devices.size > 1 and mesh.devices.flat[0].platform == "cpu"
    return not several_cpus or os.environ.get("NEUROJAX_UNSAFE_CPU_MESH") == "1"


# The InfoMax objective's "auto" linear solver takes the Neumann path when this bound on its
# contraction rate holds for the whole batch: then each solve needs at most ~17 iterations to
# 1e-12, each one matrix product with K for the batch, cheaper than one LU of I − ΦK per sample
# (measured at 40 -> 400 on the CPU) ...
NEUMANN_MAX_CONTRACTION = 0.2
# ... and for networks of at least this many outputs: for small ones an LU per sample is cheap
# and the iteration's loop overhead dominates (CPU, 32 -> 64: 2.5 ms per step vs 1.6 ms with LU).
NEUMANN_MIN_SIZE = 128


# KSG on a CPU: above this joint dimension the brute-force tiles beat the host k-d trees
# (measured, float64, one core: joint 20, n = 2,000: trees 0.141 s, brute 0.131 s; joint 32,
# n = 5,000: 1.41 vs 1.06 s; joint 50, n = 5,000: 2.50 vs 1.65 s; joint 10, n = 5,000: 0.26 vs
# 0.60 s). Both give the same counts.
KNN_TREE_MAX_DIM = 20


def knn_method(joint_dim: int = 1) -> str:
    """Nearest-neighbour search of the KSG estimators for `method="auto"`: on a CPU, k-d trees on
    the host (scipy/scikit-learn; traced calls reach them through `jax.pure_callback`) up to a
    joint dimension of :data:`KNN_TREE_MAX_DIM`, brute-force distance blocks above it; on an
    accelerator always the brute-force blocks. Both give the same counts. Measured here: a
    1,000-permutation KSG test (n = 1,000, d = 1) ran 0.32× NPEET's Python loop with the brute
    blocks on the CPU and 1.33× with the trees (`bench_info.py`)."""
    return "brute" if _accelerator() or joint_dim > KNN_TREE_MAX_DIM else "kdtree"


# Rows per brute-force distance block: small blocks stay in cache on the CPU (64 measured fastest
# at n = 10,000); accelerators prefer large ones.
KNN_CHUNK_ROWS = {"cpu": 64, "accelerator": 4096}


def knn_chunk_rows() -> int:
    """Rows per distance block of the brute-force neighbour search (:data:`KNN_CHUNK_ROWS`)."""
    return KNN_CHUNK_ROWS["accelerator" if _accelerator() else "cpu"]


# LARS/homotopy: on a CPU, samples are solved this many per compiled call (a call's working set
# above glibc's largest reused block, ~32 MB, is mapped afresh on every call: tens of thousands of
# page faults); accelerators run every sample at once.
LARS_CPU_ROWS = 2048


def lars_group_rows(n: int, all_rows: int) -> int:
    """Rows per LARS group for `n` samples (`all_rows`: the padded size of one group of all)."""
    return all_rows if _accelerator() or n <= LARS_CPU_ROWS else LARS_CPU_ROWS
