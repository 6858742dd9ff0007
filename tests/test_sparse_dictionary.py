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
    est = ns.MiniBatchDictionaryLearning(16, alpha=0.5, max_iter=5, batch_size=64,
                                         transform_algorithm="lasso_cd", random_state=0).fit(X)
    assert est.components_.shape == (16, 64) and est.n_steps_ <= 5 * -(-400 // 64)
    codes = est.transform(X[:10])
    assert codes.shape == (10, 16) and np.mean(codes == 0) > 0.3
    # the homotopy gives the same codes (lasso_cd: FISTA, then exact on its support)
    est.set_params(transform_algorithm="lasso_lars")
    np.testing.assert_allclose(est.transform(X[:10]), codes, atol=1e-8)


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


def _exact_codes(X, D, alpha):
    """sklearn's lasso_lars codes, polished on their support by the lasso's optimality condition
    D_Aᵀ(x − D_A a_A) = α sign(a_A) (sklearn's path alone was 4e-6 off on one sample here)."""
    codes = sparse_encode(X, D.T, algorithm="lasso_lars", alpha=alpha)
    for a, x in zip(codes, X):
        on = a != 0
        DA = D[:, on]
        a[on] = np.linalg.solve(DA.T @ DA, DA.T @ x - alpha * np.sign(a[on]))
    return codes


def _online_reference(X, D, alpha, idx, n):
    """Online dictionary learning (Mairal et al. 2010, SPAMS `trainDL`'s statistics) in NumPy,
    for rounds that replace no atom: exact codes by sklearn's lasso_lars, statistics of the
    current and previous epoch with the forgetting factor β_t, one block-coordinate sweep."""
    b = idx.shape[1]
    p = D.shape[1]
    A_prev, A_now = np.zeros((p, p)), np.zeros((p, p))
    B_prev, B_now = np.zeros_like(D), np.zeros_like(D)
    for t, rows in enumerate(idx):
        Xb = X[rows]
        codes = _exact_codes(Xb, D, alpha)
        if ((t + 1) * b) // n != (t * b) // n:  # a new epoch begins after this round
            A_prev, B_prev, A_now, B_now = A_now, B_now, 0 * A_now, 0 * B_now
        m = min(2 * n, t * b if t < b else b * b + t - b)
        beta = 0.0 if t == 0 else (m + 1 - b) / (m + 1)
        A_prev, B_prev = beta * A_prev, beta * B_prev
        A_now = beta * A_now + codes.T @ codes / b
        B_now = beta * B_now + Xb.T @ codes / b
        A, B = A_prev + A_now, B_prev + B_now
        for k in range(p):
            if A[k, k] > 1e-6:
                d = D[:, k] + (B[:, k] - D @ A[:, k]) / A[k, k]
                D[:, k] = d / max(np.linalg.norm(d), 1.0)
    return D


def test_online_equals_a_numpy_reference(x64):
    """12 rounds of 64 of 300 samples: three epoch changes, the forgetting factor's cap (2n)
    reached; 12 × 64 samples < 10⁴, so no atom is replaced (SPAMS's rule)."""
    from neurojax.sparse._dictionary import _batches

    X, alpha, key = _digits(300), 0.3, jax.random.key(3)
    D0 = X[::25][:12].T / np.linalg.norm(X[::25][:12], axis=1)
    res = ns.learn_dictionary(X, 12, alpha, key=key, method="online", steps=12, batch_size=64,
                              init=D0)
    idx = np.asarray(_batches(jax.random.split(key)[1], 300, 64, np.arange(12)))
    ref = _online_reference(X, D0.copy(), alpha, idx, 300)
    np.testing.assert_allclose(np.asarray(res.dictionary), ref, atol=1e-9)
    # the final codes are the exact lasso codes of every sample
    codes = _exact_codes(X, np.asarray(res.dictionary), alpha)
    np.testing.assert_allclose(np.asarray(res.codes), codes, atol=1e-9)


def test_online_paths_that_outgrow_their_slots_are_finished_by_fista(x64, monkeypatch):
    """With 2 homotopy slots most paths stop full; FISTA (to a 1e-13 relative gap, within
    `code_max_steps`) finishes them inside the scan: the reference's dictionary to 1e-6."""
    import neurojax.sparse._dictionary as dictionary

    monkeypatch.setattr(dictionary, "_MAX_ACTIVE", 2)
    X, alpha, key = _digits(300), 0.3, jax.random.key(3)
    D0 = X[::25][:12].T / np.linalg.norm(X[::25][:12], axis=1)
    res = ns.learn_dictionary(X, 12, alpha, key=key, method="online", steps=6, batch_size=64,
                              init=D0, tol=1e-13, code_max_steps=20_000, return_codes=False)
    idx = np.asarray(dictionary._batches(jax.random.split(key)[1], 300, 64, np.arange(6)))
    ref = _online_reference(X, D0.copy(), alpha, idx, 300)
    np.testing.assert_allclose(np.asarray(res.dictionary), ref, atol=1e-6)


def test_online_replaces_duplicate_atoms(x64):
    X = _digits(300)
    D0 = X[:8].T / np.linalg.norm(X[:8], axis=1)
    D0[:, 5] = D0[:, 2]  # a duplicate: SPAMS's cleaning replaces it by a sample
    res = ns.learn_dictionary(X, 8, 0.3, key=jax.random.key(0), method="online", steps=1,
                              batch_size=64, init=D0, return_codes=False)
    D = np.asarray(res.dictionary)
    cos = np.abs(D.T @ D) / np.outer(np.linalg.norm(D, axis=0), np.linalg.norm(D, axis=0))
    assert np.max(cos - np.eye(8)) < 0.999 and res.codes is None


def test_all_zero_data_gives_a_finite_result():
    """All-zero data: every atom drawn from it is zero, FISTA's step used L = 0 and the
    objective came out [nan, nan]; now the codes are exactly 0, the objective 0, and the result
    says it is finite."""
    for method in ("batch", "minibatch", "online"):
        r = ns.learn_dictionary(np.zeros((20, 8)), 4, 0.1, key=jax.random.key(0), steps=2,
                                method=method, batch_size=8)
        assert bool(r.finite) and np.all(np.asarray(r.objective) == 0), method
