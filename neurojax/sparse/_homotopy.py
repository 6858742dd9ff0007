r"""Batched homotopy (LARS-lasso) for $\min_a \tfrac12\|x - D a\|^2 + \alpha\|a\|_1$.

The lasso solution $a(\lambda)$ is piecewise linear in $\lambda$ (Osborne, Presnell & Turlach 2000;
Efron et al. 2004, "LARS with the lasso modification"; scikit-learn's `lasso_lars`). Starting at
$\lambda_0 = \|D^\top x\|_\infty$ with $a = 0$, the active set $A$ holds the atoms with
$|c_j| = \lambda$, $c = D^\top(x - D a)$, and along a segment

$$a_A \mathrel{+}= \gamma\, w, \quad w = (D_A^\top D_A)^{-1} s_A, \qquad
c \mathrel{-}= \gamma\, D^\top D_A w, \qquad \lambda \mathrel{-}= \gamma,$$

$s_A$ the signs of $c_A$. The step $\gamma$ ends the segment at the first event: an inactive
atom's $|c_j|$ reaches $\lambda$ (it joins), an active coefficient crosses zero (it leaves), or
$\lambda$ reaches $\alpha$ (done: $a$ is the exact lasso solution). Each sample keeps
$(D_A^\top D_A)^{-1}$ in `max_active` slots, updated in $O(k^2)$ per event (bordering to add a
slot, a rank-one downdate to free one), and takes $D^\top D_A w$ from the rows of the Gram
matrix $G = D^\top D$ of its active atoms ($k \cdot n_\text{atoms}$ multiply-adds instead of
the $n_\text{features} \cdot n_\text{atoms}$ of a product with $D$; measured on a CPU: 12 to
28 % less time), so a step costs $O(k\,n_\text{atoms} + k^2)$ elementwise work per sample.
Samples take their own number of steps; the batch is compacted as samples finish
(`_compaction`; here the still-running rows are permuted to the front). At the end, one Newton
step on the active set, $a_A \mathrel{+}= (D_A^\top D_A)^{-1}(c_A - \alpha s_A)$ with $c$
recomputed from $x$, removes the rounding that the incremental updates accumulated.

A path whose active set would outgrow its slots stops with status `PathStatus.FULL`, and one
that degenerates (a joining atom almost in the span of the active ones) or runs past `max_steps`
stops with `DEGENERATE` / `STEP_LIMIT`; `homotopy` returns its state so that the driver
(`_lars.lasso_lars`) can continue it with more slots, or finish it with `fista`.
"""

import enum
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._compaction import bucket_sizes, chunked, first_where, padding
from ._lasso import dual_norm, duality


class PathStatus(enum.IntEnum):
    """Where a sample's homotopy path stands (`_Path.status`, and the status `homotopy`
    returns per sample); `.message` says it in words."""

    RUNNING = 0
    DONE = 1
    FULL = 2
    DEGENERATE = 3
    STEP_LIMIT = 4

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    PathStatus.RUNNING: "the path is still running",
    PathStatus.DONE: "the path reached lambda = alpha: the codes are the exact lasso solution",
    PathStatus.FULL: "the active set outgrew its slots (continued with more, or by FISTA)",
    PathStatus.DEGENERATE: "a joining atom is (almost) in the span of the active ones "
                           "(finished by FISTA)",
    PathStatus.STEP_LIMIT: "the path ran past max_steps (finished by FISTA)",
}
_STEPS_PER_BLOCK = 5  # homotopy steps between compactions
_SHRINK = 0.8  # bucket ladder n, 0.8n, 0.64n, ...: less idle work than halving, more compiles


class _Path(NamedTuple):
    """Per-sample homotopy state (rows = samples; k = `max_active` slots)."""

    c: Float[Array, "n p"]  # correlations Dᵀ(x − D a)
    lam: Float[Array, " n"]  # current λ (= |c_j| on the active set)
    slots: Int[Array, "n k"]  # atom in each slot; n_atoms marks a free slot
    coefs: Float[Array, "n k"]  # a on the active set, by slot
    signs: Float[Array, "n k"]  # s_A by slot (0 for a free slot)
    inv: Float[Array, "n k k"]  # (D_Aᵀ D_A)⁻¹ by slot (zero rows/columns for free slots) ...
    # ... once the pending update (inv + z_s zᵀ) ⊙ keep keepᵀ is applied (see `_current`)
    z_s: Float[Array, "n k"]
    z: Float[Array, "n k"]
    keep: Float[Array, "n k"]
    last: Int[Array, " n"]  # atom that left at the previous step (may not rejoin at once)
    steps: Int[Array, " n"]
    status: Int[Array, " n"]  # a PathStatus


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


