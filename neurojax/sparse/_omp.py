r"""Orthogonal matching pursuit (Pati et al. 1993), batched with fixed shapes (seed 002).

The batch moves together: each step picks every sample's atom from the correlations
$\alpha = D^\top r$, orthogonalises it against the sample's earlier atoms (classical
Gram-Schmidt, twice), and updates the residual and all correlations by the new direction $q$:
$r \mathrel{-}= (q^\top x) q$, $\alpha \mathrel{-}= (q^\top x) D^\top q$ - one matrix product of the
batch's directions with $D$ per step. The codes solve $R a_S = Q^\top x$ once at the end
($R = Q^\top D_S$). The least squares of each step is thereby exact without any per-step
solve (the former formulation refactored $D_S^\top D_S$ with a batched LU every step).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import check_finite, check_float_dtype, check_positive_int
from ._compaction import pad_rows

_ROWS = 64  # rows per block: their Gram-Schmidt bases (rows x n_nonzero x n_features) stay in cache


class OMPResult(eqx.Module):
    """Codes (n_samples, n_atoms), the selected atoms in order (n_samples, n_nonzero), intercepts."""

    codes: Float[Array, "n k"]
    support: Int[Array, "n s"]
    intercept: Float[Array, " n"]


def _omp_rows(D, X, k):
    """OMP of a batch of rows (no padding, no chunking): see `omp`. Returns (codes, support)."""
    n, f = X.shape
    p = D.shape[1]
    # an atom joins only if its correlation with the residual is above rounding: once the
    # residual is orthogonal to every remaining atom (a duplicate or zero atom, a rank-deficient
    # dictionary), the slot stays empty (-1) instead of making the least squares singular
    floor = (100 * jnp.finfo(D.dtype).eps * jnp.linalg.norm(X, axis=1)
             * jnp.max(jnp.linalg.norm(D, axis=0)))
    rows = jnp.arange(n)

    def body(i, c):
        support, Q, R, y, alpha = c
        taken = jnp.zeros((n, p + 1), bool).at[rows[:, None], support].set(True)[:, :p]
        score = jnp.where(taken, -jnp.inf, jnp.abs(alpha))
        j = jnp.argmax(score, axis=1)
        joins = score[rows, j] > floor
        d = D.T[j]  # (n, f) the chosen atoms
        # classical Gram-Schmidt, twice (orthogonal to rounding in float32 too)
        # (products as multiply-and-sum: XLA:CPU lowers a batched einsum over small matrices to
        # one small dot per row, ~10x slower here)
        h1 = jnp.sum(Q * d[:, None, :], axis=2)
        q = d - jnp.sum(h1[:, :, None] * Q, axis=1)
        h2 = jnp.sum(Q * q[:, None, :], axis=2)
        q = q - jnp.sum(h2[:, :, None] * Q, axis=1)
        norm = jnp.linalg.norm(q, axis=1)
        joins = joins & (norm > jnp.sqrt(jnp.finfo(D.dtype).eps) * jnp.linalg.norm(d, axis=1))
        q = jnp.where(joins[:, None], q / jnp.where(joins, norm, 1.0)[:, None], 0.0)
        yi = jnp.where(joins, jnp.sum(q * X, axis=1), 0.0)  # = qᵀ r: q ⟂ earlier q's
        support = support.at[:, i].set(jnp.where(joins, j, -1))
        Q = Q.at[:, i].set(q)
        # R = Qᵀ D_S (upper triangular): column i is (h1 + h2, |q|); an empty slot gets 1
        R = R.at[:, :, i].set(jnp.where(joins[:, None], h1 + h2, 0.0))
        R = R.at[:, i, i].set(jnp.where(joins, norm, 1.0))
        y = y.at[:, i].set(yi)
        alpha = alpha - yi[:, None] * (q @ D)  # Dᵀr after r -= y_i q
        return support, Q, R, y, alpha

    init = (jnp.full((n, k), -1), jnp.zeros((n, k, f), D.dtype), jnp.zeros((n, k, k), D.dtype),
            jnp.zeros((n, k), D.dtype), X @ D)
    support, _, R, y, _ = jax.lax.fori_loop(0, k, body, init)
    def back(t, a):  # R a = y by back substitution (no LAPACK call; R is upper triangular)
        i = k - 1 - t
        return a.at[:, i].set((y[:, i] - jnp.sum(R[:, i] * a, axis=1)) / R[:, i, i])

    coef = jax.lax.fori_loop(0, k, back, jnp.zeros((n, k), D.dtype))
    slot = jnp.where(support >= 0, support, p)  # empty slots write past the end
    codes = jnp.zeros((n, p + 1), D.dtype).at[rows[:, None], slot].add(coef)[:, :p]
    return codes, support


@functools.partial(jax.jit, static_argnames=("n_nonzero", "fit_intercept"))
def _omp(D, X, n_nonzero, fit_intercept):
    intercept = jnp.zeros(X.shape[0], X.dtype)
    if fit_intercept:
        d_mean, x_mean = jnp.mean(D, axis=0), jnp.mean(X, axis=1)
        D, X = D - d_mean, X - x_mean[:, None]
    n = X.shape[0]
    rows = _ROWS if n % _ROWS == 0 and n > _ROWS else n  # cache-sized row blocks
    codes, support = jax.lax.map(lambda Xc: _omp_rows(D, Xc, n_nonzero),
                                 X.reshape(n // rows, rows, -1))
    codes, support = codes.reshape(n, -1), support.reshape(n, -1)
    if fit_intercept:
        intercept = x_mean - codes @ d_mean
    return OMPResult(codes=codes, support=support, intercept=intercept)


def omp(D, X, n_nonzero: int, *, fit_intercept: bool = False,
        check_input: bool = True) -> OMPResult:
    r"""Greedy sparse codes with (up to) `n_nonzero` atoms per sample: repeatedly add the atom most
    correlated with the residual, $j = \arg\max_j |d_j^\top r|$, and refit all selected
    coefficients by least squares, $r = x - D_S (D_S^\top D_S)^{-1} D_S^\top x$.

    `D` (n_features, n_atoms), `X` (n_samples, n_features) or one signal (n_features,). With
    `fit_intercept=True` atoms and signals are centred first and the intercept returned, like
    scikit-learn's `OrthogonalMatchingPursuit(fit_intercept=True)` (the tutorial's setting), where
    the signal's time points are its samples and the atoms its features. `lax.fori_loop` over the
    atoms, the batch moving together (module docstring). An atom joins only while the residual has a correlation above
    rounding with some atom: with duplicate or zero atoms, or more atoms than the (centred)
    dictionary's rank, the remaining slots of `support` are -1 and the codes stay finite.
    `check_input=False` skips the finiteness check of `D` and `X` (no copy to the host)."""
    D, X = jnp.asarray(D), jnp.asarray(X)
    single = X.ndim == 1
    X = X[None] if single else X
    if D.ndim != 2 or X.ndim != 2 or X.shape[1] != D.shape[0]:
        raise ValueError(f"`D` must be (n_features, n_atoms) and `X` (n_samples, n_features) with "
                         f"the same n_features, got {D.shape} and {X.shape}")
    n_nonzero = check_positive_int("n_nonzero", n_nonzero)
    if n_nonzero > min(D.shape):
        raise ValueError(f"`n_nonzero` must be <= min(n_features, n_atoms) = {min(D.shape)}, "
                         f"got {n_nonzero}")
    check_float_dtype("D", D)
    check_float_dtype("X", X)
    if check_input:
        check_finite("D", D)
        check_finite("X", X)
    dtype = jnp.result_type(D, X, float)
    # zero rows up to `batch_rows` (no atom joins them): few compiled batch shapes
    res = _omp(D.astype(dtype), pad_rows(X.astype(dtype)), n_nonzero, bool(fit_intercept))
    res = jax.tree.map(lambda a: a[:X.shape[0]], res)
    return jax.tree.map(lambda a: a[0], res) if single else res
