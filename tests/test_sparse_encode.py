"""`sparse_encode`: the solver "auto" picks, parity with scikit-learn, dtype-aware defaults."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.decomposition import sparse_encode as sk_encode
from sparse_problems import patch_problem, random_problem

import neurojax.sparse as ns


def _objective(D, X, A, alpha):
    return 0.5 * ((X - A @ D.T) ** 2).sum(1) + alpha * np.abs(A).sum(1)


def _sk(X, D, alpha, algorithm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coordinate descent warns at tight tolerances
        kw = {"max_iter": 100_000} if algorithm == "lasso_cd" else {}
        return sk_encode(X, D.T, algorithm=algorithm, alpha=alpha, **kw)


def test_auto_picks_the_homotopy_for_sparse_codes(x64):
    D, X = patch_problem()  # coherent patch atoms, α = 0.1: about 2 atoms per sample
    r = ns.encode(X, D, 0.1)
    assert r.method == "lasso_lars" and bool(jnp.all(r.converged))
    np.testing.assert_allclose(np.asarray(r.codes), _sk(X, D, 0.1, "lasso_lars"), rtol=0,
                               atol=1e-8)


def test_auto_picks_fista_for_dense_codes(x64):
    D, X = random_problem(n=100, f=64, k=128)  # Gaussian atoms, α = 0.05: ~60 atoms per sample
    r = ns.encode(X, D, 0.05, tol=1e-13, max_steps=20_000)
    assert r.method == "fista" and bool(jnp.all(r.converged))
    A = np.asarray(r.codes)
    # the exact homotopy's codes, to 1e-8
    np.testing.assert_allclose(A, np.asarray(ns.lasso_lars(D, X, 0.05).codes), rtol=0, atol=1e-8)
    # and an objective no worse than scikit-learn's (its LARS codes differ from the exact ones
    # by up to 5e-5 here, at a higher objective; coordinate descent agrees to 3e-6)
    for algorithm in ("lasso_lars", "lasso_cd"):
        ref = _objective(D, X, _sk(X, D, 0.05, algorithm), 0.05)
        assert np.all(_objective(D, X, A, 0.05) <= ref * (1 + 1e-8)), algorithm


def test_explicit_methods_are_the_solvers(x64):
    D, X = random_problem(n=30)
    for method, fn in (("lasso_lars", ns.lasso_lars), ("fista", ns.fista)):
        r = ns.encode(X, D, 0.2, method=method)
        assert r.method == method
        np.testing.assert_array_equal(np.asarray(r.codes), np.asarray(fn(D, X, 0.2).codes))
    r = ns.encode(X, D, method="omp", n_nonzero=3)
    np.testing.assert_array_equal(np.asarray(r.codes), np.asarray(ns.omp(D, X, 3).codes))
    res = X - np.asarray(r.codes) @ D.T
    np.testing.assert_allclose(np.asarray(r.objective), 0.5 * (res**2).sum(1), rtol=1e-12)
    nn = ns.encode(X, D, 0.2, nonneg=True)
    assert float(nn.codes.min()) >= 0


def _benchmark_problems(n):
    """The benchmark's Gaussian (3 %-sparse codes + noise, α = 0.1) and whitened natural-patch
    (data atoms, α = 1) problems, `n` samples each, in float32."""
    rng = np.random.default_rng(0)
    D = rng.standard_normal((64, 256))
    D /= np.linalg.norm(D, axis=0)
    A = rng.standard_normal((n, 256)) * (rng.random((n, 256)) < 0.03)
    X = A @ D.T + 0.05 * rng.standard_normal((n, 64))
    w = ns.whiten(jnp.asarray(ns.sample_images(downsample=2)))
    P = np.asarray(ns.extract_patches(w, 8, n, key=jax.random.key(0)), np.float64)
    P -= P.mean(1, keepdims=True)
    Dp = P[rng.choice(n, 256, replace=False)].T
    Dp /= np.linalg.norm(Dp, axis=0)
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return {"gaussian": (f32(D), f32(X), 0.1), "patches": (f32(Dp), f32(P), 1.0)}


@pytest.mark.parametrize("problem", ["gaussian", "patches"])
def test_float32_defaults_converge(problem):
    D, X, alpha = _benchmark_problems(1000)[problem]
    solvers = [("fista", ns.fista, 2000, X), ("lasso_lars", ns.lasso_lars, None, X)]
    if problem == "gaussian":  # (ISTA's O(1/k) rate needs more than its 10,000 default
        solvers.append(("ista", ns.ista, 10_000, X[:300]))  # iterations on the patch atoms)
    for name, solve, cap, X in solvers:
        r = solve(D, X, alpha)
        assert r.codes.dtype == jnp.float32
        assert bool(jnp.all(r.converged)), name
        if cap is not None:
            assert int(r.num_steps.max()) < cap, name
    # the dictionary learner's default code tolerance is reachable in float32
    D, X, alpha = _benchmark_problems(1000)[problem]
    res = ns.learn_dictionary(X[:500], 32, alpha, key=jax.random.key(0), steps=3,
                              method="minibatch", batch_size=100)
    codes = ns.fista(res.dictionary, X[:500], alpha, tol=ns.default_tol(jnp.float32))
    assert bool(jnp.all(codes.converged))


def test_bad_input():
    D, X = random_problem(n=5, f=4, k=6)
    with pytest.raises(ValueError, match="`method`"):
        ns.encode(X, D, 0.1, method="lars")
    with pytest.raises(ValueError, match="`alpha`"):
        ns.encode(X, D)
    with pytest.raises(ValueError, match="`alpha`"):
        ns.encode(X, D, -1.0)
    with pytest.raises(ValueError, match="`n_nonzero`"):
        ns.encode(X, D, method="omp")
    with pytest.raises(ValueError, match="`X`"):
        ns.encode(np.full_like(X, np.nan), D, 0.1)
    with pytest.raises(ValueError, match="`X`"):
        ns.encode(X[:, :3], D, 0.1)
    with pytest.raises(ValueError, match="`tol`"):
        ns.fista(D, X, 0.1, tol=-1.0)