def _combine(rows, idx, weights):
    """Σ_s weights[:, s] · rows[idx[:, s]] for each sample, one slot at a time: XLA's CPU code for
    the gathered (n, k, f) einsum is up to ~15× slower for k ≥ 16 (12 ms vs 0.85 ms, 8192 rows)."""
    out = weights[:, 0, None] * rows[idx[:, 0]]
    for s in range(1, idx.shape[1]):
        out = out + weights[:, s, None] * rows[idx[:, s]]
    return out


def _matvec(m, x):
    """m[r] @ x[r] for each row r, as a multiply and a sum: XLA's CPU code for the batched
    `dot` runs one tiny product per row (~1.5 µs each for 16 × 16)."""
    out = m[:, :, 0] * x[:, 0, None]
    for j in range(1, x.shape[1]):
        out = out + m[:, :, j] * x[:, j, None]
    return out


def _take(a, i):
    """a[r, i[r]] for each row r."""
    return jnp.take_along_axis(a, i[:, None], 1)[:, 0]


def _current(st: _Path):
    """The inverse with the previous step's rank-one update applied. The update is carried to
    the next step as three (n, k) vectors: computed in place, XLA fuses its per-row logic into
    the k × k loop and recomputes it for every entry (~2× the cost of the whole update)."""
    return ((st.inv + st.z_s[:, :, None] * st.z[:, None, :])
            * (st.keep[:, :, None] * st.keep[:, None, :]))


def _step(G, Gz, alpha, nonneg, max_steps, st: _Path) -> _Path:
    """One homotopy segment for every row (finished rows are left unchanged)."""
    n, p = st.c.shape
    k = st.slots.shape[1]
    dt = st.c.dtype
    st = st._replace(inv=_current(st))
    running = st.status == PathStatus.RUNNING
    w = _matvec(st.inv, st.signs)  # (D_Aᵀ D_A)⁻¹ s_A, 0 in free slots
    active = _by_atom(st.slots, jnp.ones_like(st.slots, bool), p)
    # Dᵀ D_A w, the rate at which c falls, from the Gram rows of the active atoms (a free slot's
    # index p reads the zero row appended to G in `Gz`)
    u = _combine(Gz, st.slots, w)

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
    v = _matvec(st.inv, b)
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
    gone = leaves[:, None] & (slot == kd[:, None])  # a leave zeroes its slot's row and column

    status = jnp.where(joins & ~has_free, PathStatus.FULL,
                       jnp.where(joins & ~ok, PathStatus.DEGENERATE, st.status))
    joins = joins & has_free & ok
    added = joins[:, None] & (slot == free[:, None])
    sign_j = jnp.sign(_take(c, j))
    slots = jnp.where(added, j[:, None], jnp.where(gone, p, st.slots))
    coefs = jnp.where(added | gone, 0, coefs)
    signs = jnp.where(added, sign_j[:, None], jnp.where(gone, 0, st.signs))
    last = jnp.where(leaves, _take(st.slots, kd), jnp.where(joins, -1, st.last))
    steps = st.steps + running
    status = jnp.where(ends, PathStatus.DONE, status)
    status = jnp.where((status == PathStatus.RUNNING) & (steps >= max_steps),
                       PathStatus.STEP_LIMIT, status)
    return _Path(c, lam, slots, coefs, signs, st.inv, scale[:, None] * z, z,
                 jnp.where(gone, 0, 1).astype(dt), last, steps, status)


def _start(G, c, alpha, nonneg, k) -> tuple[_Path, Int[Array, " n"]]:
    """Paths at λ₀ = max_j |c_j| (c = Dᵀx), the atom attaining it active, rows permuted so that
    those with λ₀ > α (the ones that move) come first; also returns the permutation."""
    n, p = c.shape
    dt = c.dtype
    j, neg = _argmin_rows(-c if nonneg else -jnp.abs(c))
    row = first_where(-neg > alpha)
    c, j, lam = c[row], j[row], -neg[row]
    go = lam > alpha
    slot0 = jnp.arange(k) == 0
    return _Path(
        c=c, lam=lam,
        slots=jnp.where(slot0 & go[:, None], j[:, None], p),
        coefs=jnp.zeros((n, k), dt),
        signs=jnp.where(slot0 & go[:, None], jnp.sign(_take(c, j))[:, None], 0).astype(dt),
        inv=jnp.where(slot0[:, None] & slot0 & go[:, None, None],
                      (1 / jnp.diagonal(G)[j])[:, None, None], 0),
        z_s=jnp.zeros((n, k), dt), z=jnp.zeros((n, k), dt), keep=jnp.ones((n, k), dt),
        last=jnp.full(n, -1), steps=jnp.zeros(n, jnp.int32),
        status=jnp.where(go, PathStatus.RUNNING, PathStatus.DONE)), row


