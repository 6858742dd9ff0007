r"""scikit-learn's dictionary learning, as a drop-in: `SparseCoder`, `DictionaryLearning`,
`MiniBatchDictionaryLearning`, `dict_learning`, `dict_learning_online`.

Constructor parameters, defaults, fitted attributes (`components_`, `error_`, `n_iter_`,
`n_steps_`, the running statistics `_A`, `_B`), early stopping, `verbose`, `callback` and error
messages are scikit-learn 1.9's; the work is neurojax's: codes by the solvers of
`neurojax.sparse._sklearn` (exact homotopy for "lars"/"lasso_lars", FISTA for "cd"/
"lasso_cd", batched LAR, OMP and thresholding), dictionary updates by the jitted block-coordinate
sweep. Float64 data is computed in float64 and float32 in float32 whether or not JAX's x64 mode
is on; integer data is fitted as float64. `n_jobs` is accepted for compatibility (JAX
parallelises within each call). scikit-learn's test module for these classes passes (see
`tests/test_sklearn_suite.py` for the items that do not, with the reason).

Settings better than scikit-learn's defaults, kept off so results match scikit-learn's: for
large data, `neurojax.sparse.learn_dictionary(method="online")` (SPAMS `trainDL`'s algorithm as
one compiled program) reaches a given objective several times faster than this class's
Python-driven minibatch loop; `transform_algorithm="lasso_lars"` gives exact lasso codes where
the default "omp" gives greedy ones.
"""

import sys
import time

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._checks import check_choice, check_number, check_positive_int
from ._sklearn import (
    ALGORITHMS,
    DTYPES,
    check_matrix,
    check_positive_coding,
    encode,
    objective,
    update_dict,
)

FIT_ALGORITHMS = ("lars", "cd")


