r"""Lasso coefficient inference, $\min_a \tfrac12\|x - D a\|^2 + \alpha\|a\|_1$, by ISTA and FISTA.

`D` is (n_features, n_atoms) with unit-norm atoms (columns); data `X` is (n_samples, n_features)
and codes (n_samples, n_atoms), as in scikit-learn (whose `sparse_encode(X, D.T, alpha=α)` minimises
the same objective). The batch is updated in matrix form; every `check_every` iterations each
sample's duality gap is computed, converged samples stop changing, and the still-active samples are
compacted into a smaller bucket (so stragglers do not cost a full-batch iteration). Each sample has
its own step size, adapted by Beck & Teboulle's backtracking test between 1/L and 64/L: the
curvature on a sample's support is usually far below the global L of a coherent dictionary.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_finite, check_number, check_positive_int, raise_unless_converged
from ._compaction import bucket_sizes, chunked, first_where, pad_rows, padding


class LassoResult(eqx.Module):
    """Codes and per-sample diagnostics of `ista`/`fista`/`lasso_lars`: `codes`, `num_steps`
    (iterations, or homotopy steps, taken per sample), `objective`, duality `gap`, `residual_norm`
    and `converged`."""

    codes: Float[Array, "n k"]
    num_steps: Int[Array, " n"]
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
    if isinstance(alpha, bool) or jnp.ndim(alpha) != 0:
        raise ValueError(f"`alpha` must be a scalar >= 0, got {alpha}")
    check_number("alpha", alpha, low=0.0)  # (a traced alpha, e.g. under vmap, passes)
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


def lipschitz(D: Float[Array, "f k"], steps: int = 100) -> Float[Array, ""]:
    r"""$L = \|D\|_2^2$, the largest eigenvalue of $D^\top D$, by `steps` power iterations from a
    fixed pseudo-random start, times 1.001 (power iteration approaches $L$ from below; a step
    $1/L$ must not be too long). The start is Gaussian (key 0), not the vector of ones: that one
    is orthogonal to the top eigenvector of dictionaries such as $[B, -B]$ (atoms summing to
    zero), where it gave $L = $ NaN. $L = 0$ for a zero dictionary."""
    D = jnp.asarray(D)
    if D.ndim != 2:
        raise ValueError(f"`D` must be a dictionary (n_features, n_atoms), got shape {D.shape}")
    check_finite("D", D)
    steps = check_positive_int("steps", steps)
    return _lipschitz(D, steps)


@functools.partial(jax.jit, static_argnames="steps")
def _lipschitz(D, steps):
    v0 = jax.random.normal(jax.random.key(0), (D.shape[1],), D.dtype)
    v0 = v0 / jnp.linalg.norm(v0)

    def body(_, v):
        w = D.T @ (D @ v)
        norm = jnp.linalg.norm(w)
        return jnp.where(norm > 0, w / jnp.where(norm > 0, norm, 1), v)

    v = jax.lax.fori_loop(0, steps, body, v0)
    return 1.001 * jnp.sum((D @ v) ** 2)


def default_tol(dtype, *, float64: float = 1e-7, float32: float = 1e-5) -> float:
    """The default relative duality-gap tolerance of the iterative solvers for `dtype`: `float64`
    in double precision, `float32` otherwise. Float32 gaps floor near 3e-6 relative (the residual
    is only float32-accurate): below that a sample never stops and runs to `max_steps`."""
    try:
        eps = jnp.finfo(dtype).eps
    except (TypeError, ValueError) as err:
        raise TypeError(f"`dtype` must be a real floating dtype, got {dtype!r}") from err
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a real floating dtype, got {dtype!r}")
    float64, float32 = check_number("float64", float64, low=0.0), check_number("float32", float32,
                                                                                  low=0.0)
    return float64 if eps < 1e-10 else float32


def check_tol(tol, dtype, **defaults) -> float:
    """`tol`, or the dtype's default (`default_tol`) when None; ValueError unless finite >= 0."""
    return float(check_number("tol", default_tol(dtype, **defaults) if tol is None else tol,
                              low=0.0))


_MAX_STEP_GROWTH = 64.0  # adaptive steps range over [1/L, 64/L]


