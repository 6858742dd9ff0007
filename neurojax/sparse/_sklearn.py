r"""scikit-learn's `sparse_encode` on neurojax's solvers, and the pieces its dictionary learners
share: computing in the data's precision, the coding dispatch, the dictionary update with
scikit-learn's resampling of unused atoms.

Codes solve, per sample $x$ and dictionary rows $d_j$ (scikit-learn's layout: `dictionary` is
(n_components, n_features)):

- `"lasso_lars"`: $\min_a \tfrac12\|x - D^\top a\|^2 + \alpha\|a\|_1$ exactly, by the batched
  homotopy (`lasso_lars`);
- `"lasso_cd"`: the same problem by FISTA (`fista`; scikit-learn uses coordinate descent), warm
  started from `init`, at most `max_iter` iterations, then solved exactly on FISTA's support
  and signs where that satisfies the optimality conditions (`refit`);
- `"lars"`: least angle regression with `n_nonzero_coefs` atoms (`lar`);
- `"omp"`: orthogonal matching pursuit with `n_nonzero_coefs` atoms (`omp`);
- `"threshold"`: $\operatorname{sign}(Dx)\max(|Dx| - \alpha, 0)$.

Float64 data is computed in float64 even when JAX's x64 mode is off (it is switched on for the
call, `precision`), float32 data in float32. Codes that did not converge (FISTA out of
iterations) raise scikit-learn's `ConvergenceWarning`.
"""

import contextlib
import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state

from .._checks import check_choice, check_number, check_positive_int
from ._lar import lar
from ._lars import lasso_lars
from ._lasso import fista
from ._omp import omp
from ._update import update_sweep

ALGORITHMS = ("lasso_lars", "lasso_cd", "lars", "omp", "threshold")
DTYPES = [np.float64, np.float32]
UNUSED = 1e-6  # scikit-learn resamples atoms whose code energy A_kk is at most this
_REFIT_MAX_ATOMS = 512  # `refit` solves an n_atoms-square system per sample: skipped above


@functools.partial(jax.jit, static_argnames=("nonneg", "rounds"))
def refit(D, X, codes, alpha, nonneg: bool = False, rounds: int = 4):
    r"""Exact lasso codes from the support and signs of approximate `codes`: per sample, solve
    the optimality conditions on the support $S$ with signs $s_S$,
    $a_S = (D_S^\top D_S)^{-1}(D_S^\top x - \alpha s_S)$; then, for up to `rounds` rounds, drop
    the atoms whose sign flipped or, if none did, add the atom that violates
    $|d_j^\top r| \le \alpha$ most (with the sign of its correlation; $d_j^\top r \le \alpha$
    and $a \ge 0$ with `nonneg`), and solve again. A sample's result is kept where it satisfies
    all the optimality conditions (an optimum, certified), else its codes are returned as
    given. FISTA's codes carry the error of its stopping gap (in float32 ~1e-3 relative at a
    gap of 1e-5) and can hold a few atoms of size ~1e-2 that the optimum does not; this makes
    them exact to rounding, as coordinate descent's are. Returns (codes, ok)."""
    G, C = D.T @ D, X @ D
    eye = jnp.eye(G.shape[0], dtype=G.dtype)
    slack = alpha * (1 + 100 * jnp.finfo(X.dtype).eps) + 100 * jnp.finfo(X.dtype).eps

    def solve(c, on, s):
        M = jnp.where(on[:, None] & on[None, :], G, eye)
        b = jnp.linalg.solve(M, jnp.where(on, c - alpha * s, 0.0))
        corr = c - G @ b
        flipped = on & (jnp.sign(b) != s)
        excess = jnp.where(on, -jnp.inf, corr if nonneg else jnp.abs(corr)) - slack
        return b, corr, flipped, excess

    def one(c, a):
        def body(_, st):
            on, s = st
            b, corr, flipped, excess = solve(c, on, s)
            j = jnp.argmax(excess)
            add = ~jnp.any(flipped) & (excess[j] > 0)
            on = jnp.where(jnp.any(flipped), on & ~flipped, on.at[j].set(on[j] | add))
            s = jnp.where(add & (jnp.arange(len(s)) == j), jnp.sign(corr[j]), s)
            return on, s

        on, s = jax.lax.fori_loop(0, rounds, body, (a != 0, jnp.sign(a)))
        b, _, flipped, excess = solve(c, on, s)
        ok = ~jnp.any(flipped) & jnp.all(excess <= 0) & jnp.all(jnp.isfinite(b))
        return jnp.where(ok, b, a), ok

    return jax.vmap(one)(C, codes)