def grow_slots(st: _Path, k: int) -> _Path:
    """The same paths with `k` slots (more than before): free slots appended, `FULL` rows
    running again (the atom they could not add joins at the next step, with γ = 0)."""
    n, k0 = st.slots.shape
    p = st.c.shape[1]
    more = ((0, 0), (0, k - k0))
    return st._replace(
        slots=jnp.pad(st.slots, more, constant_values=p), coefs=jnp.pad(st.coefs, more),
        signs=jnp.pad(st.signs, more), inv=jnp.pad(_current(st), more + ((0, k - k0),)),
        z_s=jnp.zeros_like(st.coefs, shape=(n, k)), z=jnp.zeros_like(st.coefs, shape=(n, k)),
        keep=jnp.ones_like(st.coefs, shape=(n, k)),
        status=jnp.where(st.status == PathStatus.FULL, PathStatus.RUNNING, st.status))


@functools.partial(jax.jit, static_argnames=("nonneg", "max_active", "max_steps", "pause"))
def homotopy(D, X, alpha, nonneg, max_active, max_steps, init=None, pause=0):
    """Run every sample's path to λ = α (or to its failure status), from λ₀ or, given `init`
    (a `_Path` for the rows of `X`), from there; stop early once at most `pause` paths are
    still running. Returns codes, steps, status, objective, duality gap and residual norm per
    sample (final for `DONE` rows only), and the final state with its rows permuted (`row[i]`
    is the sample in state row i) so that unfinished rows can be continued."""
    n_real, p = X.shape[0], D.shape[1]
    G = D.T @ D
    Gz = jnp.concatenate([G, jnp.zeros((1, p), G.dtype)])
    Dt = jnp.concatenate([D.T, jnp.zeros((1, D.shape[0]), D.dtype)])
    pad = padding(n_real)
    if pad:  # zero rows: λ₀ = 0, done at once
        X = jnp.concatenate([X, jnp.zeros((pad, X.shape[1]), X.dtype)])
    n = X.shape[0]
    if init is None:  # rows stay permuted (running first); `row` remembers their samples
        st, row = _start(G, X @ D, alpha, nonneg, max_active)
    else:
        row = first_where(init.status == PathStatus.RUNNING)
        st = jax.tree.map(lambda v: v[row], init)

    def steps(s):
        return jax.lax.fori_loop(0, _STEPS_PER_BLOCK,
                                 lambda _, s: _step(G, Gz, alpha, nonneg, max_steps, s), s)

    # Every block runs the smallest bucket prefix that holds all running rows, then re-sorts it.
    def block(b):
        def run(carry):
            st, row = carry
            sub = chunked(steps, jax.tree.map(lambda v: v[:b], st), b)
            order = first_where(sub.status == PathStatus.RUNNING)
            put = lambda full, part: full.at[:b].set(part[order])  # noqa: E731
            return jax.tree.map(put, st, sub), row.at[:b].set(row[:b][order])
        return run

    sizes = bucket_sizes(n, _SHRINK)
    branches = [block(b) for b in sizes]

    def body(carry):
        running = jnp.sum(carry[0].status == PathStatus.RUNNING)
        which = jnp.searchsorted(jnp.asarray(sizes), running)
        return jax.lax.switch(which, branches, carry)

    st, row = jax.lax.while_loop(lambda c: jnp.sum(c[0].status == PathStatus.RUNNING) > pause,
                                 body,
                                 (st, row))

    # Newton step on the active set against the exact c (undoes the drift of the updates; a
    # second step changes the float32 gaps by < 1e-6: c itself is only float32-accurate).
    # Residuals from the active atoms alone; only the duality gap needs all of c = Dᵀr.
    def at_slots(c):
        return jnp.where(st.slots < p, jnp.take_along_axis(c, jnp.minimum(st.slots, p - 1), 1), 0)

    r = X[row] - _combine(Dt, st.slots, st.coefs)
    delta = _matvec(_current(st), at_slots(r @ D) - alpha * st.signs)
    delta = jnp.where((st.status == PathStatus.DONE)[:, None], delta, 0)
    coefs = st.coefs + delta
    r = r - _combine(Dt, st.slots, delta)
    c = r @ D
    rr = jnp.sum(r**2, 1)
    c_active = at_slots(c)
    objective, gap = duality(rr, dual_norm(c, nonneg), coefs, c_active, alpha)
    # results in sample order (padding rows, row >= n_real, are dropped)
    codes = jnp.zeros((n_real, p + 1), coefs.dtype).at[row[:, None], st.slots].set(
        coefs, mode="drop")[:, :p]
    put = lambda v: jnp.zeros((n_real,), v.dtype).at[row].set(v, mode="drop")  # noqa: E731
    out = (codes, put(st.steps), put(st.status), put(objective), put(gap), put(jnp.sqrt(rr)))
    return out, st, row
