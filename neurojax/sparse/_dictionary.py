r"""Dictionary learning: alternate lasso codes (FISTA) with a block-coordinate dictionary update.

Objective $\tfrac12\|X - A D^\top\|_F^2 + \alpha\|A\|_1$ over codes A (n_samples, n_atoms) and a
dictionary D (n_features, n_atoms) with atoms of norm ≤ 1, as scikit-learn's `DictionaryLearning`
(Mairal et al. 2010's update: atom k ← atom k + (B_k − D A_k)/A_kk, projected onto the unit ball).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

from .._checks import check_choice, check_finite, check_number, check_positive_int, check_shape
from .._tolerance import check_tol
from ._compaction import pad_rows
from ._lars import lasso_lars
from ._lasso import FistaSettings, fista, lasso_objective, solve_lasso, step_lipschitz
from ._online import online_rounds
from ._update import sklearn_forgetting, update_sweep

_CHECK_EVERY = 10  # FISTA iterations between convergence checks within a round
_MAX_ACTIVE = 16  # homotopy slots per sample in method="online" (fuller paths: FISTA)


class DictionaryResult(eqx.Module):
    """`learn_dictionary`'s result: the `dictionary` (n_features, n_atoms), the final `codes`
    (or None), the `objective` after every round, and `finite`: False if the dictionary, the
    codes or the objective hold NaN or inf (never a silent non-finite result)."""

    dictionary: Float[Array, "f k"]
    codes: Float[Array, "n k"] | None
    objective: Float[Array, " iters"]
    finite: Bool[Array, ""]


def _init(X, n_atoms, init, key):
    if not isinstance(init, str):  # an initial dictionary
        D = jnp.asarray(init, X.dtype)
    elif init == "random":
        D = jax.random.normal(key, (X.shape[1], n_atoms), X.dtype)
    elif init == "data":
        idx = jax.random.choice(key, X.shape[0], (n_atoms,), replace=X.shape[0] < n_atoms)
        D = X[idx].T
    else:  # pca: leading right singular vectors, then random atoms if n_atoms > rank
        _, _, vt = jnp.linalg.svd(X - X.mean(0), full_matrices=False)
        extra = jax.random.normal(key, (max(0, n_atoms - vt.shape[0]), X.shape[1]), X.dtype)
        D = jnp.concatenate([vt, extra])[:n_atoms].T
    return D / jnp.maximum(jnp.linalg.norm(D, axis=0), 1e-12)


def _batches(key, n, batch_size, rounds):
    """Row indices of minibatch rounds `rounds`: like scikit-learn, each epoch is a permutation of
    the rows (key `fold_in(key, epoch)`) cut into `n // batch_size` consecutive batches."""
    per_epoch = n // batch_size
    rounds = np.asarray(rounds)
    epochs = np.unique(rounds // per_epoch)
    perms = jax.vmap(lambda e: jax.random.permutation(jax.random.fold_in(key, e), n))(
        jnp.asarray(epochs))
    which = np.searchsorted(epochs, rounds // per_epoch)
    start = (rounds % per_epoch) * batch_size
    cols = start[:, None] + np.arange(batch_size)[None, :]
    return perms[which[:, None], cols]


@functools.partial(jax.jit, static_argnames=("batch", "settings"))
def _rounds(carry, X, alpha, its, idx, batch, settings, tol):
    """Rounds `its` of dictionary learning as one `lax.scan` (see `learn_dictionary`); `idx`
    (rounds, batch_size) are the minibatch rows (unused for `batch`); codes by FISTA with
    `settings`."""
    batch_size = idx.shape[1]

    def code(D, Xb, A0):
        return solve_lasso(D, Xb, alpha, A0, step_lipschitz(D), tol, settings).codes

    def body(c, it_idx):
        it, idx = it_idx
        D, A, A_stats, B_stats = c
        if batch:
            A = code(D, X, A)  # all samples, warm-started
            D = update_sweep(D, A.T @ A, X.T @ A)
            return (D, A, A_stats, B_stats), jnp.sum(lasso_objective(D, X, A, alpha))
        Xb = X[idx]
        Ab = code(D, Xb, jnp.zeros((batch_size, D.shape[1]), X.dtype))
        beta = sklearn_forgetting(it, batch_size, jnp).astype(X.dtype)
        A_stats = beta * A_stats + Ab.T @ Ab / batch_size
        B_stats = beta * B_stats + Xb.T @ Ab / batch_size
        D = update_sweep(D, A_stats, B_stats)
        return (D, A, A_stats, B_stats), jnp.sum(lasso_objective(D, Xb, Ab, alpha))

    return jax.lax.scan(body, carry, (its, idx))


def learn_dictionary(X, n_atoms: int, alpha: float, *, key: PRNGKeyArray, method: str = "batch",
                     steps: int = 100, batch_size: int = 256, init: str | ArrayLike = "data",
                     code_max_steps: int = 200, tol: float | None = None, progress=None,
                     return_codes: bool = True, nonneg: bool = False) -> DictionaryResult:
    r"""Learn `n_atoms` unit-ball atoms for data `X` (n_samples, n_features).

    `method='batch'`: each of `steps` rounds computes all codes with FISTA (warm-started) and
    sweeps the dictionary once with the full statistics. `method='minibatch'`: each round codes a
    random batch and updates running statistics with sklearn's forgetting factor, then sweeps the
    dictionary (batches: a fresh permutation of the rows per epoch, cut into consecutive
    batches, as scikit-learn does). `method='online'`: Mairal et al. (2010) as their SPAMS
    `trainDL` runs it (`_online`): each round codes its minibatch *exactly* with the homotopy,
    keeps the statistics of the current and previous epoch only, and replaces unused and
    duplicate atoms by samples; measured on 10,000 whitened 8×8 patches, 64 atoms, α = 1,
    batches of 256, it reached SPAMS `trainDL`'s 200-iteration objective in ~150 rounds, where
    'minibatch' (FISTA codes, scikit-learn's statistics) had not reached it after 1,000.
    Returns the dictionary (n_features, n_atoms), the final codes of all samples, and the
    full-data objective after every round (batch) or every round on its batch (minibatch: with
    the updated dictionary; online: the exact codes' objective before the update).
    `progress`, if given, is called on the host between rounds as
    `progress(dict(step=, total=, objective=))` (`step`: rounds done). `code_max_steps` caps the
    FISTA iterations of each round's coding; `tol` is FISTA's relative duality-gap tolerance
    for the codes of each round (default 1e-6 in float64, 1e-5 in float32: see `default_tol`;
    'online' uses both only for paths the homotopy hands to FISTA). With `method='minibatch'` or
    `'online'` and `return_codes=False` the final coding of all samples is skipped (`codes` is
    None), as scikit-learn's `fit` does; 'online' codes them with `lasso_lars`. `init` is "data" (atoms drawn from the rows
    of `X`), "random" (Gaussian atoms), "pca" (leading principal axes, then random atoms) or an
    initial dictionary (n_features, n_atoms); initial atoms are normalised. `nonneg=True` learns
    with non-negative codes ($a \ge 0$)."""
    X = jnp.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"`X` must be (n_samples, n_features) with at least one sample, got "
                         f"shape {X.shape}")
    check_finite("X", X)
    n_atoms = check_positive_int("n_atoms", n_atoms)
    steps = check_positive_int("steps", steps)
    check_choice("method", method, {"batch", "minibatch", "online"})
    if isinstance(init, str):
        check_choice("init", init, {"data", "random", "pca"})
    else:
        check_shape("init", init, (X.shape[1], n_atoms))
        check_finite("init", init)
    check_number("alpha", alpha, low=0.0)
    X = X.astype(jnp.result_type(X, float))
    tol_given, tol = tol, check_tol(tol, X.dtype, "dictionary")
    k_init, k_batches = jax.random.split(key)
    D = _init(X, n_atoms, init, k_init)
    n = X.shape[0]
    batch_size = n if method == "batch" else min(check_positive_int("batch_size", batch_size), n)
    # zero rows up to `batch_rows` (code 0: they change no statistic, objective or minibatch):
    # data sets of different sizes share a few compiled programs
    Xp = pad_rows(X)
    zeros = functools.partial(jnp.zeros, dtype=X.dtype)
    if method == "online":  # D and the previous and current epoch's statistics (`_online`)
        carry = (D, zeros((n_atoms, n_atoms)), zeros((n_atoms, n_atoms)),
                 zeros((X.shape[1], n_atoms)), zeros((X.shape[1], n_atoms)))
        k_clean = jax.random.fold_in(k_batches, 1)
    else:
        carry = (D, zeros((Xp.shape[0], n_atoms)), zeros((n_atoms, n_atoms)),
                 zeros((X.shape[1], n_atoms)))
    alpha_, tol_ = jnp.asarray(alpha, X.dtype), jnp.asarray(tol, X.dtype)
    settings = FistaSettings.make(D.shape, code_max_steps, _CHECK_EVERY, nonneg=nonneg)
    history, done = [], 0
    chunk = steps if progress is None else max(1, min(steps, 10))
    while done < steps:  # jitted scans of `chunk` rounds; progress between them (host side)
        m = min(chunk, steps - done)
        its = np.arange(done, done + m)
        idx = (jnp.zeros((m, 1), jnp.int32) if method == "batch"
               else _batches(k_batches, n, batch_size, its))
        if method == "online":
            keys = jax.vmap(lambda i: jax.random.fold_in(k_clean, i))(jnp.asarray(its))
            carry, obj = online_rounds(carry, Xp, n, alpha_, jnp.asarray(its), idx, keys,
                                       min(_MAX_ACTIVE, *D.shape), 4 * n_atoms, settings, tol_)
        else:
            carry, obj = _rounds(carry, Xp, alpha_, jnp.asarray(its), idx, method == "batch",
                                 settings, tol_)
        history.extend(np.asarray(obj).tolist())
        done += m
        if progress is not None:
            progress({"step": done, "total": steps, "objective": history[-1]})
    D, A = carry[0], carry[1][:n]
    if method == "minibatch":
        A = (fista(D, X, alpha, max_steps=code_max_steps, tol=tol, nonneg=nonneg).codes
             if return_codes else None)
    elif method == "online":
        # the homotopy's own dtype-aware default tolerance unless one was given
        A = (lasso_lars(D, X, alpha, nonneg=nonneg, tol=tol_given).codes if return_codes
             else None)
    objective = jnp.asarray(np.array(history))
    finite = (jnp.all(jnp.isfinite(D)) & jnp.all(jnp.isfinite(objective))
              & (True if A is None else jnp.all(jnp.isfinite(A))))
    return DictionaryResult(dictionary=D, codes=A, objective=objective, finite=finite)
