import warnings

import numpy as np
import pytest
from sklearn.linear_model import OrthogonalMatchingPursuit

import neurojax.sparse as ns


def _sinusoid_problem():
    """The tutorial's setting: 100 sinusoids sin(f t), f in [0.001, 1], and a pixel-like signal."""
    t = np.arange(300)
    D = np.vstack([np.sin(f * t) for f in np.linspace(0.001, 1, 100)]).T
    rng = np.random.default_rng(0)
    return D, 3 + 0.1 * np.cumsum(rng.standard_normal((4, 300)), axis=1)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_nonzero", [1, 5, 10])
def test_omp_matches_sklearn(x64, fit_intercept, n_nonzero):
    D, X = _sinusoid_problem()
    res = ns.omp(D, X, n_nonzero, fit_intercept=fit_intercept)
    for i, x in enumerate(X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg = OrthogonalMatchingPursuit(fit_intercept=fit_intercept,
                                            n_nonzero_coefs=n_nonzero).fit(D, x)
        assert set(np.nonzero(reg.coef_)[0]) == set(np.asarray(res.support[i]).tolist())
        np.testing.assert_allclose(res.codes[i], reg.coef_, rtol=0,
                                   atol=1e-8 * np.abs(reg.coef_).max())
        assert float(res.intercept[i]) == pytest.approx(reg.intercept_, abs=1e-8)


def test_omp_single_signal_and_error_decreases(x64):
    D, X = _sinusoid_problem()
    errs = [float(np.linalg.norm(X[0] - D @ np.asarray(ns.omp(D, X[0], k).codes)))
            for k in (1, 2, 4, 8, 16)]
    assert all(b <= a + 1e-12 for a, b in zip(errs, errs[1:]))


def test_bad_input():
    D, X = _sinusoid_problem()
    with pytest.raises(ValueError, match="`n_nonzero`"):
        ns.omp(D, X, 101)
    with pytest.raises(ValueError, match="`D`"):
        ns.omp(D, X[:, :10], 3)
    with pytest.raises(ValueError, match="`X`"):
        ns.omp(D, np.full_like(X, np.nan), 3)
