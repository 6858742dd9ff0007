import warnings

import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import DictionaryLearning, sparse_encode

import neurojax.sparse as ns


def _digits(n=300):
    X = load_digits().data[:n] / 16.0
    return X - X.mean(1, keepdims=True)


def test_batch_dictionary_learning_reaches_sklearn_objective(x64):
    X, alpha = _digits(), 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = DictionaryLearning(n_components=32, alpha=alpha, fit_algorithm="cd",
                                transform_algorithm="lasso_cd", random_state=0,
                                max_iter=100).fit(X)
        codes = sparse_encode(X, sk.components_, algorithm="lasso_cd", alpha=alpha)
    obj_sk = np.sum(0.5 * ((X - codes @ sk.components_) ** 2).sum(1) + alpha * np.abs(codes).sum(1))
    res = ns.learn_dictionary(X, 32, alpha, key=jax.random.key(0), steps=60)
    assert float(res.objective[-1]) <= 1.01 * obj_sk, (float(res.objective[-1]), obj_sk)
    norms = np.linalg.norm(np.asarray(res.dictionary), axis=0)
    assert np.all(norms <= 1 + 1e-12)
    assert np.all(np.diff(np.asarray(res.objective)) <= 1e-6 * obj_sk)  # monotone (up to FISTA tol)


def test_minibatch_estimator(x64):
    X = _digits(400)
    est = ns.MiniBatchDictionaryLearning(16, alpha=0.5, max_iter=5, batch_size=64, init="pca",
                                         transform_algorithm="fista", random_state=0).fit(X)
    assert est.components_.shape == (16, 64) and est.n_steps_ == 5 * (400 // 64)
    codes = est.transform(X[:10])
    assert codes.shape == (10, 16) and np.mean(codes == 0) > 0.3
    assert np.all(np.isfinite(est.objective_))
    # the homotopy gives the same codes (FISTA stops at a 1e-7 relative duality gap)
    est.set_params(transform_algorithm="lasso_lars")
    np.testing.assert_allclose(est.transform(X[:10]), codes, atol=1e-3)


def test_update_dictionary_decreases_objective(x64):
    X = _digits(100)
    D = ns.learn_dictionary(X, 8, 0.5, key=jax.random.key(1), steps=1).dictionary
    A = ns.fista(D, X, 0.5).codes
    before = float(np.sum(ns.lasso_objective(D, X, A, 0.5)))
    D2 = ns.update_dictionary(D, A.T @ A, X.T @ A)
    assert float(np.sum(ns.lasso_objective(D2, X, A, 0.5))) <= before + 1e-10


def test_bad_input():
    X = _digits(20)
    with pytest.raises(ValueError, match="`method`"):
        ns.learn_dictionary(X, 4, 0.1, key=jax.random.key(0), method="online-ish")
    with pytest.raises(ValueError, match="`alpha`"):
        ns.learn_dictionary(X, 4, -0.1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="`X`"):
        ns.learn_dictionary(np.full((5, 3), np.nan), 4, 0.1, key=jax.random.key(0))
