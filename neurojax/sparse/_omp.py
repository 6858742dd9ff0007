r"""Orthogonal matching pursuit (Pati et al. 1993), batched with fixed shapes (seed 002)."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import check_finite, check_positive_int
from .._linalg import solve
from ._compaction import pad_rows


class OMPResult(eqx.Module):
    """Codes (n_samples, n_atoms), the selected atoms in order (n_samples, n_nonzero), intercepts."""

    codes: Float[Array, "n k"]
    support: Int[Array, "n s"]
    intercept: Float[Array, " n"]


def _omp_one(D, x, n_nonzero):
    k = D.shape[1]

    # an atom joins only if its correlation with the residual is above rounding: once the
    # residual is orthogonal to every remaining atom (a duplicate or zero atom, a rank-deficient
    # dictionary), the slot stays empty (-1) instead of making the least squares singular
    floor = 100 * jnp.finfo(D.dtype).eps * jnp.linalg.norm(x) * jnp.max(jnp.linalg.norm(D, axis=0))

    def body(i, c):
        support, coef, r = c
        corr = jnp.abs(D.T @ r)
        taken = jnp.any(support[:, None] == jnp.arange(k)[None, :], axis=0)  # -1 matches none
        scores = jnp.where(taken, -jnp.inf, corr)
        j = jnp.argmax(scores)
        support = support.at[i].set(jnp.where(scores[j] > floor, j, -1))
        used = support >= 0
        Ds = jnp.where(used[None, :], D[:, jnp.maximum(support, 0)], 0.0)
        # least squares on the selected atoms; unused slots get an identity row (fixed shapes)
        G = Ds.T @ Ds + jnp.diag(jnp.where(used, 0.0, 1.0))
        coef = solve(G, Ds.T @ x)
        return support, coef, x - Ds @ coef

    init = (jnp.full(n_nonzero, -1), jnp.zeros(n_nonzero, D.dtype), x)
    support, coef, _ = jax.lax.fori_loop(0, n_nonzero, body, init)
    slot = jnp.where(support >= 0, support, k)  # empty slots write past the end
    return jnp.zeros(k + 1, D.dtype).at[slot].add(coef)[:k], support


@functools.partial(jax.jit, static_argnames=("n_nonzero", "fit_intercept"))
def _omp(D, X, n_nonzero, fit_intercept):
    if fit_intercept:
        d_mean = jnp.mean(D, axis=0)
        x_mean = jnp.mean(X, axis=1)
        codes, support = jax.vmap(lambda x: _omp_one(D - d_mean, x, n_nonzero))(X - x_mean[:, None])
        return OMPResult(codes=codes, support=support, intercept=x_mean - codes @ d_mean)
    codes, support = jax.vmap(lambda x: _omp_one(D, x, n_nonzero))(X)
    return OMPResult(codes=codes, support=support, intercept=jnp.zeros(X.shape[0], X.dtype))


def omp(D, X, n_nonzero: int, *, fit_intercept: bool = False) -> OMPResult:
    r"""Greedy sparse codes with (up to) `n_nonzero` atoms per sample: repeatedly add the atom most
    correlated with the residual, $j = \arg\max_j |d_j^\top r|$, and refit all selected
    coefficients by least squares, $r = x - D_S (D_S^\top D_S)^{-1} D_S^\top x$.

    `D` (n_features, n_atoms), `X` (n_samples, n_features) or one signal (n_features,). With
    `fit_intercept=True` atoms and signals are centred first and the intercept returned, like
    scikit-learn's `OrthogonalMatchingPursuit(fit_intercept=True)` (the tutorial's setting), where
    the signal's time points are its samples and the atoms its features. `lax.fori_loop` over the
    atoms, `vmap` over signals. An atom joins only while the residual has a correlation above
    rounding with some atom: with duplicate or zero atoms, or more atoms than the (centred)
    dictionary's rank, the remaining slots of `support` are -1 and the codes stay finite."""
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
    check_finite("D", D)
    check_finite("X", X)
    dtype = jnp.result_type(D, X, float)
    # zero rows up to `batch_rows` (no atom joins them): few compiled batch shapes
    res = _omp(D.astype(dtype), pad_rows(X.astype(dtype)), n_nonzero, bool(fit_intercept))
    res = jax.tree.map(lambda a: a[:X.shape[0]], res)
    return jax.tree.map(lambda a: a[0], res) if single else res