def lasso_objective(D, X, A, alpha):
    r"""Per-sample $\tfrac12\|x - D a\|^2 + \alpha\|a\|_1$."""
    D, X, A = jnp.asarray(D), jnp.asarray(X), jnp.asarray(A)
    if D.ndim != 2 or X.ndim != 2 or X.shape[1] != D.shape[0] or A.shape != (X.shape[0], D.shape[1]):
        raise ValueError(f"`D` (n_features, n_atoms), `X` (n, n_features) and `A` (n, n_atoms) do "
                         f"not fit: got {D.shape}, {X.shape}, {A.shape}")
    check_number("alpha", alpha, low=0.0)
    R = X - A @ D.T
    return 0.5 * jnp.sum(R**2, axis=1) + alpha * jnp.sum(jnp.abs(A), axis=1)


def _gap(D, X, A, alpha, nonneg):
    r"""Per-sample objective, duality gap and residual norm.

    The dual point is $\theta = r/s$, $r = x - D a$, $s = \max(1, \|D^\top r\|_\infty/\alpha)$
    (feasible). Writing $x = Da + r$ and $c = D^\top r$, the gap $P(a) - \text{dual}(\theta)$ equals
    $\tfrac12\|r\|^2(1 - 1/s)^2 + \sum_j (\alpha|a_j| - a_j c_j/s)$, a sum of non-negative
    terms: computed this way it has no cancellation between two objective-sized numbers (the
    textbook form floors near 1e-6 relative in float32)."""
    R = X - A @ D.T
    C = R @ D
    rr = jnp.sum(R**2, 1)
    primal, gap = _duality(rr, _dual_norm(C, nonneg), A, C, alpha)
    return primal, gap, jnp.sqrt(rr)


def _dual_norm(C, nonneg):
    """Per-row ‖c‖∞ (or max_j c_j⁺ with `nonneg`): a ≠ 0 is optimal only below this λ."""
    return jnp.max(jnp.maximum(C, 0.0) if nonneg else jnp.abs(C), axis=1)


def _duality(rr, cmax, A, CA, alpha):
    """`_gap`'s objective and gap from ‖r‖², max_j |c_j| (or c_j⁺), and the codes `A` with the
    correlations `CA` at the same positions (dense rows, or only a sample's active atoms)."""
    inv_s = 1.0 / jnp.maximum(1.0, cmax / jnp.maximum(alpha, jnp.finfo(rr.dtype).tiny))
    primal = 0.5 * rr + alpha * jnp.sum(jnp.abs(A), 1)
    gap = 0.5 * rr * (1 - inv_s) ** 2 + jnp.sum(alpha * jnp.abs(A) - A * CA * inv_s[:, None], 1)
    return primal, gap


@functools.partial(jax.jit, static_argnames=("momentum", "nonneg", "max_steps", "check_every",
                                             "factored"))
