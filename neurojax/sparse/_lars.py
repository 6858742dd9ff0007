r"""Batched homotopy (LARS-lasso) for $\min_a \tfrac12\|x - D a\|^2 + \alpha\|a\|_1$.

The lasso solution $a(\lambda)$ is piecewise linear in $\lambda$ (Osborne, Presnell & Turlach 2000;
Efron et al. 2004, "LARS with the lasso modification"; scikit-learn's `lasso_lars`). Starting at
$\lambda_0 = \|D^\top x\|_\infty$ with $a = 0$, the active set $A$ holds the atoms with
$|c_j| = \lambda$, $c = D^\top(x - D a)$, and along a segment

$$a_A \mathrel{+}= \gamma\, w, \quad w = (D_A^\top D_A)^{-1} s_A, \qquad
c \mathrel{-}= \gamma\, D^\top D_A w, \qquad \lambda \mathrel{-}= \gamma,$$

$s_A$ the signs of $c_A$. The step $\gamma$ ends the segment at the first event: an inactive atom's
$|c_j|$ reaches $\lambda$ (it joins), an active coefficient crosses zero (it leaves), or
$\lambda$ reaches $\alpha$ (done: $a$ is the exact lasso solution). Each sample keeps
$(D_A^\top D_A)^{-1}$ in `max_active` slots, updated in $O(k^2)$ per event (bordering to add a
slot, a rank-one downdate to free one), so a step costs two matrix products with $D$ and
$O(n_\text{atoms} + k^2)$ elementwise work per sample. Samples take their own number of steps;
the batch is compacted as samples finish (`_compaction`; here the still-running rows are permuted
to the front). At the end, one Newton step on the active set, $a_A \mathrel{+}= (D_A^\top
D_A)^{-1}(c_A - \alpha s_A)$ with $c$ recomputed from $x$, removes the rounding that the
incremental updates accumulated.

A sample whose active set would outgrow `max_active` restarts with a larger one (×4, up to
n_features); one whose path degenerates (a joining atom almost in the span of the active ones) or
runs past `max_steps` is finished by `fista`, warm-started from where the path stopped. Either
way `converged` certifies the duality gap, as for `fista`.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._checks import check_positive_int
from ._compaction import bucket_sizes, chunked, padding
from ._lasso import LassoResult, _dual_norm, _duality, check_problem, fista

_RUNNING, _DONE, _FULL, _DEGENERATE, _STEP_LIMIT = 0, 1, 2, 3, 4
_STEPS_PER_BLOCK = 5  # homotopy steps between compactions
_SHRINK = 0.8  # bucket ladder n, 0.8n, 0.64n, ...: less idle work than halving, more compiles


class _Path(NamedTuple):
    """Per-sample homotopy state (rows = samples; k = `max_active` slots)."""

    c: Float[Array, "n p"]  # correlations Dᵀ(x − D a)
    lam: Float[Array, " n"]  # current λ (= |c_j| on the active set)
    slots: Int[Array, "n k"]  # atom in each slot; n_atoms marks a free slot
    coefs: Float[Array, "n k"]  # a on the active set, by slot
    signs: Float[Array, "n k"]  # s_A by slot (0 for a free slot)
    inv: Float[Array, "n k k"]  # (D_Aᵀ D_A)⁻¹ by slot (zero rows/columns for free slots)
    last: Int[Array, " n"]  # atom that left at the previous step (may not rejoin at once)
    steps: Int[Array, " n"]
    status: Int[Array, " n"]  # _RUNNING, _DONE, _FULL, _DEGENERATE or _STEP_LIMIT


def _argmin_rows(a):
    """Row-wise (argmin, min) of a 2-D array, first index on ties. Two-level (groups of ~√p):
    XLA's CPU argmin over long rows is a slow variadic reduction, `min` is not."""
    n, p = a.shape
    g = int(np.ceil(np.sqrt(p)))
    m = -(-p // g)
    a3 = jnp.pad(a, ((0, 0), (0, m * g - p)), constant_values=jnp.inf).reshape(n, m, g)
    mins = jnp.min(a3, 2)
    gi = jnp.argmin(mins, 1)
    ii = jnp.argmin(jnp.take_along_axis(a3, gi[:, None, None], 1)[:, 0], 1)
    return gi * g + ii, jnp.take_along_axis(mins, gi[:, None], 1)[:, 0]


def _by_atom(slots, values, p):
    """Dense (n, p) rows holding `values` at the slots' atoms (zero elsewhere). Free slots (index
    p) write to an extra column that is cut off: every scatter index stays in bounds."""
    n = slots.shape[0]
    out = jnp.zeros((n, p + 1), values.dtype).at[jnp.arange(n)[:, None], slots].set(values)
    return out[:, :p]


def _take(a, i):
    """a[r, i[r]] for each row r."""
    return jnp.take_along_axis(a, i[:, None], 1)[:, 0]


def _step(D, Dt, G, alpha, nonneg, max_steps, st: _Path) -> _Path:
    """One homotopy segment for every row (finished rows are left unchanged)."""
    n, p = st.c.shape
    k = st.slots.shape[1]
    dt = st.c.dtype
    running = st.status == _RUNNING
    w = jnp.einsum("bij,bj->bi", st.inv, st.signs)  # (D_Aᵀ D_A)⁻¹ s_A, 0 in free slots
    active = _by_atom(st.slots, jnp.ones_like(st.slots, bool), p)
    # Dᵀ D_A w, the rate at which c falls; D_A w from the active atoms (a free slot's index p
    # reads the zero row appended to Dᵀ)
    u = jnp.einsum("bk,bkf->bf", w, Dt[st.slots]) @ D

    # join: c_j − γ u_j = ±(λ − γ) for an inactive j; leave: a coefficient crosses zero
    lam = st.lam[:, None]
    join = jnp.where(1 - u > 0, (lam - st.c) / (1 - u), jnp.inf)
    if not nonneg:
        join = jnp.minimum(join, jnp.where(1 + u > 0, (lam + st.c) / (1 + u), jnp.inf))
    atom = jnp.arange(p)
    blocked = active | (atom == st.last[:, None])
    j, g_join = _argmin_rows(jnp.where(blocked, jnp.inf, jnp.maximum(join, 0)))
    kd, g_leave = _argmin_rows(jnp.where(st.coefs * w < 0, -st.coefs / w, jnp.inf))
    g_end = st.lam - alpha
    g_event = jnp.minimum(g_join, g_leave)
    gamma = jnp.where(running, jnp.minimum(g_event, g_end), 0)
    ends = running & (g_end <= g_event)
    leaves = running & ~ends & (g_leave < g_join)
    joins = running & ~ends & ~leaves

    c = st.c - gamma[:, None] * u
    coefs = st.coefs + gamma[:, None] * w
    lam = st.lam - gamma

    # bordering: the Schur complement of G_jj is d_j's squared distance from span(D_A)
    free = jnp.argmin(st.slots < p, 1)  # first free slot (0 if none: then `has_free` is False)
    has_free = _take(st.slots, free) == p
    b = jnp.where(st.slots < p, G[j[:, None], jnp.minimum(st.slots, p - 1)], 0)
    v = jnp.einsum("bij,bj->bi", st.inv, b)
    g_jj = G[j, j]
    schur = g_jj - jnp.sum(b * v, 1)
    ok = schur > jnp.sqrt(jnp.finfo(dt).eps) * g_jj
    slot = jnp.arange(k)
    # one rank-one update serves both events: join adds slot `free`, leave zeroes slot `kd`
    column = jnp.take_along_axis(st.inv, jnp.broadcast_to(kd[:, None, None], (n, k, 1)), 2)[..., 0]
    z = jnp.where(joins[:, None], v - (slot == free[:, None]), column)
    pivot = _take(jnp.diagonal(st.inv, axis1=1, axis2=2), kd)
    scale = jnp.where(joins & has_free & ok, 1 / jnp.where(ok, schur, 1),
                      jnp.where(leaves, -1 / jnp.where(leaves, pivot, 1), 0))
    inv = st.inv + scale[:, None, None] * z[:, :, None] * z[:, None, :]
    gone = leaves[:, None] & (slot == kd[:, None])
    inv = jnp.where(gone[:, :, None] | gone[:, None, :], 0, inv)

    status = jnp.where(joins & ~has_free, _FULL, jnp.where(joins & ~ok, _DEGENERATE, st.status))
    joins = joins & has_free & ok
    added = joins[:, None] & (slot == free[:, None])
    sign_j = jnp.sign(_take(c, j))
    slots = jnp.where(added, j[:, None], jnp.where(gone, p, st.slots))
    coefs = jnp.where(added | gone, 0, coefs)
    signs = jnp.where(added, sign_j[:, None], jnp.where(gone, 0, st.signs))
    last = jnp.where(leaves, _take(st.slots, kd), jnp.where(joins, -1, st.last))
    steps = st.steps + running
    status = jnp.where(ends, _DONE, status)
    status = jnp.where((status == _RUNNING) & (steps >= max_steps), _STEP_LIMIT, status)
    return _Path(c, lam, slots, coefs, signs, inv, last, steps, status)


def _start(D, G, X, alpha, nonneg, k) -> _Path:
    n, p = X.shape[0], D.shape[1]
    dt = X.dtype
    c = X @ D
    j, neg = _argmin_rows(-c if nonneg else -jnp.abs(c))
    lam = -neg
    go = lam > alpha
    slot0 = jnp.arange(k) == 0
    return _Path(
        c=c, lam=lam,
        slots=jnp.where(slot0 & go[:, None], j[:, None], p),
        coefs=jnp.zeros((n, k), dt),
        signs=jnp.where(slot0 & go[:, None], jnp.sign(_take(c, j))[:, None], 0).astype(dt),
        inv=jnp.where(slot0[:, None] & slot0 & go[:, None, None],
                      (1 / jnp.diagonal(G)[j])[:, None, None], 0),
        last=jnp.full(n, -1), steps=jnp.zeros(n, jnp.int32),
        status=jnp.where(go, _RUNNING, _DONE))


@functools.partial(jax.jit, static_argnames=("nonneg", "max_active", "max_steps"))
def _homotopy(D, X, alpha, nonneg, max_active, max_steps):
    """Run every sample's path to λ = α (or to its failure status). Returns codes, steps, status,
    objective, duality gap and residual norm per sample."""
    n_real, p = X.shape[0], D.shape[1]
    G = D.T @ D
    Dt = jnp.concatenate([D.T, jnp.zeros((1, D.shape[0]), D.dtype)])
    pad = padding(n_real)
    if pad:  # zero rows: λ₀ = 0, done at once
        X = jnp.concatenate([X, jnp.zeros((pad, X.shape[1]), X.dtype)])
    n = X.shape[0]
    # Rows stay permuted (running first); `row` remembers where each came from. Many samples have
    # a = 0 (λ₀ ≤ α): sort the data before building the (larger) state, which recomputes Dᵀx
    # from the sorted rows (one product is cheaper than gathering the n × p correlations).
    row = jnp.argsort(_dual_norm(X @ D, nonneg) <= alpha, stable=True)
    st = _start(D, G, X[row], alpha, nonneg, max_active)

    def steps(s):
        return jax.lax.fori_loop(0, _STEPS_PER_BLOCK,
                                 lambda _, s: _step(D, Dt, G, alpha, nonneg, max_steps, s), s)

    # Every block runs the smallest bucket prefix that holds all running rows, then re-sorts it.
    def block(b):
        def run(carry):
            st, row = carry
            sub = chunked(steps, jax.tree.map(lambda v: v[:b], st), b)
            order = jnp.argsort(sub.status != _RUNNING, stable=True)
            put = lambda full, part: full.at[:b].set(part[order])  # noqa: E731
            return jax.tree.map(put, st, sub), row.at[:b].set(row[:b][order])
        return run

    sizes = bucket_sizes(n, _SHRINK)
    branches = [block(b) for b in sizes]

    def body(carry):
        which = jnp.searchsorted(jnp.asarray(sizes), jnp.sum(carry[0].status == _RUNNING))
        return jax.lax.switch(which, branches, carry)

    st, row = jax.lax.while_loop(lambda c: jnp.any(c[0].status == _RUNNING), body, (st, row))

    # Newton step on the active set against the exact c (undoes the drift of the updates; a
    # second step changes the float32 gaps by < 1e-6: c itself is only float32-accurate)
    Xp = X[row]

    def residual(coefs):  # x − D a (a scatter and a product: cheaper here than gathering D_A)
        a = _by_atom(st.slots, coefs, p)
        return Xp - a @ D.T

    def at_slots(c):
        return jnp.where(st.slots < p, jnp.take_along_axis(c, jnp.minimum(st.slots, p - 1), 1), 0)

    c = residual(st.coefs) @ D
    delta = jnp.einsum("bij,bj->bi", st.inv, at_slots(c) - alpha * st.signs)
    coefs = st.coefs + jnp.where((st.status == _DONE)[:, None], delta, 0)
    r = residual(coefs)
    c = r @ D
    rr = jnp.sum(r**2, 1)
    objective, gap = _duality(rr, _dual_norm(c, nonneg), coefs, at_slots(c), alpha)
    undo = jnp.zeros(n, jnp.int32).at[row].set(jnp.arange(n, dtype=jnp.int32))[:n_real]
    codes = _by_atom(st.slots[undo], coefs[undo], p)
    return (codes, st.steps[undo], st.status[undo], objective[undo], gap[undo],
            jnp.sqrt(rr)[undo])


def lasso_lars(D, X, alpha: float, *, nonneg: bool = False, max_active: int = 16,
               max_steps: int | None = None, tol: float | None = None) -> LassoResult:
    r"""Exact lasso codes by the batched homotopy (LARS-lasso) path; see the module docstring.

    Same problem, arguments and result as `fista` (`D` (n_features, n_atoms), `X` (n_samples,
    n_features); sklearn's `sparse_encode(X, D.T, algorithm='lasso_lars', alpha=α)` solves the
    same problem), but each sample's solution is reached in finitely many steps — about one per
    atom that enters or leaves its support — instead of iterating towards it; fast when codes are
    sparse. `nonneg=True` gives the path with $a \ge 0$ (atoms join only on positive
    correlations). `max_active` slots hold each sample's active set (samples that need more
    restart with ×4, up to n_features); `max_steps` (default 4 × n_atoms) caps the path length.
    `n_iter` counts homotopy steps (plus the FISTA iterations of samples finished by `fista`).

    `converged` certifies, as for `fista`, a duality gap ≤ `tol` × objective; `tol` defaults to
    1e-7 in float64 and 1e-4 in float32 (where the path's own end points have gaps up to ~1e-4
    relative on natural patches: the residual is only float32-accurate). Runs a few jitted
    stages from Python: call it with concrete arrays, not under `jit`/`vmap`.
    """
    D, X = check_problem(D, X, alpha)
    max_active = check_positive_int("max_active", max_active)
    f, p = D.shape
    max_steps = 4 * p if max_steps is None else check_positive_int("max_steps", max_steps)
    eps = jnp.finfo(X.dtype).eps
    tol = (1e-7 if eps < 1e-10 else 1e-4) if tol is None else tol
    if not tol >= 0:
        raise ValueError(f"`tol` must be >= 0, got {tol}")
    alpha = jnp.asarray(alpha, X.dtype)
    k = min(max_active, f, p)
    out = _homotopy(D, X, alpha, bool(nonneg), k, max_steps)
    while k < min(f, p) and bool(jnp.any(out[2] == _FULL)):
        k = min(4 * k, f, p)
        redo = np.flatnonzero(np.asarray(out[2] == _FULL))
        again = [a[: len(redo)] for a in _homotopy(D, _rows(X, redo), alpha, bool(nonneg), k,
                                                      max_steps)]
        again[1] = again[1] + out[1][redo]  # the aborted steps count too
        out = tuple(o.at[redo].set(a) for o, a in zip(out, again))
    codes, steps, status, primal, gap, res = out
    converged = (status == _DONE) & (gap <= tol * jnp.maximum(primal, 10 * eps))
    if not bool(jnp.all(converged)):  # finish the rest with FISTA from where the path stopped
        redo = np.flatnonzero(~np.asarray(converged))
        r = fista(D, _rows(X, redo), alpha, tol=tol, nonneg=nonneg, init=_rows(codes, redo))
        m = len(redo)
        codes = codes.at[redo].set(r.codes[:m])
        steps = steps.at[redo].add(r.n_iter[:m])
        primal = primal.at[redo].set(r.objective[:m])
        gap, res = gap.at[redo].set(r.gap[:m]), res.at[redo].set(r.residual_norm[:m])
        converged = converged.at[redo].set(r.converged[:m])
    return LassoResult(codes=codes, n_iter=steps, objective=primal, gap=gap, residual_norm=res,
                       converged=converged)


def _rows(a, idx):
    """a[idx], padded (by repeating the first row) to a power-of-two number of rows ≥ 64, so
    that retries of different sizes reuse a few compiled shapes."""
    m = max(64, 1 << (len(idx) - 1).bit_length())
    idx = np.concatenate([idx, np.full(m - len(idx), idx[0])])
    return a[jnp.asarray(idx)]
