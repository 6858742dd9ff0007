"""Derivatives of lasso solutions from their optimality conditions (no iteration is differentiated)."""

import jax
import jax.numpy as jnp

from .. import _linalg


@jax.custom_jvp
def lasso_codes(D, X, alpha, A):
    r"""The lasso solution `A` (n_samples, n_atoms) of `(D, X, alpha)`, made differentiable by the
    implicit function theorem: on each sample's support $S$ (its nonzero codes, signs $s$) the
    optimality condition $D_S^\top(D_S a_S - x) + \alpha s_S = 0$ holds, so
    $G_S\,da_S = D_S^\top dx - dD_S^\top r - D_S^\top dD\,a - d\alpha\,s_S$ with
    $G_S = D_S^\top D_S$ and $r = Da - x$, and $da = 0$ off the support. Valid where the support
    is locally constant (no code exactly at the threshold) and $G_S$ is invertible; the codes
    must be converged. Forward and reverse mode (the tangent map is linear and transposable)."""
    return A


@lasso_codes.defjvp
def _lasso_codes_jvp(primals, tangents):
    D, X, alpha, A = primals
    dD, dX, dalpha, _ = tangents
    gram = D.T @ D

    def one(a, x, dx):
        on = (a != 0).astype(a.dtype)
        # the support's Gram block, the identity off it: da is 0 there
        m = on[:, None] * gram * on[None, :] + jnp.diag(1 - on)
        rhs = on * (D.T @ dx - dD.T @ (D @ a - x) - D.T @ (dD @ a) - dalpha * jnp.sign(a))
        return _linalg.solve(jax.lax.stop_gradient(m), rhs)

    return A, jax.vmap(one)(A, X, dX)