@contextlib.contextmanager
def precision(dtype):
    """Compute in `dtype`: float64 data switches JAX's x64 mode on for the duration (and off
    again), so float64 in gives float64 arithmetic without the global switch."""
    if np.dtype(dtype) == np.float64 and not jax.config.jax_enable_x64:
        with jax.enable_x64(True):
            yield
    else:
        yield


def check_matrix(name, a, dtype=DTYPES):
    """`a` through scikit-learn's `check_array` (float64/float32, finite), after a rank check
    whose error names the argument (scikit-learn's own does not)."""
    if np.ndim(a) != 2:
        raise ValueError(f"`{name}` must be a 2-D array, got shape {np.shape(a)}")
    return check_array(a, dtype=dtype, input_name=name)


def check_positive_coding(method, positive):
    """scikit-learn's error for `positive=True` with a method that has no positive variant."""
    if positive and method in ("omp", "lars"):
        raise ValueError(f"Positive constraint not supported for '{method}' coding method.")


def encode(X, dictionary, *, algorithm, alpha=None, n_nonzero_coefs=None, positive=False,
           max_iter=1000, init=None):
    """Codes (n_samples, n_components) in X's dtype, without validation: `X` (n_samples,
    n_features) and `dictionary` (n_components, n_features) are float arrays of one dtype."""
    n_features, n_components = X.shape[1], dictionary.shape[0]
    if algorithm in ("lars", "omp"):
        reg = n_nonzero_coefs if n_nonzero_coefs is not None else min(max(n_features / 10, 1),
                                                                       n_components)
        reg = int(reg)
    else:
        reg = 1.0 if alpha is None else float(alpha)
    if X.shape[0] == 0 or n_components == 0:
        return np.zeros((X.shape[0], n_components), X.dtype)
    converged = True
    with precision(X.dtype):
        D, Xj = jnp.asarray(dictionary.T), jnp.asarray(X)
        if algorithm == "threshold":
            C = Xj @ D
            codes = jnp.sign(C) * jnp.maximum(jnp.abs(C) - reg, 0.0)
            codes = jnp.maximum(codes, 0.0) if positive else codes
        elif algorithm == "omp":
            codes = omp(D, Xj, reg, check_input=False).codes
        elif algorithm == "lars":
            codes = lar(D, Xj, reg, check_input=False)
        elif max_iter == 0:  # no iteration: the initial codes (scikit-learn's Lasso and LassoLars)
            codes = jnp.zeros((X.shape[0], n_components), X.dtype) if init is None else init
        else:
            solve = lasso_lars if algorithm == "lasso_lars" else fista
            kw = {} if algorithm == "lasso_lars" else {"init": init}
            r = solve(D, Xj, reg, nonneg=bool(positive), max_steps=int(max_iter),
                      check_input=False, **kw)
            codes, converged = r.codes, r.converged
            if algorithm == "lasso_cd" and n_components <= _REFIT_MAX_ATOMS:
                codes, exact = refit(D, Xj, codes, jnp.asarray(reg, Xj.dtype), bool(positive))
                converged = converged | exact
            converged = bool(jnp.all(converged))
        codes = np.array(codes, X.dtype)  # writable (update_dict zeroes resampled atoms)
    if not converged:
        warnings.warn(f"sparse coding ({algorithm}) did not converge in max_iter={max_iter} "
                      "iterations for some samples: increase max_iter (transform_max_iter)",
                      ConvergenceWarning, stacklevel=3)
    return codes


