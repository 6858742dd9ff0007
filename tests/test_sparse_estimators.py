"""The scikit-learn drop-in: estimator checks, parity with scikit-learn's own classes and
functions (float64 without global x64, float32), Pipeline / clone / GridSearchCV, errors."""

import warnings

import jax
import numpy as np
import pytest
from sklearn import decomposition as skd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lars
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_estimator,
    estimator_checks_generator,
    parametrize_with_checks,
)

import neurojax.sparse as ns

# the settings scikit-learn's own suite checks its estimators of the same names with
_LEARNERS = [ns.DictionaryLearning(max_iter=20, transform_algorithm="lasso_lars", random_state=0),
             ns.MiniBatchDictionaryLearning(batch_size=10, max_iter=5, random_state=0),
             ns.MiniBatchDictionaryLearning(batch_size=10, max_iter=5, fit_algorithm="cd",
                                            transform_algorithm="lasso_cd", random_state=0)]


@parametrize_with_checks(_LEARNERS)
def test_sklearn_checks(estimator, check):
    check(estimator)


# SparseCoder's dictionary fixes n_features, and some checks use data of other widths: as
# scikit-learn's own suite does for its SparseCoder, each such check gets a dictionary of its width
_CODER_FEATURES = {"check_estimators_dtypes": 5, "check_dtype_object": 10,
                   "check_transformers_unfitted_stateless": 5, "check_fit_idempotent": 2,
                   "check_estimators_overwrite_params": 2, "check_estimators_fit_returns_self": 2,
                   "check_readonly_memmap_input": 2, "check_n_features_in_after_fitting": 4,
                   "check_fit_check_is_fitted": 2, "check_n_features_in": 2,
                   "check_fit2d_1sample": 10, "check_positive_only_tag_during_fit": 4,
                   "check_fit2d_1feature": 1}


def _coder_checks():
    for algorithm in ("omp", "lasso_lars", "lasso_cd"):
        for _, check in estimator_checks_generator(ns.SparseCoder(np.zeros((5, 3))), legacy=True):
            name = getattr(check, "func", check).__name__
            yield pytest.param(algorithm, name, check, id=f"{algorithm}-{name}")


@pytest.mark.parametrize(("algorithm", "name", "check"), list(_coder_checks()))
def test_sparse_coder_checks(algorithm, name, check):
    rng = np.random.default_rng(0)
    check(ns.SparseCoder(rng.normal(size=(5, _CODER_FEATURES.get(name, 3))),
                         transform_algorithm=algorithm))


# scikit-learn's own classes under another name (module level: the checks pickle them)
class SkSparseCoder(skd.SparseCoder):
    pass


class SkDictionaryLearning(skd.DictionaryLearning):
    pass


def _failed_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = check_estimator(estimator, on_fail=None)
    return sorted(r["check_name"] for r in res if r["status"] == "failed")


@pytest.mark.slow
def test_plain_check_estimator():
    """Plain `check_estimator` (no per-check parameters, the defaults): the two learners pass
    every check (scikit-learn's own DictionaryLearning fails three: its fit_transform returns the
    "lars" fit's codes, its transform "omp" codes); SparseCoder fails exactly the checks that
    scikit-learn's own SparseCoder fails outside scikit-learn's private table of per-check
    dictionaries (a fixed 3-feature dictionary meets data of other widths; subclassed here so
    that the table does not apply)."""
    assert _failed_checks(ns.DictionaryLearning()) == []
    assert _failed_checks(ns.MiniBatchDictionaryLearning(batch_size=4, max_iter=10)) == []
    assert len(_failed_checks(SkDictionaryLearning())) == 3
    D = np.random.RandomState(0).normal(size=(5, 3))
    ours, theirs = _failed_checks(ns.SparseCoder(D)), _failed_checks(SkSparseCoder(D))
    assert ours == theirs and len(ours) == 13


def _problem(n=40, f=8, k=12, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    V = rng.randn(k, f)
    V /= np.linalg.norm(V, axis=1)[:, None]
    return rng.randn(n, f).astype(dtype), V.astype(dtype)


def _kkt_error(X, V, codes, alpha, positive):
    """Largest violation of the lasso's optimality conditions: d_j·r = α sign(a_j) on the
    support, |d_j·r| ≤ α (d_j·r ≤ α with `positive`) off it."""
    corr = (X - codes @ V) @ V.T
    on = codes != 0
    err_on = np.abs(corr - alpha * np.sign(codes))[on]
    err_off = ((corr if positive else np.abs(corr)) - alpha)[~on]
    return max(err_on.max(initial=0), err_off.max(initial=0))


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("algorithm", ["lasso_lars", "lasso_cd", "threshold"])
def test_sparse_encode_float64_equals_sklearn_without_x64(algorithm, positive):
    """float64 in, float64 arithmetic, without the global x64 switch. References: thresholding
    is closed-form; the lasso's exact solution is scikit-learn's lasso_lars (its lasso_cd stops
    at a duality gap of 1e-8 relative, ~1e-6 off in the codes here). scikit-learn's positive
    lasso_lars stops early on this problem (a correlation of 0.106 > α = 0.1 left on sample 6,
    objective 3.79956 vs 3.79886 for its own lasso_cd and for ours), so positive codes are
    checked by the optimality conditions instead."""
    assert not jax.config.jax_enable_x64
    X, V = _problem()
    ours = ns.sparse_encode(X, V, algorithm=algorithm, alpha=0.1, positive=positive)
    assert ours.dtype == np.float64
    if algorithm == "threshold" or not positive:
        ref_algorithm = "threshold" if algorithm == "threshold" else "lasso_lars"
        ref = skd.sparse_encode(X, V, algorithm=ref_algorithm, alpha=0.1, positive=positive)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)
    else:
        assert ours.min() >= 0
        assert _kkt_error(X, V, ours, 0.1, True) < 1e-10


