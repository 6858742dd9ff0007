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
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._checks import (
    check_finite,
    check_float_dtype,
    check_number,
    check_positive_int,
    raise_unless_converged,
)
from .._tolerance import check_tol
from ._compaction import bucket_sizes, chunked, first_where, pad_rows, padding
from ._implicit import lasso_codes


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


def check_problem(D, X, alpha, init=None, check_input: bool = True):
    """Validate a lasso problem; returns `(D, X)` as arrays of one float dtype. With
    `check_input=False` (scikit-learn's convention: the caller validated already) only the
    conversion is done: no shape or finiteness check, no copy to the host."""
    D, X = jnp.asarray(D), jnp.asarray(X)
    if not check_input:
        dtype = jnp.result_type(D, X, float)
        return D.astype(dtype), X.astype(dtype)
    if D.ndim != 2 or 0 in D.shape:
        raise ValueError(f"`D` must be (n_features, n_atoms) with at least one of each, got shape "
                         f"{D.shape}")
    check_float_dtype("D", D)
    check_float_dtype("X", X)
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


def lipschitz(D: Float[ArrayLike, "f k"], steps: int = 100) -> Float[Array, ""]:
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


def step_lipschitz(D):
    """`lipschitz` without the checks (traceable), for the solvers' own step: a zero dictionary
    has L = 0, where every step is exact (the gradient and the codes are 0): 1 there."""
    L = _lipschitz(D, 100)
    return jnp.where(L > 0, L, jnp.ones_like(L))


@functools.partial(jax.jit, static_argnames="steps")
def _lipschitz(D, steps):
    # iterate on D / max|D|: D^T D v of a large dictionary overflows long before L does
    # (D * 1e20 in float32 gave NaN); L = scale² L(D / scale), inf only if L itself overflows
    scale = jnp.max(jnp.abs(D))
    scale = jnp.where(scale > 0, scale, 1)
    D = D / scale
    v0 = jax.random.normal(jax.random.key(0), (D.shape[1],), D.dtype)
    v0 = v0 / jnp.linalg.norm(v0)

    def body(_, v):
        w = D.T @ (D @ v)
        norm = jnp.linalg.norm(w)
        return jnp.where(norm > 0, w / jnp.where(norm > 0, norm, 1), v)

    v = jax.lax.fori_loop(0, steps, body, v0)
    return (1.001 * jnp.sum((D @ v) ** 2)) * scale * scale


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
    primal, gap = duality(rr, dual_norm(C, nonneg), A, C, alpha)
    return primal, gap, jnp.sqrt(rr)


def dual_norm(C, nonneg):
    """Per-row ‖c‖∞ (or max_j c_j⁺ with `nonneg`): a ≠ 0 is optimal only below this λ."""
    return jnp.max(jnp.maximum(C, 0.0) if nonneg else jnp.abs(C), axis=1)


def duality(rr, cmax, A, CA, alpha):
    """`_gap`'s objective and gap from ‖r‖², max_j |c_j| (or c_j⁺), and the codes `A` with the
    correlations `CA` at the same positions (dense rows, or only a sample's active atoms)."""
    inv_s = 1.0 / jnp.maximum(1.0, cmax / jnp.maximum(alpha, jnp.finfo(rr.dtype).tiny))
    primal = 0.5 * rr + alpha * jnp.sum(jnp.abs(A), 1)
    gap = 0.5 * rr * (1 - inv_s) ** 2 + jnp.sum(alpha * jnp.abs(A) - A * CA * inv_s[:, None], 1)
    return primal, gap


