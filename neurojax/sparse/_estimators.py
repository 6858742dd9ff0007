r"""scikit-learn estimators: `DictionaryLearning`, `MiniBatchDictionaryLearning`, `SparseCoder`.

They follow scikit-learn's estimator API and parameter names (`fit`/`transform`/`fit_transform`,
`components_` (n_components, n_features), `n_iter_`, `get_feature_names_out`; `clone`,
`Pipeline` and `GridSearchCV` work) and solve the same problems as scikit-learn's classes of the
same names, with neurojax's solvers: dictionary learning by `learn_dictionary`, codes by
`sparse_encode`. Differences from scikit-learn:

- `transform_algorithm` is one of "auto" (default: the exact homotopy where codes are sparse,
  FISTA otherwise, see `sparse_encode`; chosen once, on the data given to `fit`, and kept in
  `auto_algorithm_`), "lasso_lars", "fista" or "omp"; scikit-learn's
  "lasso_cd" solves the same problem as "fista", "lars" and "threshold" are not offered.
- `MiniBatchDictionaryLearning`'s `fit_algorithm` picks how `fit` codes each minibatch: "cd"
  (the default here; scikit-learn's is "lars") is `learn_dictionary(method="minibatch")`: FISTA
  codes, which solve the same lasso as coordinate descent, and scikit-learn's running
  statistics. "lars" is `method="online"`: exact homotopy codes with SPAMS `trainDL`'s
  statistics and atom replacement, which reaches a given objective in fewer, faster rounds, but
  its first fit for a data shape compiles for ~9 s on a CPU (measured on the digits, 1,797 × 64,
  32 atoms: first fit 8.7 s vs 1.8 s, repeated fits 0.24 s vs 0.37 s). `partial_fit` always
  takes the "cd" step: the online method's statistics need the number of samples.
- No early stopping: `max_iter` rounds (`DictionaryLearning`) or epochs
  (`MiniBatchDictionaryLearning`) always run; `tol` is the relative duality-gap tolerance of the
  codes inside each round (None: the dtype's default).
- Computation runs in JAX's default float type (float32 unless `jax_enable_x64` is on);
  outputs have the input's dtype (float32 or float64).
- `random_state` is scikit-learn's: None draws the JAX key from NumPy's global generator.
"""

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._checks import check_choice, check_number, check_positive_int, check_shape
from ._dictionary import _init, _rounds, learn_dictionary
from ._encode import choose_method, sparse_encode
from ._lasso import check_tol

TRANSFORM_ALGORITHMS = ("auto", "lasso_lars", "fista", "omp")
FIT_ALGORITHMS = {"lars": "online", "cd": "minibatch"}  # learn_dictionary's method
_DTYPES = [np.float64, np.float32]


def _jax_dtype(dtype):
    """The JAX dtype computations of float data of `dtype` run in (float32 without x64)."""
    return jax.dtypes.canonicalize_dtype(dtype)


def _key(random_state):
    return jax.random.key(check_random_state(random_state).randint(2**31 - 1))