def _solve(D, X, alpha, A0, L, tol, momentum, nonneg, max_steps, check_every, factored):
    n = X.shape[0]
    XD = X @ D
    G = None if factored else D.T @ D
    s_min = 1.0 / L
    s_max = s_min * _MAX_STEP_GROWTH

    # The "image" of codes a is D a (factored: data space) or Gᵀa (Gram form: code space); it is
    # linear, so the image of the momentum point is a combination of two known images: one
    # product with D (or G) per iteration gives the gradient *and* the backtracking test.
    def image(A):
        return A @ D.T if factored else A @ G

    def grad(IY, Xi, XDi):  # ∇ ½‖x − D y‖² = Dᵀ(D y − x)
        return (IY - Xi) @ D if factored else IY - XDi

    def prox(V, s):
        thr = alpha * s[:, None]
        if nonneg:
            return jnp.maximum(V - thr, 0.0)
        return jnp.sign(V) * jnp.maximum(jnp.abs(V) - thr, 0.0)

    def iterate(c, Xi, XDi):
        A, Y, t, s, IA, IY, active = c
        g = grad(IY, Xi, XDi)
        A_new = prox(Y - s[:, None] * g, s)
        IA_new = image(A_new)
        # Beck & Teboulle's sufficient-decrease test f(a) <= f(y) + <g, d> + |d|^2 / 2s. For the
        # quadratic f it is exactly |D d|^2 <= |d|^2 / s, d = a - y, evaluated from the images
        # without the cancellation of f(a) - f(y); s = 1/L always passes.
        d = A_new - Y
        dI = IA_new - IY
        curv = jnp.sum(dI**2, 1) if factored else jnp.sum(d * dI, 1)
        acc = active & ((curv * s <= jnp.sum(d**2, 1)) | (s <= s_min))
        if momentum:  # adaptive restart (O'Donoghue & Candès): reset when momentum points uphill
            restart = jnp.sum((Y - A_new) * (A_new - A), axis=1) > 0
            t0 = jnp.where(restart, 1.0, t)
            t_new = 0.5 * (1 + jnp.sqrt(1 + 4 * t0**2))
            beta = ((t0 - 1) / t_new)[:, None]
        else:
            t_new, beta = t, 0.0
        Y_new = A_new + beta * (A_new - A)
        IY_new = IA_new + beta * (IA_new - IA)
        keep = acc[:, None]
        A, IA = jnp.where(keep, A_new, A), jnp.where(keep, IA_new, IA)
        Y, IY = jnp.where(keep, Y_new, Y), jnp.where(keep, IY_new, IY)
        # grow the step after a success, halve it after a failure
        s = jnp.where(acc, jnp.minimum(s * 1.25, s_max),
                      jnp.where(active, jnp.maximum(0.5 * s, s_min), s))
        return A, Y, jnp.where(acc, t_new, t), s, IA, IY, active

    # Compaction (see `_compaction`): each block gathers the still-active samples (by `order`)
    # into the smallest bucket that holds them and scatters the results back.
    n_real = n
    pad = padding(n)
    if pad:  # zero rows: a = 0 is optimal, they stop after the first block
        X = jnp.concatenate([X, jnp.zeros((pad, X.shape[1]), X.dtype)])
        XD = jnp.concatenate([XD, jnp.zeros((pad, XD.shape[1]), X.dtype)])
        A0 = jnp.concatenate([A0, jnp.zeros((pad, A0.shape[1]), X.dtype)])
        n = n + pad
    sizes = bucket_sizes(n) if check_every < max_steps else [n]

    def iterations(c, Xi, XDi):
        return jax.lax.fori_loop(0, check_every, lambda _, c: iterate(c, Xi, XDi), c, unroll=2)

    def make_block(b):
        def run(A, Y, t, s, active, order):
            idx = order[:b]
            Ai, Yi, Xi, XDi = A[idx], Y[idx], X[idx], XD[idx]
            c = (Ai, Yi, t[idx], s[idx], image(Ai), image(Yi), active[idx])
            c, _, _ = chunked(lambda a: (iterations(*a), a[1], a[2]), (c, Xi, XDi), b)
            a, y, tt, ss, _, _, act = c
            primal, gap, _ = _gap(D, Xi, a, alpha, nonneg)
            act = act & (gap > tol * jnp.maximum(primal, 10 * jnp.finfo(X.dtype).eps))
            return (A.at[idx].set(a), Y.at[idx].set(y), t.at[idx].set(tt), s.at[idx].set(ss),
                    active.at[idx].set(act))

        return run

    branches = [make_block(b) for b in sizes]

    def cond(c):
        return jnp.any(c[4]) & (c[5] < max_steps)

    def block(c):
        A, Y, t, s, active, it, num_steps, order = c
        which = jnp.searchsorted(jnp.asarray(sizes), jnp.sum(active))
        was_active = active
        A, Y, t, s, active = jax.lax.switch(which, branches, A, Y, t, s, active, order)
        it = it + check_every
        num_steps = jnp.where(was_active, it, num_steps)
        order = first_where(active)  # active samples first
        return A, Y, t, s, active, it, num_steps, order

    init = (A0, A0, jnp.ones(n, X.dtype), jnp.full(n, s_min, X.dtype), jnp.ones(n, bool),
            jnp.array(0), jnp.zeros(n, jnp.int32), jnp.arange(n))
    A, _, _, _, active, _, num_steps, _ = jax.lax.while_loop(cond, block, init)
    A, X, active, num_steps = A[:n_real], X[:n_real], active[:n_real], num_steps[:n_real]
    primal, gap, res = _gap(D, X, A, alpha, nonneg)
    # a NaN never counts as converged (the stop test `gap > tol * primal` is False for NaN)
    finite = jnp.all(jnp.isfinite(A), axis=1) & jnp.isfinite(primal) & jnp.isfinite(gap)
    return LassoResult(codes=A, num_steps=num_steps, objective=primal, gap=gap, residual_norm=res,
                       converged=~active & finite)