class FistaSettings(eqx.Module):
    """How `solve_lasso` runs (all static: one compiled program per setting): `momentum`
    (FISTA; False: ISTA), `nonneg`, the iteration cap `max_steps` (a whole number of check
    intervals), `check_every` (iterations between convergence checks) and `factored` (products
    with D instead of the Gram matrix). Build it with `FistaSettings.make`."""

    momentum: bool = eqx.field(static=True)
    nonneg: bool = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    check_every: int = eqx.field(static=True)
    factored: bool = eqx.field(static=True)

    @classmethod
    def make(cls, shape, max_steps: int, check_every: int = 10, *, momentum: bool = True,
             nonneg: bool = False) -> "FistaSettings":
        """Settings for a dictionary of `shape` (n_features, n_atoms): the cap rounded up to
        whole check intervals (`schedule`), and the factored form when 2 n_features < n_atoms
        (a product with D is then cheaper than one with the Gram matrix)."""
        max_steps, check_every = schedule(max_steps, check_every)
        return cls(momentum=bool(momentum), nonneg=bool(nonneg), max_steps=max_steps,
                   check_every=check_every, factored=2 * shape[0] < shape[1])


class FistaState(eqx.Module):
    """Per-sample FISTA iterate: `codes` a, the momentum `point` y, the momentum scalar `t`,
    the adaptive `step`, and `active` (not yet converged)."""

    codes: Float[Array, "n k"]
    point: Float[Array, "n k"]
    t: Float[Array, " n"]
    step: Float[Array, " n"]
    active: Bool[Array, " n"]


class _Loop(eqx.Module):
    """`solve_lasso`'s outer loop: the iterate, iterations so far, per-sample iterations taken,
    and the order that puts the active samples first."""

    state: FistaState
    it: Int[Array, ""]
    num_steps: Int[Array, " n"]
    order: Int[Array, " n"]


@functools.partial(jax.jit, static_argnames="settings")
def solve_lasso(D, X, alpha, A0, L, tol, settings: FistaSettings) -> LassoResult:
    """FISTA/ISTA codes for `X` from `A0` (no validation; see `fista` for the algorithm), with
    Lipschitz constant `L`, relative duality-gap tolerance `tol` and `settings`: the one
    entry point of the package's FISTA (fista/ista, dictionary learning, the online learner,
    the homotopy's finish)."""
    momentum, nonneg, factored = settings.momentum, settings.nonneg, settings.factored
    max_steps, check_every = settings.max_steps, settings.check_every
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

    def iterate(carry, Xi, XDi):
        st, IA, IY = carry  # the iterate and the images of its codes and point
        A, Y, t, s, active = st.codes, st.point, st.t, st.step, st.active
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
        st = FistaState(codes=A, point=Y, t=jnp.where(acc, t_new, t), step=s, active=active)
        return st, IA, IY

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

    def iterations(carry, Xi, XDi):
        return jax.lax.fori_loop(0, check_every, lambda _, c: iterate(c, Xi, XDi), carry,
                                 unroll=2)

    def make_block(b):
        def run(st, order):
            idx = order[:b]
            sub = jax.tree.map(lambda v: v[idx], st)
            Xi, XDi = X[idx], XD[idx]
            carry = (sub, image(sub.codes), image(sub.point))
            carry, _, _ = chunked(lambda a: (iterations(*a), a[1], a[2]), (carry, Xi, XDi), b)
            sub = carry[0]
            primal, gap, _ = _gap(D, Xi, sub.codes, alpha, nonneg)
            sub = eqx.tree_at(lambda v: v.active, sub, sub.active & (
                gap > tol * jnp.maximum(primal, 10 * jnp.finfo(X.dtype).eps)))
            return jax.tree.map(lambda v, w: v.at[idx].set(w), st, sub)

        return run

    branches = [make_block(b) for b in sizes]

    def cond(loop):
        return jnp.any(loop.state.active) & (loop.it < max_steps)

    def block(loop):
        which = jnp.searchsorted(jnp.asarray(sizes), jnp.sum(loop.state.active))
        st = jax.lax.switch(which, branches, loop.state, loop.order)
        it = loop.it + check_every
        num_steps = jnp.where(loop.state.active, it, loop.num_steps)
        return _Loop(state=st, it=it, num_steps=num_steps,
                     order=first_where(st.active))  # active samples first

    start = FistaState(codes=A0, point=A0, t=jnp.ones(n, X.dtype),
                       step=jnp.full(n, s_min, X.dtype), active=jnp.ones(n, bool))
    loop = jax.lax.while_loop(cond, block, _Loop(state=start, it=jnp.array(0),
                                                 num_steps=jnp.zeros(n, jnp.int32),
                                                 order=jnp.arange(n)))
    A, active = loop.state.codes[:n_real], loop.state.active[:n_real]
    num_steps, X = loop.num_steps[:n_real], X[:n_real]
    primal, gap, res = _gap(D, X, A, alpha, nonneg)
    # a NaN never counts as converged (the stop test `gap > tol * primal` is False for NaN), nor
    # do bad traced hyperparameters (a negative alpha makes the gap negative, which passes the
    # test; L <= 0 or a negative tol): checked eagerly by the public functions, flagged here
    finite = jnp.all(jnp.isfinite(A), axis=1) & jnp.isfinite(primal) & jnp.isfinite(gap)
    sound = (alpha >= 0) & (L > 0) & jnp.isfinite(L) & (tol >= 0)
    return LassoResult(codes=A, num_steps=num_steps, objective=primal, gap=gap, residual_norm=res,
                       converged=~active & finite & sound)