class _SparseCoding(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """Shared `transform` / `inverse_transform` of the three estimators."""

    def _check_transform_params(self):
        check_choice("transform_algorithm", self.transform_algorithm, TRANSFORM_ALGORITHMS)
        if self.transform_alpha is not None:
            check_number("transform_alpha", self.transform_alpha, low=0.0)
        if self.transform_n_nonzero_coefs is not None:
            check_positive_int("transform_n_nonzero_coefs", self.transform_n_nonzero_coefs)
        check_positive_int("transform_max_iter", self.transform_max_iter)

    def _alpha(self):
        return getattr(self, "alpha", 1.0) if self.transform_alpha is None else self.transform_alpha

    def _choose(self, X, D):
        """Resolve "auto" once, on the fitting data: `auto_algorithm_` (then every later
        `transform` uses the same solver, so codes do not depend on which rows come together)."""
        dt = _jax_dtype(X.dtype)
        self.auto_algorithm_ = choose_method(jnp.asarray(D, dt), jnp.asarray(X, dt),
                                             float(self._alpha()), bool(self.positive_code))

    def _encode(self, X, D):
        """Codes of validated X in dictionary `D` (n_features, n_components), in X's dtype."""
        method = self.transform_algorithm
        if method == "auto":
            method = self.auto_algorithm_
        n_nonzero = self.transform_n_nonzero_coefs
        if method == "omp" and n_nonzero is None:  # scikit-learn's default
            n_nonzero = max(1, min(int(0.1 * X.shape[1]), D.shape[1]))
        dt = _jax_dtype(X.dtype)
        max_steps = None if method == "lasso_lars" else self.transform_max_iter
        code = sparse_encode(jnp.asarray(X, dt), jnp.asarray(D, dt), float(self._alpha()),
                             method=method, n_nonzero=n_nonzero,
                             nonneg=bool(self.positive_code), max_steps=max_steps).codes
        code = np.asarray(code, X.dtype)
        if self.split_sign:
            code = np.concatenate([np.maximum(code, 0), -np.minimum(code, 0)], axis=1)
        return code

    def transform(self, X):
        """Sparse codes (n_samples, n_components) of `X` (n_samples, n_features); with
        `split_sign=True`, (n_samples, 2 n_components): the positive parts, then the negative."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_DTYPES)
        self._check_transform_params()
        return self._encode(X, self.components_.T)

    def inverse_transform(self, X):
        """Reconstructions `code @ components_` (n_samples, n_features) of codes `X`."""
        check_is_fitted(self)
        code = check_array(X, dtype=_DTYPES)
        k = self.components_.shape[0] * (2 if self.split_sign else 1)
        if code.shape[1] != k:
            raise ValueError(f"`X` (codes) must have {k} columns, got {code.shape[1]}")
        if self.split_sign:
            code = code[:, :k // 2] - code[:, k // 2:]
        return code @ self.components_

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SparseCoder(_SparseCoding, BaseEstimator):
    """Sparse codes in a fixed `dictionary` (n_components, n_features; scikit-learn's layout),
    as scikit-learn's `SparseCoder`: `fit` only validates, `transform` codes."""

    def __init__(self, dictionary, *, transform_algorithm="auto", transform_n_nonzero_coefs=None,
                 transform_alpha=None, split_sign=False, positive_code=False,
                 transform_max_iter=1000):
        self.dictionary = dictionary
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.split_sign = split_sign
        self.positive_code = positive_code
        self.transform_max_iter = transform_max_iter

    def fit(self, X, y=None):
        """Validate the parameters and `X` against the dictionary; returns self."""
        X = validate_data(self, X, dtype=_DTYPES)
        self._check_transform_params()
        if np.ndim(self.dictionary) != 2:
            raise ValueError(f"`dictionary` must be a 2-D array (n_components, n_features), got "
                             f"shape {np.shape(self.dictionary)}")
        D = check_array(self.dictionary, dtype=_DTYPES, input_name="dictionary")
        if D.shape[1] != X.shape[1]:
            raise ValueError(f"`dictionary` must be (n_components, n_features = {X.shape[1]}), "
                             f"got shape {D.shape}")
        self.components_ = D
        self.n_components_ = D.shape[0]
        self._choose(X, D.T)
        return self

    def transform(self, X, y=None):
        if not hasattr(self, "components_"):  # fitting is optional (scikit-learn's tag)
            self.fit(X)
        return super().transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class _Learner(_SparseCoding, BaseEstimator):
    """Shared parameters and fitting of the two dictionary learners."""

    _method = "batch"

    def _check_learn_params(self, n_features):
        """Validated (n_components, init) for data of `n_features` columns."""
        self._check_transform_params()
        if self._method == "minibatch":
            check_choice("fit_algorithm", self.fit_algorithm, FIT_ALGORITHMS)
        n_components = n_features if self.n_components is None else self.n_components
        n_components = check_positive_int("n_components", n_components)
        check_number("alpha", self.alpha, low=0.0)
        if self.dict_init is None:
            check_choice("init", self.init, {"data", "random", "pca"})
            return n_components, self.init
        D = check_array(self.dict_init, dtype=_DTYPES, input_name="dict_init")
        check_shape("dict_init", D, (n_components, n_features))
        return n_components, D.T

    def _learn(self, X):
        self.__dict__.pop("_stats", None)  # partial_fit's running statistics start afresh
        n_components, init = self._check_learn_params(X.shape[1])
        steps = check_positive_int("max_iter", self.max_iter)
        batch_size = X.shape[0]
        method = self._method
        if method == "minibatch":
            method = FIT_ALGORITHMS[self.fit_algorithm]  # checked by _check_learn_params
            batch_size = min(check_positive_int("batch_size", self.batch_size), X.shape[0])
            steps *= max(1, X.shape[0] // batch_size)  # max_iter epochs
        dt = _jax_dtype(X.dtype)
        tol = check_tol(self.tol, dt, float64=1e-6)
        r = learn_dictionary(jnp.asarray(X, dt), n_components, float(self.alpha),
                             key=_key(self.random_state), method=method, steps=steps,
                             batch_size=batch_size, init=init, tol=tol,
                             code_max_steps=check_positive_int("transform_max_iter",
                                                               self.transform_max_iter),
                             return_codes=False, nonneg=bool(self.positive_code))
        self.components_ = np.asarray(r.dictionary.T, X.dtype)
        self._choose(X, self.components_.T)
        self.objective_ = np.asarray(r.objective)
        self.n_iter_ = self.max_iter
        self.n_steps_ = steps

    def fit(self, X, y=None):
        """Learn the dictionary from `X` (n_samples, n_features); returns self."""
        X = validate_data(self, X, dtype=_DTYPES)
        self._learn(X)
        return self


class DictionaryLearning(_Learner):
    r"""Dictionary learning on all samples each round, as scikit-learn's `DictionaryLearning`:
    $\min_{D, A} \tfrac12\|X - A D\|_F^2 + \alpha\|A\|_1$ with atoms (rows of `components_`) of
    norm ≤ 1; `max_iter` rounds of lasso codes (FISTA, warm-started) and one block-coordinate
    sweep over the atoms. `init`: "data", "random" or "pca" (or `dict_init`)."""

    def __init__(self, n_components=None, *, alpha=1.0, max_iter=100, tol=None, init="data",
                 transform_algorithm="auto", transform_n_nonzero_coefs=None,
                 transform_alpha=None, transform_max_iter=1000, dict_init=None, split_sign=False,
                 random_state=None, positive_code=False):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.transform_max_iter = transform_max_iter
        self.dict_init = dict_init
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code


class MiniBatchDictionaryLearning(_Learner):
    r"""Online dictionary learning (Mairal et al. 2010), as scikit-learn's
    `MiniBatchDictionaryLearning`: each step codes a minibatch of `batch_size` rows, updates the
    running statistics and sweeps the atoms; `max_iter` epochs of `n_samples // batch_size`
    steps. `fit_algorithm="cd"` (default) codes each minibatch by FISTA with scikit-learn's
    forgetting factor (`learn_dictionary(method="minibatch")`), `"lars"` exactly by the homotopy
    with SPAMS `trainDL`'s statistics (`method="online"`: fewer and faster rounds to a given
    objective, a longer first compile; see the module doc). `partial_fit(X)` takes `X` as one
    "cd" minibatch."""

    _method = "minibatch"

    def __init__(self, n_components=None, *, alpha=1.0, max_iter=10, fit_algorithm="cd",
                 batch_size=256, tol=None, init="data", transform_algorithm="auto",
                 transform_n_nonzero_coefs=None, transform_alpha=None, transform_max_iter=1000,
                 dict_init=None, split_sign=False, random_state=None, positive_code=False):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.fit_algorithm = fit_algorithm
        self.batch_size = batch_size
        self.tol = tol
        self.init = init
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.transform_max_iter = transform_max_iter
        self.dict_init = dict_init
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code

    def partial_fit(self, X, y=None):
        """One online step on the minibatch `X`; returns self. The first call initialises the
        dictionary from `X` as `fit` does; after `fit`, steps continue from the fitted dictionary
        with fresh running statistics."""
        first = not hasattr(self, "components_")
        X = validate_data(self, X, dtype=_DTYPES, reset=first)
        dt = _jax_dtype(X.dtype)
        Xj = jnp.asarray(X, dt)
        if first:
            n_components, init = self._check_learn_params(X.shape[1])
            D0 = _init(Xj, n_components, init, jax.random.split(_key(self.random_state))[0])
            self.components_, self.n_steps_ = np.asarray(D0.T, X.dtype), 0
        if not hasattr(self, "_stats"):  # after `fit`: its dictionary, fresh statistics
            k = self.components_.shape[0]
            self._stats = (np.zeros((k, k), X.dtype), np.zeros((X.shape[1], k), X.dtype))
        D = jnp.asarray(self.components_.T, dt)
        A_stats, B_stats = (jnp.asarray(s, dt) for s in self._stats)
        n = X.shape[0]
        carry = (D, jnp.zeros((n, D.shape[1]), dt), A_stats, B_stats)
        tol = check_tol(self.tol, dt, float64=1e-6)
        (D, _, A_stats, B_stats), _ = _rounds(
            carry, Xj, jnp.asarray(float(self.alpha), dt), jnp.asarray([self.n_steps_]),
            jnp.arange(n)[None], False, check_positive_int("transform_max_iter",
                                                            self.transform_max_iter),
            jnp.asarray(tol, dt), bool(self.positive_code))
        self.components_ = np.asarray(D.T, X.dtype)
        if first:
            self._choose(X, self.components_.T)
        self._stats = (np.asarray(A_stats, X.dtype), np.asarray(B_stats, X.dtype))
        self.n_steps_ += 1
        return self
