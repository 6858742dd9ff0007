"""`lasso_lars`: exact lasso codes by the batched homotopy (`homotopy`), driven in groups of
rows (on a CPU), with paths that outgrow their slots continued with more and paths that
degenerate finished by `fista`."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _policy
from .._checks import check_positive_int, raise_unless_converged
from .._tolerance import check_tol
from ._compaction import batch_rows
from ._homotopy import PathStatus, grow_slots, homotopy
from ._lasso import LassoResult, check_problem, fista

_POOL = 128  # with several groups, each stops at this many running paths (see `_paths`)


def lasso_lars(D, X, alpha: float, *, nonneg: bool = False, max_active: int = 16,
               max_steps: int | None = None, tol: float | None = None,
               throw: bool = False, check_input: bool = True) -> LassoResult:
    r"""Exact lasso codes by the batched homotopy (LARS-lasso) path (the algorithm: `_homotopy`'s docstring).

    Same problem, arguments and result as `fista` (`D` (n_features, n_atoms), `X` (n_samples,
    n_features); sklearn's `sparse_encode(X, D.T, algorithm='lasso_lars', alpha=α)` solves the
    same problem), but each sample's solution is reached in finitely many steps — about one per
    atom that enters or leaves its support — instead of iterating towards it; fast when codes are
    sparse. `nonneg=True` gives the path with $a \ge 0$ (atoms join only on positive
    correlations). `max_active` slots hold each sample's active set (samples that need more
    continue with twice as many, up to n_features); `max_steps` (default 4 × n_atoms) caps the
    path length. On a CPU, batches are solved 2048 samples per compiled call: a call's working
    memory is mapped afresh each time, and above ~32 MB (glibc's largest reused block) the page
    faults of 10,000 samples at once cost ~40 ms of system time per call.
    `num_steps` counts homotopy steps (plus the FISTA iterations of samples finished by `fista`).

    `converged` certifies, as for `fista`, a duality gap ≤ `tol` × objective; `tol` defaults to
    1e-7 in float64 and 1e-4 in float32 (where the path's own end points have gaps up to ~1e-4
    relative on natural patches: the residual is only float32-accurate). Runs a few jitted
    stages from Python: call it with concrete arrays, not under `jit`/`vmap`. `throw=True` raises
    if any sample did not converge. `check_input=False` skips the validation of `D` and `X`.
    """
    D, X = check_problem(D, X, alpha, check_input=check_input)
    max_active = check_positive_int("max_active", max_active)
    f, p = D.shape
    max_steps = 4 * p if max_steps is None else check_positive_int("max_steps", max_steps)
    eps = jnp.finfo(X.dtype).eps
    tol = check_tol(tol, X.dtype, "lasso_path")
    alpha = jnp.asarray(alpha, X.dtype)
    if X.shape[0] == 0:  # an empty batch: an empty result, as `fista` gives
        z = jnp.zeros((0,), X.dtype)
        return LassoResult(codes=jnp.zeros((0, p), X.dtype), num_steps=jnp.zeros((0,), jnp.int32),
                           objective=z, gap=z, residual_norm=z, converged=jnp.zeros((0,), bool))
    k = min(max_active, f, p)
    codes, steps, status, primal, gap, res = _paths(D, X, alpha, bool(nonneg), k, min(f, p),
                                                    max_steps)
    converged = (status == PathStatus.DONE) & (gap <= tol * jnp.maximum(primal, 10 * eps))
    if not bool(jnp.all(converged)):  # finish the rest with FISTA from where the path stopped
        redo = np.flatnonzero(~np.asarray(converged))
        r = fista(D, _rows(X, redo), alpha, tol=tol, nonneg=nonneg, init=_rows(codes, redo),
                  check_input=False)
        m = len(redo)
        codes = codes.at[redo].set(r.codes[:m])
        steps = steps.at[redo].add(r.num_steps[:m])
        primal = primal.at[redo].set(r.objective[:m])
        gap, res = gap.at[redo].set(r.gap[:m]), res.at[redo].set(r.residual_norm[:m])
        converged = converged.at[redo].set(r.converged[:m])
    if nonneg:  # a coefficient the path drops at zero can end a rounding error below it
        codes = jnp.maximum(codes, 0.0)
    r = LassoResult(codes=codes, num_steps=steps, objective=primal, gap=gap, residual_norm=res,
                    converged=converged)
    return raise_unless_converged(r, converged, "lasso_lars") if throw else r


def _paths(D, X, alpha, nonneg, k, k_max, max_steps):
    """Every sample's path, in groups of `_policy.LARS_CPU_ROWS` rows on a CPU (see `lasso_lars`). Each
    group runs until at most `_POOL` of its paths are left; those, and paths that outgrew their
    `k` slots, then continue together from where they stopped (with twice the slots if any
    outgrew them, up to `k_max`), so that the few long paths of each group do not each pay for a
    run of small compacted batches."""
    n, f = X.shape
    # batches padded to `batch_rows` (zero rows, done at once): few compiled shapes
    size = _policy.lars_group_rows(n, batch_rows(n))
    pause = _POOL if size < n else 0
    runs = []
    for first in range(0, n, size):
        rows = X[first:first + size]
        if rows.shape[0] < size:  # the last group, padded with zero rows (done at once)
            rows = jnp.concatenate([rows, jnp.zeros((size - rows.shape[0], f), X.dtype)])
        runs.append((first, *homotopy(D, rows, alpha, nonneg, k, max_steps, pause=pause)))
    out = tuple(jnp.concatenate(o)[:n] for o in zip(*(r[1] for r in runs)))
    states, firsts, rows = [r[2] for r in runs], [r[0] for r in runs], [r[3] for r in runs]
    while True:
        gid, local, origin, grow = [], [], [], False
        for g, (st, first, row) in enumerate(zip(states, firsts, rows)):
            status = np.asarray(st.status)
            full = (status == PathStatus.FULL) & (k < k_max)
            grow |= bool(full.any())
            idx = np.flatnonzero((status == PathStatus.RUNNING) | full)
            gid.append(np.full(len(idx), g))
            local.append(idx)
            origin.append(first + np.asarray(row)[idx])
        m = sum(len(i) for i in local)
        if not m:
            return out
        k = min(2 * k, k_max) if grow else k
        size = batch_rows(m)  # padding rows are marked done by `_pool`
        gid, local, origin = (np.concatenate(v + [np.zeros(size - m, int)])
                              for v in (gid, local, origin))
        sub = _pool(tuple(states), jnp.asarray(gid), jnp.asarray(local), m, k)
        again, st, row = homotopy(D, X[jnp.asarray(origin)], alpha, nonneg, k, max_steps, sub)
        out = _put(out, again, jnp.asarray(origin), m)
        states, firsts, rows = [st], [0], [origin[np.asarray(row)]]


@functools.partial(jax.jit, static_argnames=("k",))
def _pool(states, gid, local, m, k):
    """Rows `local[i]` of group `gid[i]`'s state, for i < m (the rest: done padding rows), with
    `k` slots."""
    def field(*vs):
        out = vs[0][local]
        for g in range(1, len(vs)):
            out = jnp.where((gid == g).reshape((-1,) + (1,) * (out.ndim - 1)), vs[g][local], out)
        return out

    sub = jax.tree.map(field, *states)
    sub = sub._replace(status=jnp.where(jnp.arange(len(gid)) < m, sub.status,
                                        PathStatus.DONE))
    return grow_slots(sub, k) if k > sub.slots.shape[1] else sub


@jax.jit
def _put(out, again, origin, m):
    """Results of continued rows (the first m of `again`) written back to their samples."""
    idx = jnp.where(jnp.arange(len(origin)) < m, origin, out[0].shape[0])  # padding: dropped
    return tuple(o.at[idx].set(a, mode="drop") for o, a in zip(out, again))


def _rows(a, idx):
    """a[idx], padded to `batch_rows` rows by repeating the first row."""
    idx = np.concatenate([idx, np.full(batch_rows(len(idx)) - len(idx), idx[0])])
    return a[jnp.asarray(idx)]