@pytest.mark.parametrize("algorithm", ["lars", "omp"])
def test_greedy_coders_equal_sklearn(algorithm):
    X, V = _problem(f=20, k=30)
    ours = ns.sparse_encode(X, V, algorithm=algorithm, n_nonzero_coefs=5)
    ref = skd.sparse_encode(X, V, algorithm=algorithm, n_nonzero_coefs=5)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)
    # LAR on its own: equal to scikit-learn's Lars, every sample with exactly 5 atoms
    codes = np.asarray(ns.lar(V.T, X, 5)) if algorithm == "lars" else ours
    assert np.all(np.sum(codes != 0, axis=1) == 5)


def test_lar_equals_sklearn_lars_x64(x64):
    X, V = _problem(n=15, f=20, k=40, seed=3)
    ref = np.array([Lars(fit_intercept=False, n_nonzero_coefs=8).fit(V.T, x).coef_ for x in X])
    np.testing.assert_allclose(np.asarray(ns.lar(V.T, X, 8)), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("algorithm", ["lasso_lars", "lasso_cd", "lars", "omp", "threshold"])
def test_float32_in_float32_out(algorithm):
    X, V = _problem()
    c32 = ns.sparse_encode(X.astype(np.float32), V.astype(np.float32), algorithm=algorithm,
                           alpha=0.1)
    c64 = ns.sparse_encode(X, V, algorithm=algorithm, alpha=0.1)
    assert c32.dtype == np.float32 and c64.dtype == np.float64
    np.testing.assert_allclose(c32, c64, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_nonnegative_codes_are_never_negative():
    for seed in range(20):
        X, V = _problem(seed=seed, dtype=np.float32)
        for algorithm in ("lasso_lars", "lasso_cd", "threshold"):
            codes = ns.sparse_encode(X, V, algorithm=algorithm, alpha=0.05, positive=True)
            assert codes.min() >= 0, (seed, algorithm)
        coder = ns.SparseCoder(V, transform_algorithm="lasso_lars", transform_alpha=0.05,
                               positive_code=True)
        assert coder.transform(X).min() >= 0


@pytest.mark.parametrize("fit_algorithm", ["lars", "cd"])
def test_dictionary_learning_equals_sklearn(fit_algorithm):
    """Same start (SVD), rule, resampling draws and stopping as scikit-learn, in float64."""
    X, _ = _problem(n=30, f=8)
    kw = dict(n_components=6, alpha=0.3, max_iter=30, fit_algorithm=fit_algorithm,
              random_state=0, transform_algorithm="lasso_lars")
    ours, ref = ns.DictionaryLearning(**kw).fit(X), skd.DictionaryLearning(**kw).fit(X)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.error_, ref.error_, rtol=1e-7)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=0, atol=1e-6)


def test_minibatch_equals_sklearn():
    X, _ = _problem(n=60, f=8)
    kw = dict(n_components=6, alpha=0.3, max_iter=3, batch_size=8, random_state=0,
              fit_algorithm="lars", tol=0.0, max_no_improvement=None)
    ours, ref = ns.MiniBatchDictionaryLearning(**kw).fit(X), \
        skd.MiniBatchDictionaryLearning(**kw).fit(X)
    assert ours.n_steps_ == ref.n_steps_ == 24
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours._A, ref._A, rtol=0, atol=1e-8)
    # early stopping as scikit-learn's (defaults tol=1e-3, max_no_improvement=10)
    for stop in ({"tol": 1e-3, "max_no_improvement": 10}, {"max_no_improvement": 3}):
        kw.update(max_iter=200, **stop)
        ours, ref = ns.MiniBatchDictionaryLearning(**kw).fit(X), \
            skd.MiniBatchDictionaryLearning(**kw).fit(X)
        assert ours.n_steps_ == ref.n_steps_ < 200 * 8
        np.testing.assert_allclose(ours.components_, ref.components_, rtol=0, atol=1e-8)


