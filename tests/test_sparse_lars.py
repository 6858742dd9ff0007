"""The batched homotopy (`lasso_lars`) against scikit-learn's LARS and coordinate descent."""

import subprocess
import sys
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.decomposition import sparse_encode
from sparse_problems import patch_problem, random_problem

import neurojax.sparse as ns


def _sk(X, D, alpha, algorithm, positive=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn may warn about convergence at tight tolerances
        kw = {"max_iter": 20000} if algorithm == "lasso_cd" else {}
        return sparse_encode(X, D.T, algorithm=algorithm, alpha=alpha, positive=positive, **kw)


def _objective(D, X, A, alpha):
    return 0.5 * ((X - A @ D.T) ** 2).sum(1) + alpha * np.abs(A).sum(1)


@pytest.mark.parametrize("problem", ["random", "patches"])
def test_float64_parity_with_sklearn(x64, problem):
    # sklearn's sparse_encode minimises the same ½‖x − Da‖² + α‖a‖₁ (same α, see fista's tests)
    D, X = random_problem() if problem == "random" else patch_problem()
    alpha = 0.1
    res = ns.lasso_lars(D, X, alpha)
    assert res.codes.dtype == jnp.float64 and bool(jnp.all(res.converged))
    A = np.asarray(res.codes)
    lars, cd = _sk(X, D, alpha, "lasso_lars"), _sk(X, D, alpha, "lasso_cd")
    obj = _objective(D, X, A, alpha)
    # the path is exact: no worse than either sklearn solver, per sample (1e-10 relative)
    for ref in (lars, cd):
        assert np.all(obj <= _objective(D, X, ref, alpha) * (1 + 1e-10)), problem
    # and it is sklearn's LARS solution: same support (up to coefficients below 1e-9: sklearn
    # keeps an atom that joins exactly at λ = α with a coefficient of ~1e-17), same coefficients
    np.testing.assert_array_equal(np.abs(A) > 1e-9, np.abs(lars) > 1e-9)
    np.testing.assert_allclose(A, lars, atol=1e-8)
    np.testing.assert_allclose(np.asarray(res.objective), obj, rtol=1e-12)
    assert np.all(np.asarray(res.num_steps) >= (A != 0).sum(1))  # at least one step per atom


def test_nonneg_matches_positive_coordinate_descent(x64):
    D, X = random_problem(n=100)
    res = ns.lasso_lars(D, X, 0.05, nonneg=True)
    A = np.asarray(res.codes)
    ref = _sk(X, D, 0.05, "lasso_cd", positive=True)
    assert A.min() >= 0 and bool(jnp.all(res.converged))
    # exact path vs coordinate descent (tolerance 1e-8 on its dual gap: codes agree to ~1e-5)
    assert np.all(_objective(D, X, A, 0.05) <= _objective(D, X, ref, 0.05) * (1 + 1e-12))
    np.testing.assert_allclose(A, ref, atol=1e-4)


def test_full_active_set_continues_with_more_slots(x64):
    # two slots cannot hold these supports: those paths continue with 4, 8, 16, then 32
    # (= n_features) slots from where they stopped
    D, X = random_problem(n=60)
    res, small = ns.lasso_lars(D, X, 0.02, max_active=32), ns.lasso_lars(D, X, 0.02, max_active=2)
    nnz = (np.asarray(res.codes) != 0).sum(1)
    assert int(np.max(nnz)) > 8
    assert bool(jnp.all(small.converged))
    np.testing.assert_allclose(np.asarray(small.codes), np.asarray(res.codes), atol=1e-10)
    # each continuation repeats one step (the join that found no free slot), nothing more
    extra = np.asarray(small.num_steps) - np.asarray(res.num_steps)
    assert np.all((extra >= 0) & (extra <= 4))
    assert np.all(extra[nnz > 2] >= 1) and np.all(extra[nnz > 8] >= 3)


def test_ill_conditioned_paths_are_finished_by_fista(x64):
    # a square Gaussian dictionary (cond(DᵀD) ~ 1e6) at small α: some paths lose the exact
    # event order; the duality-gap certificate catches them and FISTA finishes them
    D, X = random_problem(n=100, f=30, k=30)
    res = ns.lasso_lars(D, X, 0.01)
    ref = _sk(X, D, 0.01, "lasso_cd")
    assert bool(jnp.all(res.converged))
    assert np.all(np.asarray(res.gap) <= 1e-7 * np.asarray(res.objective))
    np.testing.assert_allclose(_objective(D, X, np.asarray(res.codes), 0.01),
                               _objective(D, X, ref, 0.01), rtol=1e-7)


_LARGE_BATCH = """
import jax.numpy as jnp, numpy as np
import neurojax.sparse as ns
import neurojax.sparse._compaction as compaction
import neurojax.sparse._lars as lars
from sparse_problems import random_problem

# the same code paths at an eighth of the size: groups of 256 rows, chunks of 128 (the package's
# 2048 and 1024 took 130 s on one core for n = 2600)
lars._CPU_ROWS, compaction.CHUNK = 256, 128
D, X = random_problem(n=330, f=16, k=48, seed=3)
X = X * np.linspace(0.2, 3.0, len(X))[:, None]  # very different path lengths
res = ns.lasso_lars(D, X, 0.5)
assert bool(jnp.all(res.converged))
rows = np.array([0, 1, 97, 200, 329])
alone = ns.lasso_lars(D, X[rows], 0.5)
np.testing.assert_allclose(np.asarray(res.codes)[rows], np.asarray(alone.codes), atol=1e-5)
small = ns.lasso_lars(D, X, 0.5, max_active=2)  # continuations within each group of rows
assert bool(jnp.all(small.converged))  # float32: the same solutions up to rounding (codes
# measured within 2.5e-5 of each other, objectives within 2.4e-7 relative)
np.testing.assert_allclose(np.asarray(small.codes), np.asarray(res.codes), atol=1e-4)
np.testing.assert_allclose(np.asarray(small.objective), np.asarray(res.objective), rtol=1e-5)
obj = 0.5 * ((X - np.asarray(res.codes) @ D.T) ** 2).sum(1) + 0.5 * np.abs(res.codes).sum(1)
fista = ns.fista(D, X, 0.5, tol=1e-6)
assert np.sum(obj) <= np.sum(np.asarray(fista.objective)) * (1 + 1e-6)
"""


def test_large_batch_keeps_row_order():
    # two groups of rows on a CPU (the second padded), each of 2 chunks: rows are compacted
    # and permuted internally; each row's code must come back in place and equal the code of
    # that row solved alone in a small batch, also when paths continue with more slots. Runs in
    # its own process, which keeps its many compiled programs out of the suite's process (the
    # suite once segfaulted in XLA after passing Linux's limit on memory mappings; see the
    # `_release_compiled_programs` fixture).
    r = subprocess.run([sys.executable, "-c", _LARGE_BATCH], cwd=Path(__file__).parent,
                       capture_output=True, text=True, timeout=500)
    assert r.returncode == 0, r.stderr[-3000:]


def test_alpha_above_max_correlation_gives_zero_codes():
    D, X = random_problem(n=10)
    alpha = 1.01 * float(np.max(np.abs(X @ D)))
    res = ns.lasso_lars(D, X, alpha)
    assert not np.any(np.asarray(res.codes)) and not np.any(np.asarray(res.num_steps))
    assert bool(jnp.all(res.converged))


def test_float32_natural_patches_close_to_float64(x64):
    D, X = patch_problem(n=300)
    r32 = ns.lasso_lars(jnp.asarray(D, jnp.float32), jnp.asarray(X, jnp.float32), 0.1)
    assert r32.codes.dtype == jnp.float32 and bool(jnp.all(r32.converged))
    o64 = np.sum(np.asarray(ns.lasso_lars(D, X, 0.1).objective))
    o32 = np.sum(_objective(D, X, np.asarray(r32.codes, np.float64), 0.1))
    assert abs(o32 - o64) <= 1e-5 * o64


@pytest.mark.badinput
def test_bad_input():
    D, X = random_problem(n=5)
    with pytest.raises(ValueError, match="`X`"):
        ns.lasso_lars(D, X[:, :-1], 0.1)
    with pytest.raises(ValueError, match="`alpha`"):
        ns.lasso_lars(D, X, -1.0)
    with pytest.raises(ValueError, match="`X`"):
        ns.lasso_lars(D, np.where(X > 1, np.nan, X), 0.1)
    with pytest.raises(ValueError, match="`max_active`"):
        ns.lasso_lars(D, X, 0.1, max_active=0)
    with pytest.raises(TypeError, match="`max_steps`"):
        ns.lasso_lars(D, X, 0.1, max_steps=2.5)
    with pytest.raises(ValueError, match="`tol`"):
        ns.lasso_lars(D, X, 0.1, tol=-1.0)