def schedule(max_steps: int, check_every: int) -> tuple[int, int]:
    """(iteration cap, check interval) as `_solve` runs them: the interval is at most the cap,
    and the cap is rounded up to whole intervals."""
    check_every = min(check_every, max_steps)
    return -(-max_steps // check_every) * check_every, check_every


def _run(D, X, alpha, momentum, *, max_steps, tol, check_every, nonneg, init, L):
    D, X = check_problem(D, X, alpha, init)
    max_steps = check_positive_int("max_steps", max_steps)
    max_steps, check_every = schedule(max_steps, check_positive_int("check_every", check_every))
    tol = check_tol(tol, X.dtype)
    A0 = jnp.zeros((X.shape[0], D.shape[1]), X.dtype) if init is None else jnp.asarray(init, X.dtype)
    L = lipschitz(D) if L is None else jnp.asarray(L, X.dtype)
    factored = 2 * D.shape[0] < D.shape[1]  # cheaper than the Gram matrix for overcomplete D
    # zero rows up to `batch_rows` (their codes are 0, done after the first block): batches of
    # different sizes share a few compiled programs
    r = _solve(D, pad_rows(X), jnp.asarray(alpha, X.dtype), pad_rows(A0), L,
               jnp.asarray(tol, X.dtype), momentum, bool(nonneg),
               max_steps, check_every, factored)
    return jax.tree.map(lambda v: v[:X.shape[0]], r)


def fista(D, X, alpha: float, *, max_steps: int = 2000, tol: float | None = None, check_every: int = 10,
          nonneg: bool = False, init=None, lipschitz_constant=None,
          throw: bool = False) -> LassoResult:
    r"""FISTA (Beck & Teboulle 2009) with per-sample adaptive restart for the lasso.

    $a \leftarrow \mathrm{prox}_{\alpha/L}\bigl(y - \tfrac1L \nabla f(y)\bigr)$,
    $y \leftarrow a + \tfrac{t_k - 1}{t_{k+1}}(a - a_{\text{prev}})$, prox = soft threshold (or
    $\max(\cdot - \alpha/L, 0)$ with `nonneg=True`), $L = \|D\|_2^2$ by power iteration; the step
    1/L is the floor of a per-sample backtracking step (module docstring). A sample stops
    once its duality gap is ≤ `tol` × its objective (checked every `check_every` iterations; so
    objective − optimum ≤ tol × objective); `init` warm-starts the codes. `tol` defaults to
    1e-7 in float64 and 1e-5 in float32 (`default_tol`: float32 gaps floor near 3e-6, so a
    tighter float32 `tol` runs every sample to `max_steps`). Non-converged samples are flagged
    in `converged`. `throw=True` raises (also under `jit`) if any sample did not
    converge."""
    r = _run(D, X, alpha, True, max_steps=max_steps, tol=tol, check_every=check_every,
             nonneg=nonneg, init=init, L=lipschitz_constant)
    return raise_unless_converged(r, r.converged, "fista") if throw else r


def ista(D, X, alpha: float, *, max_steps: int = 10000, tol: float | None = None, check_every: int = 10,
         nonneg: bool = False, init=None, lipschitz_constant=None,
         throw: bool = False) -> LassoResult:
    r"""ISTA: the proximal gradient step of `fista` without momentum (O(1/k) instead of O(1/k²);
    needs more iterations). Same arguments and result."""
    r = _run(D, X, alpha, False, max_steps=max_steps, tol=tol, check_every=check_every,
             nonneg=nonneg, init=init, L=lipschitz_constant)
    return raise_unless_converged(r, r.converged, "ista") if throw else r
