r"""scikit-learn's `MiniBatchDictionaryLearning` and the function `dict_learning_online` (see
`_estimators` for what is scikit-learn's and what is neurojax's)."""

import itertools

import numpy as np
from scipy import linalg
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_array, validate_data

from .._checks import check_choice, check_number, check_positive_int
from ._estimators import FIT_ALGORITHMS, DictionaryLearning, store_params
from ._sklearn import DTYPES, check_matrix, encode, objective, update_dict
from ._update import sklearn_forgetting


class MiniBatchDictionaryLearning(DictionaryLearning):
    r"""Online dictionary learning (Mairal et al. 2010), as scikit-learn's
    `MiniBatchDictionaryLearning`: starts from a randomized SVD of X (or `dict_init`), then each
    step codes a minibatch of `batch_size` rows (`fit_algorithm`: "lars" = exact homotopy, "cd" =
    FISTA), updates the running statistics $A \leftarrow \beta A + U^\top U / b$,
    $B \leftarrow \beta B + X^\top U / b$ (`_A`, `_B`; scikit-learn's forgetting factor β) and
    sweeps the atoms. At most `max_iter` epochs; stops early when the dictionary moves by at
    most `tol` (Frobenius norm / n_components) or the exponentially averaged batch cost has not
    improved for `max_no_improvement` steps. `partial_fit(X)` takes X as one minibatch."""

    def __init__(self, n_components=None, *, alpha=1, max_iter=1000, fit_algorithm="lars",
                 n_jobs=None, batch_size=256, shuffle=True, dict_init=None,
                 transform_algorithm="omp", transform_n_nonzero_coefs=None, transform_alpha=None,
                 verbose=False, split_sign=False, random_state=None, positive_code=False,
                 positive_dict=False, transform_max_iter=1000, callback=None, tol=1e-3,
                 max_no_improvement=10):
        store_params(self, locals())

    def _start(self, X):
        """Validate, then the initial dictionary and zero statistics."""
        self._n_components = self._check_learn_params(X)
        self._batch_size = min(check_positive_int("batch_size", self.batch_size), X.shape[0])
        if self.max_no_improvement is not None:
            check_positive_int("max_no_improvement", self.max_no_improvement, allow_zero=True)
        self._random_state = check_random_state(self.random_state)
        if self.dict_init is not None:
            dictionary = check_array(self.dict_init, dtype=X.dtype, input_name="dict_init")
            if dictionary.shape[1] != X.shape[1]:
                raise ValueError(f"`dict_init` must have {X.shape[1]} columns (n_features), got "
                                 f"shape {dictionary.shape}")
        else:
            _, S, dictionary = randomized_svd(X, self._n_components,
                                              random_state=self._random_state)
            dictionary = S[:, None] * dictionary
        k = self._n_components
        if k <= len(dictionary):
            dictionary = dictionary[:k]
        else:
            dictionary = np.r_[dictionary, np.zeros((k - len(dictionary), X.shape[1]))]
        self._A = np.zeros((k, k), X.dtype)
        self._B = np.zeros((X.shape[1], k), X.dtype)
        return np.array(dictionary, X.dtype)

    def _step(self, X, dictionary, step):
        """One minibatch: codes, statistics, dictionary sweep; returns (dictionary, cost)."""
        code = encode(X, dictionary, algorithm="lasso_" + self.fit_algorithm, alpha=self.alpha,
                      positive=self.positive_code, max_iter=self.transform_max_iter)
        b = X.shape[0]
        cost = objective(X, code, dictionary, self.alpha) / b
        beta = sklearn_forgetting(step, b)
        self._A = (beta * self._A + code.T @ code / b).astype(X.dtype)
        self._B = (beta * self._B + X.T @ code / b).astype(X.dtype)
        dictionary = update_dict(dictionary, X, code, self._A, self._B,
                                 random_state=self._random_state, positive=self.positive_dict,
                                 verbose=self.verbose)
        return dictionary, cost

    def _converged(self, b, cost, new, old, n_samples, step, n_steps):
        """scikit-learn's early stopping (`_check_convergence`)."""
        step += 1
        if step <= min(100, n_samples / b):
            if self.verbose:
                print(f"Minibatch step {step}/{n_steps}: mean batch cost: {cost}")
            return False
        w = min(b / (n_samples + 1), 1)
        self._ewa_cost = cost if self._ewa_cost is None else self._ewa_cost * (1 - w) + cost * w
        if self.verbose:
            print(f"Minibatch step {step}/{n_steps}: mean batch cost: {cost}, ewa cost: "
                  f"{self._ewa_cost}")
        if self.tol > 0 and linalg.norm(new - old) / self._n_components <= self.tol:
            if self.verbose:
                print(f"Converged (small dictionary change) at step {step}/{n_steps}")
            return True
        if self._ewa_cost_min is None or self._ewa_cost < self._ewa_cost_min:
            self._no_improvement, self._ewa_cost_min = 0, self._ewa_cost
        else:
            self._no_improvement += 1
        if self.max_no_improvement is not None and self._no_improvement >= self.max_no_improvement:
            if self.verbose:
                print(f"Converged (lack of improvement in objective function) at step "
                      f"{step}/{n_steps}")
            return True
        return False

    def fit(self, X, y=None):
        """Learn the dictionary from `X` (n_samples, n_features); returns self."""
        X = validate_data(self, X, dtype=DTYPES)
        dictionary = self._start(X)
        check_number("tol", self.tol, low=0.0)
        old = dictionary.copy()
        X_train = X
        if self.shuffle:
            X_train = X.copy()
            self._random_state.shuffle(X_train)
        n_samples = X_train.shape[0]
        if self.verbose:
            print("[dict_learning]")
        self._ewa_cost = self._ewa_cost_min = None
        self._no_improvement = 0
        per_epoch = int(np.ceil(n_samples / self._batch_size))
        n_steps = self.max_iter * per_epoch
        i = -1
        batches = itertools.cycle(gen_batches(n_samples, self._batch_size))
        for i, batch in zip(range(n_steps), batches):
            X_batch = X_train[batch]
            dictionary, cost = self._step(X_batch, dictionary, i)
            if self._converged(X_batch.shape[0], cost, dictionary, old, n_samples, i, n_steps):
                break
            if self.callback is not None:
                self.callback({"i": i, "dictionary": dictionary, "batch_cost": cost,
                               "n_steps": n_steps})
            old[:] = dictionary
        self.n_steps_ = i + 1
        self.n_iter_ = np.ceil(self.n_steps_ / per_epoch)
        self.components_ = dictionary
        return self

    def partial_fit(self, X, y=None):
        """One minibatch step on `X`; returns self. The first call (before `fit`) initialises
        the dictionary as `fit` does; `max_iter` is ignored."""
        first = not hasattr(self, "components_")
        X = validate_data(self, X, dtype=DTYPES, reset=first)
        if first:
            dictionary = self._start(X)
            self.n_steps_ = 0
        else:
            dictionary = self.components_
        self.components_, _ = self._step(X, dictionary, self.n_steps_)
        self.n_steps_ += 1
        return self


def dict_learning_online(X, n_components=2, *, alpha=1, max_iter=100, return_code=True,
                         dict_init=None, callback=None, batch_size=256, verbose=False,
                         shuffle=True, n_jobs=None, method="lars", random_state=None,
                         positive_dict=False, positive_code=False, method_max_iter=1000,
                         tol=1e-3, max_no_improvement=10):
    """scikit-learn's `dict_learning_online`: `MiniBatchDictionaryLearning(...).fit(X)` as a
    function; returns (code, dictionary), or the dictionary with `return_code=False`."""
    check_choice("method", method, FIT_ALGORITHMS)
    X = check_matrix("X", X)
    est = MiniBatchDictionaryLearning(
        n_components=n_components, alpha=alpha, max_iter=max_iter, n_jobs=n_jobs,
        fit_algorithm=method, batch_size=batch_size, shuffle=shuffle, dict_init=dict_init,
        random_state=random_state, transform_algorithm="lasso_" + method, transform_alpha=alpha,
        positive_code=positive_code, positive_dict=positive_dict,
        transform_max_iter=method_max_iter, verbose=verbose, callback=callback, tol=tol,
        max_no_improvement=max_no_improvement).fit(X)
    return (est.transform(X), est.components_) if return_code else est.components_