def test_convergence_warning():
    """FISTA out of iterations with codes the refit cannot certify: ConvergenceWarning (as
    scikit-learn's coordinate descent warns: on this problem in float32 it warns for all 40
    samples at its default 1,000 epochs)."""
    X, V = _problem(f=30, k=60)
    with pytest.warns(ConvergenceWarning):
        ns.SparseCoder(V, transform_algorithm="lasso_cd", transform_alpha=0.01,
                       transform_max_iter=1).transform(X)
    X, V = _problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ns.SparseCoder(V, transform_algorithm="lasso_cd", transform_alpha=0.1).transform(X)


def _digits(n=120):
    from sklearn.datasets import load_digits

    X = load_digits().data[:n].astype(np.float64)
    return (X - X.mean(0)) / 16.0


def test_pipeline_clone_gridsearch():
    X = _digits()
    pipe = make_pipeline(StandardScaler(), ns.DictionaryLearning(8, alpha=1.0, max_iter=5,
                                                                random_state=0))
    codes = pipe.fit_transform(X)
    assert codes.shape == (120, 8) and np.all(np.isfinite(codes))
    assert list(pipe.get_feature_names_out()) == [f"dictionarylearning{i}" for i in range(8)]
    est = clone(pipe[-1]).set_params(alpha=0.5)
    assert est.alpha == 0.5 and not hasattr(est, "components_")

    def score(estimator, X, y=None):  # reconstruction error (higher is better)
        return -float(np.mean((estimator.inverse_transform(estimator.transform(X)) - X) ** 2))

    grid = GridSearchCV(ns.MiniBatchDictionaryLearning(8, batch_size=20, max_iter=2,
                                                       transform_algorithm="lasso_lars",
                                                       random_state=0),
                        {"alpha": [0.1, 1.0]}, scoring=score, cv=2).fit(X)
    assert grid.best_params_ == {"alpha": 0.1}  # less shrinkage reconstructs better


def test_split_sign_and_inverse_transform():
    X = _digits(60)
    est = ns.DictionaryLearning(10, alpha=0.5, max_iter=5, random_state=3,
                                transform_algorithm="lasso_lars").fit(X)
    codes = est.transform(X)
    split = est.set_params(split_sign=True).transform(X)
    np.testing.assert_array_equal(split[:, :10] - split[:, 10:], codes)
    np.testing.assert_allclose(est.inverse_transform(split), codes @ est.components_)


@pytest.mark.parametrize(("params", "match"), [
    ({"n_components": 0}, "`n_components`"), ({"alpha": -1.0}, "`alpha`"),
    ({"transform_algorithm": "fista"}, "`transform_algorithm`"), ({"max_iter": -1}, "`max_iter`"),
    ({"transform_alpha": -0.1}, "`transform_alpha`"), ({"alpha": float("nan")}, "`alpha`"),
    ({"fit_algorithm": "lasso_cd"}, "`fit_algorithm`"), ({"tol": -1.0}, "`tol`"),
    ({"fit_algorithm": "lars", "positive_code": True}, "Positive constraint"),
])
def test_bad_parameters_name_the_argument(params, match):
    X = _digits(30)
    for cls in (ns.DictionaryLearning, ns.MiniBatchDictionaryLearning):
        with pytest.raises(ValueError, match=match):
            cls(**{"n_components": 4, **params}).fit(X)
    if "transform_alpha" not in params and "transform_algorithm" not in params:
        with pytest.raises(ValueError, match=match):  # partial_fit checks them too
            ns.MiniBatchDictionaryLearning(**{"n_components": 4, **params}).partial_fit(X)


def test_bad_data():
    est = ns.DictionaryLearning(4, max_iter=2)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="2D array"):
        est.fit(np.zeros(5))
    with pytest.raises(ValueError, match="different numbers of features"):
        ns.SparseCoder(np.ones((4, 3))).fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="`dictionary`"):
        ns.sparse_encode(np.ones((5, 3)), np.ones(3))
    with pytest.raises(ValueError, match="`algorithm`"):
        ns.sparse_encode(np.ones((5, 3)), np.ones((4, 3)), algorithm="fista")


@pytest.mark.parametrize("algorithm", ["lasso_lars", "lasso_cd", "lars", "omp"])
def test_data_is_validated_once(algorithm, monkeypatch):
    """scikit-learn's layer validates its input once (`check_array`); the solvers it calls run
    with `check_input=False` (no second finiteness check, no second copy to the host), and give
    the same codes as the checked call."""
    from neurojax.sparse import _lasso, _omp

    X, V = _problem()
    checked = ns.sparse_encode(X, V, algorithm=algorithm, alpha=0.1, n_nonzero_coefs=None
                               if algorithm.startswith("lasso") else 3)

    def fail(*args, **kwargs):
        raise AssertionError("validated twice")

    monkeypatch.setattr(_lasso, "check_finite", fail)
    monkeypatch.setattr(_omp, "check_finite", fail)
    once = ns.sparse_encode(X, V, algorithm=algorithm, alpha=0.1, n_nonzero_coefs=None
                            if algorithm.startswith("lasso") else 3)
    np.testing.assert_array_equal(once, checked)
    with pytest.raises(AssertionError, match="validated twice"):  # the public solvers do check
        ns.fista(V.T, X, 0.1)