def schedule(max_steps: int, check_every: int) -> tuple[int, int]:
    """(iteration cap, check interval) as `solve_lasso` runs them: the interval is at most the cap,
    and the cap is rounded up to whole intervals."""
    check_every = min(check_every, max_steps)
    return -(-max_steps // check_every) * check_every, check_every


def _run(D, X, alpha, momentum, *, max_steps, tol, check_every, nonneg, init, L, check_input):
    D, X = check_problem(D, X, alpha, init, check_input)
    settings = FistaSettings.make(D.shape, check_positive_int("max_steps", max_steps),
                                  check_positive_int("check_every", check_every),
                                  momentum=momentum, nonneg=nonneg)
    tol = check_tol(tol, X.dtype)
    A0 = jnp.zeros((X.shape[0], D.shape[1]), X.dtype) if init is None else jnp.asarray(init, X.dtype)
    if L is None:
        L = step_lipschitz(D)  # D is validated
    else:
        check_number("lipschitz_constant", L, low=0.0, strict=True)
        L = jnp.asarray(L, X.dtype)
    # zero rows up to `batch_rows` (their codes are 0, done after the first block): batches of
    # different sizes share a few compiled programs
    alpha = jnp.asarray(alpha, X.dtype)
    # the iterations are never differentiated (reverse mode cannot go through their while loop):
    # derivatives of the codes come from the optimality conditions (`lasso_codes`)
    r = solve_lasso(*jax.lax.stop_gradient((D, pad_rows(X), alpha, pad_rows(A0), L)),
                    jnp.asarray(tol, X.dtype), settings)
    r = jax.tree.map(lambda v: v[:X.shape[0]], r)
    return eqx.tree_at(lambda v: v.codes, r, lasso_codes(D, X, alpha, r.codes))


def fista(D, X, alpha: float | Float[Array, ""], *, max_steps: int = 2000, tol: float | None = None, check_every: int = 10,
          nonneg: bool = False, init=None, lipschitz_constant=None,
          throw: bool = False, check_input: bool = True) -> LassoResult:
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
    converge. `check_input=False` skips the validation of `D`, `X` and `init` (for callers that
    validated them already, as scikit-learn's `check_input`)."""
    r = _run(D, X, alpha, True, max_steps=max_steps, tol=tol, check_every=check_every,
             nonneg=nonneg, init=init, L=lipschitz_constant, check_input=check_input)
    return raise_unless_converged(r, r.converged, "fista") if throw else r


def ista(D, X, alpha: float | Float[Array, ""], *, max_steps: int = 10000, tol: float | None = None, check_every: int = 10,
         nonneg: bool = False, init=None, lipschitz_constant=None,
         throw: bool = False, check_input: bool = True) -> LassoResult:
    r"""ISTA: the proximal gradient step of `fista` without momentum (O(1/k) instead of O(1/k²);
    needs more iterations). Same arguments and result."""
    r = _run(D, X, alpha, False, max_steps=max_steps, tol=tol, check_every=check_every,
             nonneg=nonneg, init=init, L=lipschitz_constant, check_input=check_input)
    return raise_unless_converged(r, r.converged, "ista") if throw else r
