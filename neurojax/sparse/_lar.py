r"""Least angle regression (LAR; Efron et al. 2004) with a fixed number of atoms, batched.

Each sample's codes move along the *equiangular* direction of its active atoms — the direction
that keeps every active correlation $|d_j^\top r|$ equal while they shrink together — until an
inactive atom's correlation reaches theirs; that atom joins. Unlike the lasso homotopy no atom
ever leaves. After `n_nonzero` atoms have joined, the codes stop where the next atom would join
(scikit-learn's `Lars(n_nonzero_coefs=k, fit_intercept=False)` and `sparse_encode(algorithm=
"lars")` stop at the same point). Active atoms live in `n_nonzero` slots, so a step solves one
k × k system: $w = G_{AA}^{-1} s_A$, scaled to $A_A = (s_A^\top w)^{-1/2}$, and the step length is
$\gamma = \min^+_{j \notin A}\{(C - c_j)/(A_A - a_j), (C + c_j)/(A_A + a_j)\}$ (or $C/A_A$, where
the correlations vanish), $a = G_{:A} w$.
"""

import functools

import jax
import jax.numpy as jnp

from .._checks import check_positive_int
from ._compaction import pad_rows
from ._lasso import check_problem


def _lar_one(G, c0, k):
    p = c0.shape[0]
    tiny = 100 * jnp.finfo(c0.dtype).eps * jnp.maximum(jnp.max(jnp.abs(c0)), 1e-30)
    j0 = jnp.argmax(jnp.abs(c0))
    slots = jnp.full(k, j0)
    init = (jnp.zeros(p, c0.dtype), c0, slots, jnp.int32(1), jnp.abs(c0[j0]))

    def body(t, state):
        coef, c, slots, m, C = state
        used = jnp.arange(k) < m
        s = jnp.where(used, jnp.sign(c[slots]), 0.0)
        Gaa = jnp.where(used[:, None] & used[None, :], G[slots][:, slots], jnp.eye(k, dtype=G.dtype))
        w = jnp.linalg.solve(Gaa, s)
        AA = 1.0 / jnp.sqrt(jnp.maximum(jnp.sum(s * w), jnp.finfo(c0.dtype).tiny))
        w = w * AA
        a = G[:, slots] @ jnp.where(used, w, 0.0)
        active = jnp.zeros(p, bool).at[slots].max(used)

        def positive(num, den):
            g = num / jnp.where(den != 0, den, 1.0)
            return jnp.where(active | (den == 0) | (g <= tiny / AA), jnp.inf, g)

        gam = jnp.minimum(positive(C - c, AA - a), positive(C + c, AA + a))
        j = jnp.argmin(gam)
        live = C > tiny
        gamma = jnp.where(live, jnp.minimum(gam[j], C / AA), 0.0)
        coef = coef.at[slots].add(jnp.where(used, gamma * w, 0.0))
        c, C = c - gamma * a, C - gamma * AA
        join = live & (m < k) & (gam[j] < jnp.inf) & (t < k - 1)
        slots = jnp.where(join & (jnp.arange(k) == m), j, slots)
        return coef, c, slots, m + join.astype(jnp.int32), C

    coef = jax.lax.fori_loop(0, k, body, init)[0]
    return jnp.where(jnp.max(jnp.abs(c0)) > tiny / 100, coef, 0.0)


@functools.partial(jax.jit, static_argnames="k")
def _lar(D, X, k):
    G = D.T @ D
    return jax.vmap(lambda c: _lar_one(G, c, k))(X @ D)


def lar(D, X, n_nonzero: int, *, check_input: bool = True):
    r"""LAR codes (n_samples, n_atoms) of `X` (n_samples, n_features) in the dictionary `D`
    (n_features, n_atoms) with `n_nonzero` atoms each (fewer where the residual's correlations
    vanish first; at most min(n_features, n_atoms)). See the module docstring for the algorithm;
    equals scikit-learn's `Lars(n_nonzero_coefs=n_nonzero, fit_intercept=False)` to rounding.
    `check_input=False` skips the validation of `D` and `X`."""
    D, X = check_problem(D, X, 0.0, check_input=check_input)
    n_nonzero = min(check_positive_int("n_nonzero", n_nonzero), *D.shape)
    return _lar(D, pad_rows(X), n_nonzero)[:X.shape[0]]