def store_params(estimator, params):
    """Set each constructor parameter as an attribute of the same name, unchanged (scikit-learn's
    convention: `__init__` only stores; validation happens in `fit`)."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class _BaseSparseCoding(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """`transform` / `inverse_transform` shared by the three estimators."""

    def _check_transform_params(self):
        check_choice("transform_algorithm", self.transform_algorithm, ALGORITHMS)
        if self.transform_alpha is not None:
            check_number("transform_alpha", self.transform_alpha, low=0.0)
        if self.transform_n_nonzero_coefs is not None:
            check_positive_int("transform_n_nonzero_coefs", self.transform_n_nonzero_coefs)
        check_positive_int("transform_max_iter", self.transform_max_iter, allow_zero=True)

    def _transform(self, X, dictionary):
        X = validate_data(self, X, reset=False, dtype=DTYPES)
        self._check_transform_params()
        check_positive_coding(self.transform_algorithm, self.positive_code)
        alpha = self.alpha if hasattr(self, "alpha") and self.transform_alpha is None \
            else self.transform_alpha
        code = encode(X, np.asarray(dictionary, X.dtype), algorithm=self.transform_algorithm,
                      alpha=alpha, n_nonzero_coefs=self.transform_n_nonzero_coefs,
                      positive=self.positive_code, max_iter=self.transform_max_iter)
        if self.split_sign:
            code = np.concatenate([np.maximum(code, 0), -np.minimum(code, 0)], axis=1)
        return code

    def transform(self, X):
        """Sparse codes (n_samples, n_components) of `X` (n_samples, n_features); with
        `split_sign=True`, (n_samples, 2 n_components): the positive parts, then the negative."""
        check_is_fitted(self)
        return self._transform(X, self.components_)

    def _inverse_transform(self, code, dictionary):
        code = check_array(code)
        expected = dictionary.shape[0] * (2 if self.split_sign else 1)
        if code.shape[1] != expected:
            raise ValueError("The number of components in the code is different from the number "
                             f"of components in the dictionary.Expected {expected}, got "
                             f"{code.shape[1]}.")
        if self.split_sign:
            code = code[:, :expected // 2] - code[:, expected // 2:]
        return code @ dictionary

    def inverse_transform(self, X):
        """Reconstructions `code @ components_` (n_samples, n_features) of codes `X`."""
        check_is_fitted(self)
        return self._inverse_transform(X, self.components_)


class SparseCoder(_BaseSparseCoding, BaseEstimator):
    """Sparse codes in a fixed `dictionary` (n_components, n_features), as scikit-learn's
    `SparseCoder`: `fit` only validates, `transform` codes (see `sparse_encode`)."""

    def __init__(self, dictionary, *, transform_algorithm="omp", transform_n_nonzero_coefs=None,
                 transform_alpha=None, split_sign=False, n_jobs=None, positive_code=False,
                 transform_max_iter=1000):
        store_params(self, locals())

    def fit(self, X, y=None):
        """Validate the parameters and `X` against the dictionary; returns self."""
        X = validate_data(self, X, dtype=DTYPES)
        self._check_transform_params()
        D = check_matrix("dictionary", self.dictionary)
        if D.shape[1] != X.shape[1]:
            raise ValueError("Dictionary and X have different numbers of features:"
                             f"dictionary.shape: {D.shape} X.shape{X.shape}")
        return self

    def transform(self, X, y=None):
        """Codes of `X` in `dictionary` (fitting first is optional, as in scikit-learn)."""
        if not hasattr(self, "n_features_in_"):
            self.fit(X)
        return self._transform(X, check_matrix("dictionary", self.dictionary))

    def inverse_transform(self, X):
        """Reconstructions `code @ dictionary` of codes `X`."""
        return self._inverse_transform(X, np.asarray(self.dictionary))

    @property
    def components_(self):
        return np.asarray(self.dictionary)

    @property
    def n_components_(self):
        return np.shape(self.dictionary)[0]

    @property
    def _n_features_out(self):
        return np.shape(self.dictionary)[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _learn_batch(X, n_components, *, alpha, max_iter, tol, method, method_max_iter, dict_init,
                 code_init, callback, verbose, random_state, positive_dict, positive_code):
    """scikit-learn's `_dict_learning`: SVD start (or both inits), then `max_iter` rounds of
    codes (all samples) and one dictionary sweep, stopping when the cost falls by less than
    `tol` × cost. Returns (code, dictionary, errors, n_iter)."""
    t0 = time.time()
    if code_init is not None and dict_init is not None:
        code, dictionary = np.array(code_init, X.dtype), np.array(dict_init, X.dtype)
    else:
        code, S, dictionary = linalg.svd(X, full_matrices=False)
        code, dictionary = svd_flip(code, dictionary)
        dictionary = S[:, None] * dictionary
    r = len(dictionary)
    if n_components <= r:
        code, dictionary = code[:, :n_components], dictionary[:n_components]
    else:
        code = np.c_[code, np.zeros((len(code), n_components - r), X.dtype)]
        dictionary = np.r_[dictionary, np.zeros((n_components - r, X.shape[1]), X.dtype)]
    code, dictionary = code.astype(X.dtype), dictionary.astype(X.dtype)
    errors, cost, ii = [], np.nan, -1
    if verbose == 1:
        print("[dict_learning]", end=" ")
    for ii in range(max_iter):
        if verbose == 1:
            sys.stdout.write(".")
            sys.stdout.flush()
        elif verbose:
            dt = time.time() - t0
            print(f"Iteration {ii:3d} (elapsed time: {dt:3.0f}s, {dt / 60:4.1f}mn, current cost "
                  f"{cost:7.3f})")
        code = encode(X, dictionary, algorithm=method, alpha=alpha, positive=positive_code,
                      max_iter=method_max_iter, init=code if method == "lasso_cd" else None)
        dictionary = update_dict(dictionary, X, code, random_state=random_state,
                                 positive=positive_dict, verbose=verbose)
        cost = objective(X, code, dictionary, alpha)
        errors.append(cost)
        if ii > 0 and errors[-2] - errors[-1] < tol * errors[-1]:
            if verbose == 1:
                print("")
            elif verbose:
                print(f"--- Convergence reached after {ii} iterations")
            break
        if ii % 5 == 0 and callback is not None:
            callback({"ii": ii, "code": code, "dictionary": dictionary, "errors": errors,
                      "current_cost": cost})
    return code, dictionary, errors, ii + 1


class DictionaryLearning(_BaseSparseCoding, BaseEstimator):
    r"""Dictionary learning on all samples each round, as scikit-learn's `DictionaryLearning`:
    $\min_{U, V} \tfrac12\|X - U V\|_F^2 + \alpha\|U\|_{1,1}$ with atoms (rows of V,
    `components_`) of norm ≤ 1. Starts from the SVD of X (or `code_init` and `dict_init`
    together); each of at most `max_iter` rounds codes all samples (`fit_algorithm`: "lars" =
    exact homotopy, "cd" = FISTA warm-started) and sweeps the atoms once (unused atoms are
    resampled from the data); stops when the cost falls by less than `tol` × cost.
    `error_` is the cost after each round."""

    def __init__(self, n_components=None, *, alpha=1, max_iter=1000, tol=1e-8,
                 fit_algorithm="lars", transform_algorithm="omp", transform_n_nonzero_coefs=None,
                 transform_alpha=None, n_jobs=None, code_init=None, dict_init=None,
                 callback=None, verbose=False, split_sign=False, random_state=None,
                 positive_code=False, positive_dict=False, transform_max_iter=1000):
        store_params(self, locals())

    def _check_learn_params(self, X):
        """Validated n_components (shared with the minibatch learner)."""
        self._check_transform_params()
        check_choice("fit_algorithm", self.fit_algorithm, FIT_ALGORITHMS)
        check_positive_coding(self.fit_algorithm, self.positive_code)
        n = X.shape[1] if self.n_components is None else self.n_components
        n = check_positive_int("n_components", n)
        check_number("alpha", self.alpha, low=0.0)
        check_positive_int("max_iter", self.max_iter, allow_zero=True)
        if self.tol is not None:
            check_number("tol", self.tol, low=0.0)
        return n

    def fit(self, X, y=None):
        """Learn the dictionary from `X` (n_samples, n_features); returns self."""
        self._fit(X)
        return self

    def _fit(self, X):
        """Fit; returns the codes of the last round (the fit algorithm's)."""
        X = validate_data(self, X, dtype=DTYPES)
        n_components = self._check_learn_params(X)
        code, self.components_, self.error_, self.n_iter_ = _learn_batch(
            X, n_components, alpha=float(self.alpha), max_iter=self.max_iter, tol=self.tol,
            method="lasso_" + self.fit_algorithm, method_max_iter=self.transform_max_iter,
            dict_init=self.dict_init, code_init=self.code_init, callback=self.callback,
            verbose=self.verbose, random_state=check_random_state(self.random_state),
            positive_dict=self.positive_dict, positive_code=self.positive_code)
        return code

    def fit_transform(self, X, y=None):
        """`fit(X).transform(X)`: codes by `transform_algorithm`. (scikit-learn's returns the
        last fitting round's codes instead, which differ from its own `fit(X).transform(X)`
        unless `transform_algorithm` is the fit's lasso: with the defaults, "lars" fit and "omp"
        transform, scikit-learn's estimator checks flag it. `dict_learning` returns the fitting
        codes, as scikit-learn's does.)"""
        return self.fit(X).transform(X)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def dict_learning(X, n_components, *, alpha, max_iter=100, tol=1e-8, method="lars", n_jobs=None,
                  dict_init=None, code_init=None, callback=None, verbose=False,
                  random_state=None, return_n_iter=False, positive_dict=False,
                  positive_code=False, method_max_iter=1000):
    """scikit-learn's `dict_learning`: `DictionaryLearning(...).fit_transform(X)` as a function;
    returns (code, dictionary, errors[, n_iter])."""
    check_choice("method", method, FIT_ALGORITHMS)
    X = check_matrix("X", X)
    est = DictionaryLearning(n_components=n_components, alpha=alpha, max_iter=max_iter, tol=tol,
                             fit_algorithm=method, n_jobs=n_jobs, dict_init=dict_init,
                             callback=callback, code_init=code_init, verbose=verbose,
                             random_state=random_state, positive_code=positive_code,
                             positive_dict=positive_dict, transform_max_iter=method_max_iter)
    code = est._fit(X)  # the last round's codes (fit_transform: with transform_algorithm)
    out = (code, est.components_, est.error_)
    return out + (est.n_iter_,) if return_n_iter else out
