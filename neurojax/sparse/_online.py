r"""Online dictionary learning (Mairal, Bach, Ponce & Sapiro 2010) with exact homotopy codes.

Each round $t$ draws a minibatch $X_t$ ($b$ rows), codes it exactly with the homotopy
($\alpha_i = \arg\min_a \tfrac12\|x_i - D a\|^2 + \lambda\|a\|_1$, `_homotopy`), accumulates the
surrogate's statistics

$$A \leftarrow \beta_t A + \tfrac1b \textstyle\sum_i \alpha_i\alpha_i^\top, \qquad
B \leftarrow \beta_t B + \tfrac1b \textstyle\sum_i x_i\alpha_i^\top,$$

and sweeps the atoms once by block-coordinate descent (`update_dictionary`: $d_k \leftarrow
\Pi_{\|d\|\le1}(d_k + (B_k - D A_k)/A_{kk})$). As in the paper's reference implementation
(SPAMS `trainDL`), three refinements make each round count more than in scikit-learn's
`MiniBatchDictionaryLearning`:

- the forgetting factor $\beta_t = (m_t + 1 - b)/(m_t + 1)$, $m_t = \min(2M,\ t b)$ for
  $t < b$ (else $b^2 + t - b$), with $M$ the number of samples;
- statistics of codes computed two epochs ago (with a much older dictionary) are dropped: $A$ and
  $B$ are the sums of the current and the previous epoch's statistics;
- atoms that are unused ($A_{kk} \le 10^{-6}$ once $10^4$ samples were seen), (near) zero or
  duplicates of another atom (|cosine| > 0.999999) are replaced by random samples.

A path that outgrows its `max_active` slots (or degenerates) is finished by FISTA from where it
stopped, so every code is a lasso solution to the given tolerance.
"""

import functools

import jax
import jax.numpy as jnp

from ._homotopy import PathStatus, homotopy
from ._lasso import solve_lasso, step_lipschitz
from ._update import update_sweep

_UNUSED = 1e-6  # A_kk below this: the atom is unused (SPAMS's threshold)
_CLEAN_AFTER = 10_000  # samples seen before unused atoms are replaced (SPAMS's)
_MAX_CORREL = 0.999999  # |cosine| above which an atom is a duplicate (SPAMS's)


def online_codes(D, Xb, alpha, max_active, max_steps, settings, tol):
    """Exact lasso codes of the minibatch `Xb` and each row's objective: the homotopy with
    `max_active` slots and at most `max_steps` steps; paths that outgrow them (or degenerate)
    are finished by FISTA (`settings`; its `nonneg` applies to both) from where they stopped
    (only if there are any), to a relative duality gap `tol`."""
    out, _, _ = homotopy(D, Xb, alpha, settings.nonneg, max_active, max_steps)
    codes, status, objective = out[0], out[2], out[3]

    def finish(codes):
        r = solve_lasso(D, Xb, alpha, codes, step_lipschitz(D), tol, settings)
        return r.codes, r.objective

    return jax.lax.cond(jnp.any(status != PathStatus.DONE), finish, lambda c: (c, objective),
                        codes)


def forgetting(it, batch_size, n_samples):
    """β_t of the module docstring (the weight of the old statistics at round `it`, from 0)."""
    m = jnp.where(it < batch_size, it * batch_size, batch_size**2 + it - batch_size)
    m = jnp.minimum(m, 2 * n_samples)
    return jnp.where(it == 0, 0.0, (m + 1.0 - batch_size) / (m + 1.0))


def replace_atoms(D, used, X, n_samples, key):
    """`D` with zero, duplicate and (where `used` is False) unused atoms replaced by random rows
    of `X[:n_samples]`, normalised."""
    norms = jnp.linalg.norm(D, axis=0)
    G = D.T @ D
    cos = jnp.abs(G) / jnp.maximum(norms[:, None] * norms[None, :], 1e-30)
    dup = jnp.any(jnp.triu(cos > _MAX_CORREL, 1), axis=0)  # j duplicates some i < j
    bad = dup | (norms**2 < 1e-4) | ~used
    rows = X[jax.random.randint(key, (D.shape[1],), 0, n_samples)].T
    rows = rows / jnp.maximum(jnp.linalg.norm(rows, axis=0), 1e-12)
    return jnp.where(bad[None, :], rows, D)


@functools.partial(jax.jit, static_argnames=("max_active", "max_steps", "settings"))
def online_rounds(carry, X, n_samples, alpha, its, idx, keys, max_active, max_steps, settings,
                  tol):
    """Rounds `its` of online dictionary learning as one `lax.scan`. `carry` is (D, A_prev,
    A_now, B_prev, B_now): the dictionary and the previous and current epoch's statistics;
    `idx` (rounds, batch_size) the minibatch rows of `X`; `keys` one PRNG key per round (atom
    replacement); the coding arguments as for `online_codes`. Returns the carry and each
    round's summed objective on its minibatch (codes and objective with the dictionary before
    the round's update)."""
    batch_size = idx.shape[1]

    def body(c, xs):
        it, rows, key = xs
        D, A_prev, A_now, B_prev, B_now = c
        Xb = X[rows]
        codes, objective = online_codes(D, Xb, alpha, max_active, max_steps, settings, tol)
        # a new epoch: the previous epoch's statistics are dropped, the current become previous
        epoch = lambda t: (t * batch_size) // n_samples  # noqa: E731
        new = epoch(it + 1) != epoch(it)
        A_prev, B_prev = jnp.where(new, A_now, A_prev), jnp.where(new, B_now, B_prev)
        A_now, B_now = jnp.where(new, 0, A_now), jnp.where(new, 0, B_now)
        beta = forgetting(it, batch_size, n_samples).astype(X.dtype)
        A_prev, B_prev = beta * A_prev, beta * B_prev
        A_now = beta * A_now + codes.T @ codes / batch_size
        B_now = beta * B_now + Xb.T @ codes / batch_size
        A, B = A_prev + A_now, B_prev + B_now
        D = update_sweep(D, A, B, _UNUSED)
        used = (jnp.diagonal(A) > _UNUSED) | ((it + 1) * batch_size <= _CLEAN_AFTER)
        D = replace_atoms(D, used, X, n_samples, key)
        return (D, A_prev, A_now, B_prev, B_now), jnp.sum(objective)

    return jax.lax.scan(body, carry, (its, idx, keys))