def sparse_encode(X, dictionary, *, gram=None, cov=None, algorithm="lasso_lars",
                  n_nonzero_coefs=None, alpha=None, copy_cov=True, init=None, max_iter=1000,
                  n_jobs=None, check_input=True, verbose=0, positive=False):
    r"""Sparse codes, scikit-learn's `sklearn.decomposition.sparse_encode` (same signature,
    defaults, errors and result: an array (n_samples, n_components)).

    `X` (n_samples, n_features); `dictionary` (n_components, n_features), atoms as rows
    (neurojax's own solvers take the transpose). `algorithm`: see the module docstring;
    `alpha` (default 1) is the penalty of the lasso algorithms and the threshold,
    `n_nonzero_coefs` (default min(max(n_features / 10, 1), n_components)) the atoms of "lars"
    and "omp"; `positive` constrains codes to ≥ 0 (not with "lars"/"omp"); `init` warm-starts
    "lasso_cd"; `max_iter` caps the iterations of "lasso_cd" and the path of "lasso_lars".
    `gram` and `cov` (scikit-learn's precomputed DDᵀ and DXᵀ) are accepted and not used:
    they are recomputed on the device. `n_jobs`, `copy_cov` and `verbose` are accepted for
    compatibility (JAX parallelises within the call). Float64 data is computed in float64.
    neurojax's own entry point, with the dictionary as columns, "auto" solver choice and a
    result with per-sample status, is `neurojax.sparse.encode`.
    """
    check_choice("algorithm", algorithm, ALGORITHMS)
    if n_nonzero_coefs is not None:
        check_positive_int("n_nonzero_coefs", n_nonzero_coefs)
    if alpha is not None:
        check_number("alpha", alpha, low=0.0)
    max_iter = check_positive_int("max_iter", max_iter, allow_zero=True)
    if check_input:
        dictionary, X = check_matrix("dictionary", dictionary), check_matrix("X", X)
    X, dictionary = np.asarray(X), np.asarray(dictionary)
    if dictionary.shape[1] != X.shape[1]:
        raise ValueError("Dictionary and X have different numbers of features:"
                         f"dictionary.shape: {dictionary.shape} X.shape{X.shape}")
    check_positive_coding(algorithm, positive)
    dtype = np.result_type(X.dtype, dictionary.dtype)
    if init is not None:
        init = check_matrix("init", init, dtype)
        if init.shape != (X.shape[0], dictionary.shape[0]):
            raise ValueError(f"`init` must be (n_samples, n_components) = "
                             f"{(X.shape[0], dictionary.shape[0])}, got {init.shape}")
    return encode(X.astype(dtype, copy=False), dictionary.astype(dtype, copy=False),
                  algorithm=algorithm, alpha=alpha, n_nonzero_coefs=n_nonzero_coefs,
                  positive=positive, max_iter=max_iter, init=init)


def objective(X, code, dictionary, alpha):
    r"""$\tfrac12\|X - U V\|_F^2 + \alpha\|U\|_{1,1}$ of codes `code` (U) in `dictionary` (V,
    atoms as rows): the cost scikit-learn's learners monitor (host arrays)."""
    return 0.5 * np.sum((X - code @ dictionary) ** 2) + alpha * np.sum(np.abs(code))


def update_dict(dictionary, X, code, A=None, B=None, *, random_state=None, positive=False,
                verbose=False):
    """scikit-learn's dictionary update (`_update_dict`), returning the new dictionary
    (n_components, n_features): one block-coordinate sweep (`update_sweep`) with statistics
    `A` = codeᵀcode, `B` = Xᵀcode (computed when None); an atom with A_kk ≤ 1e-6 is replaced by
    a random sample plus 1 % noise (drawn from `random_state` as scikit-learn draws them) and
    its column of `code` zeroed in place; `positive` clips atoms to ≥ 0."""
    rs = check_random_state(random_state)
    A = code.T @ code if A is None else A
    B = X.T @ code if B is None else B
    unused = np.flatnonzero(np.diag(A) <= UNUSED)
    replace = None
    if len(unused):
        replace = np.zeros((X.shape[1], code.shape[1]), X.dtype)
        for k in unused:
            new = X[rs.choice(X.shape[0])]
            replace[:, k] = new + rs.normal(0, 0.01 * (new.std() or 1), size=len(new))
        code[:, unused] = 0
        if verbose:
            print(f"{len(unused)} unused atoms resampled.")
    with precision(X.dtype):
        D = update_sweep(jnp.asarray(dictionary.T), jnp.asarray(A), jnp.asarray(B), UNUSED,
                         None if replace is None else jnp.asarray(replace), bool(positive))
        return np.asarray(D.T, X.dtype)
