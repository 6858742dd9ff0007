r"""Lasso coefficient inference, $\min_a \tfrac12\|x - D a\|^2 + \alpha\|a\|_1$, by ISTA and FISTA.

`D` is (n_features, n_atoms) with unit-norm atoms (columns); data `X` is (n_samples, n_features)
and codes (n_samples, n_atoms), as in scikit-learn (whose `sparse_encode(X, D.T, alpha=α)` minimises
the same objective). The whole batch is updated in matrix form; every `check_every` iterations each
sample's duality gap is computed and converged samples stop changing.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_finite, check_positive_int


class LassoResult(eqx.Module):
    """Codes and per-sample diagnostics of `ista`/`fista`."""

    codes: Float[Array, "n k"]
    n_iter: Int[Array, " n"]
    objective: Float[Array, " n"]
    gap: Float[Array, " n"]
    residual_norm: Float[Array, " n"]
    converged: Bool[Array, " n"]


def check_problem(D, X, alpha, init=None):
    """Validate a lasso problem; returns `(D, X)` as arrays of one float dtype."""
    D, X = jnp.asarray(D), jnp.asarray(X)
    if D.ndim != 2:
        raise ValueError(f"`D` must be (n_features, n_atoms), got shape {D.shape}")
    if X.ndim != 2 or X.shape[1] != D.shape[0]:
        raise ValueError(f"`X` must be (n_samples, n_features = {D.shape[0]}) to match `D` "
                         f"{D.shape}, got shape {X.shape}")
    if not (isinstance(alpha, (int, float)) or jnp.ndim(alpha) == 0) or not float(alpha) >= 0:
        raise ValueError(f"`alpha` must be a scalar >= 0, got {alpha}")
    check_finite("D", D)
    check_finite("X", X)
    if init is not None:
        init = jnp.asarray(init)
        if init.shape != (X.shape[0], D.shape[1]):
            raise ValueError(f"`init` must be (n_samples, n_atoms) = {(X.shape[0], D.shape[1])}, "
                             f"got {init.shape}")
        check_finite("init", init)
    dtype = jnp.result_type(D, X, float)
    return D.astype(dtype), X.astype(dtype)


def lipschitz(D: Float[Array, "f k"], n_iter: int = 100) -> Float[Array, ""]:
    r"""$L = \|D\|_2^2$, the largest eigenvalue of $D^\top D$, by `n_iter` power iterations from a
    deterministic start, times 1.001 (power iteration approaches $L$ from below; a step $1/L$ must
    not be too long)."""
    v0 = jnp.ones(D.shape[1], D.dtype) / jnp.sqrt(D.shape[1])

    def body(_, v):
        w = D.T @ (D @ v)
        return w / jnp.linalg.norm(w)

    v = jax.lax.fori_loop(0, n_iter, body, v0)
    return 1.001 * jnp.sum((D @ v) ** 2)


def lasso_objective(D, X, A, alpha):
    r"""Per-sample $\tfrac12\|x - D a\|^2 + \alpha\|a\|_1$."""
    R = X - A @ D.T
    return 0.5 * jnp.sum(R**2, axis=1) + alpha * jnp.sum(jnp.abs(A), axis=1)


def _gap(D, X, A, alpha, nonneg):
    """Per-sample duality gap P(a) - dual(θ), θ = r / max(1, ‖Dᵀr‖∞/α) (feasible dual point)."""
    R = X - A @ D.T
    C = R @ D
    cmax = jnp.max(jnp.maximum(C, 0.0) if nonneg else jnp.abs(C), axis=1)
    scale = jnp.maximum(1.0, cmax / jnp.maximum(alpha, jnp.finfo(X.dtype).tiny))
    theta = R / scale[:, None]
    primal = 0.5 * jnp.sum(R**2, 1) + alpha * jnp.sum(jnp.abs(A), 1)
    dual = 0.5 * jnp.sum(X**2, 1) - 0.5 * jnp.sum((X - theta) ** 2, 1)
    return primal, primal - dual, jnp.sqrt(jnp.sum(R**2, 1))


@functools.partial(jax.jit, static_argnames=("momentum", "nonneg", "max_iter", "check_every",
                                             "factored"))
def _solve(D, X, alpha, A0, L, tol, momentum, nonneg, max_iter, check_every, factored):
    n = X.shape[0]
    step = 1.0 / L
    XD = X @ D
    G = None if factored else D.T @ D

    def grad(Y):  # ∇ ½‖x − D y‖² = (D y − x)ᵀ D, factored or via the Gram matrix
        return ((Y @ D.T) @ D - XD) if factored else (Y @ G - XD)

    def prox(V):
        if nonneg:
            return jnp.maximum(V - alpha * step, 0.0)
        return jnp.sign(V) * jnp.maximum(jnp.abs(V) - alpha * step, 0.0)

    def iterate(_, c):
        A, Y, t, active = c
        A_new = prox(Y - step * grad(Y))
        A_new = jnp.where(active[:, None], A_new, A)
        if not momentum:
            return A_new, A_new, t, active
        # adaptive restart (O'Donoghue & Candès): reset momentum when it points uphill
        restart = jnp.sum((Y - A_new) * (A_new - A), axis=1) > 0
        t = jnp.where(restart, 1.0, t)
        t_new = 0.5 * (1 + jnp.sqrt(1 + 4 * t**2))
        Y_new = A_new + ((t - 1) / t_new)[:, None] * (A_new - A)
        Y_new = jnp.where(active[:, None], Y_new, Y)
        return A_new, Y_new, jnp.where(active, t_new, t), active

    def cond(s):
        _, _, _, active, it, _ = s
        return jnp.any(active) & (it < max_iter)

    def block(s):
        A, Y, t, active, it, n_iter = s
        A, Y, t, _ = jax.lax.fori_loop(0, check_every, iterate, (A, Y, t, active))
        it = it + check_every
        n_iter = jnp.where(active, it, n_iter)
        primal, gap, _ = _gap(D, X, A, alpha, nonneg)
        tiny = 10 * jnp.finfo(X.dtype).eps
        active = active & (gap > tol * jnp.maximum(primal, tiny))
        return A, Y, t, active, it, n_iter

    ones = jnp.ones(n, X.dtype)
    init = (A0, A0, ones, jnp.ones(n, bool), jnp.array(0), jnp.zeros(n, jnp.int32))
    A, _, _, active, _, n_iter = jax.lax.while_loop(cond, block, init)
    primal, gap, res = _gap(D, X, A, alpha, nonneg)
    return LassoResult(codes=A, n_iter=n_iter, objective=primal, gap=gap, residual_norm=res,
                       converged=~active)


def _run(D, X, alpha, momentum, *, max_iter, tol, check_every, nonneg, init, L):
    D, X = check_problem(D, X, alpha, init)
    max_iter = check_positive_int("max_iter", max_iter)
    check_every = min(check_positive_int("check_every", check_every), max_iter)
    if not tol >= 0:
        raise ValueError(f"`tol` must be >= 0, got {tol}")
    A0 = jnp.zeros((X.shape[0], D.shape[1]), X.dtype) if init is None else jnp.asarray(init, X.dtype)
    L = lipschitz(D) if L is None else jnp.asarray(L, X.dtype)
    factored = 2 * D.shape[0] < D.shape[1]  # cheaper than the Gram matrix for overcomplete D
    return _solve(D, X, jnp.asarray(alpha, X.dtype), A0, L, jnp.asarray(tol, X.dtype), momentum,
                  bool(nonneg), -(-max_iter // check_every) * check_every, check_every, factored)


def fista(D, X, alpha: float, *, max_iter: int = 2000, tol: float = 1e-7, check_every: int = 10,
          nonneg: bool = False, init=None, lipschitz_constant=None) -> LassoResult:
    r"""FISTA (Beck & Teboulle 2009) with per-sample adaptive restart for the lasso.

    $a \leftarrow \mathrm{prox}_{\alpha/L}\bigl(y - \tfrac1L \nabla f(y)\bigr)$,
    $y \leftarrow a + \tfrac{t_k - 1}{t_{k+1}}(a - a_{\text{prev}})$, prox = soft threshold (or
    $\max(\cdot - \alpha/L, 0)$ with `nonneg=True`), $L = \|D\|_2^2$ by power iteration. A sample stops
    once its duality gap is ≤ `tol` × its objective (checked every `check_every` iterations; so
    objective − optimum ≤ tol × objective); `init` warm-starts the codes. Non-converged samples are
    flagged in `converged` (float32 gaps floor near 1e-6 relative: use a looser `tol` there)."""
    return _run(D, X, alpha, True, max_iter=max_iter, tol=tol, check_every=check_every,
                nonneg=nonneg, init=init, L=lipschitz_constant)


def ista(D, X, alpha: float, *, max_iter: int = 10000, tol: float = 1e-7, check_every: int = 10,
         nonneg: bool = False, init=None, lipschitz_constant=None) -> LassoResult:
    r"""ISTA: the proximal gradient step of `fista` without momentum (O(1/k) instead of O(1/k²);
    needs more iterations). Same arguments and result."""
    return _run(D, X, alpha, False, max_iter=max_iter, tol=tol, check_every=check_every,
                nonneg=nonneg, init=init, L=lipschitz_constant)
