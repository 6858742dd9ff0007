"""Shared dense linear algebra: LU solves and SPD log-determinants that are safe to vmap on CPU.

Why this module exists (see ``shared/JAX_CPU_NOTES.md`` item 1): on the CPU backend of jaxlib 0.10.2 a
*vmapped* LAPACK call (LU, triangular solve, Cholesky) spreads its batch over XLA's thread pool, and two
such calls running at once can deadlock. On CPU every per-sample factorisation here is therefore wrapped in
:func:`jax.custom_batching.sequential_vmap`, so a vmapped call becomes a loop of unbatched LAPACK calls.
On GPU/TPU the plain batched kernels are used (they are fast there and do not deadlock). The choice is
made at trace time from :func:`jax.default_backend`.

Autodiff never goes *through* a LAPACK call: :func:`solve` is a :func:`jax.lax.custom_linear_solve`
(derivatives come from the mat-vec, the factorisation is reused for the transposed solve) and
:func:`logdet_spd` has a custom JVP, ``d log det A = tr(A^{-1} dA)``.
"""

from collections.abc import Callable
from typing import Any

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
import jax.scipy as jsp
import lineax as lx
from jaxtyping import Array, Float
from lineax._solver.misc import pack_structures, unravel_solution

__all__ = ["LU", "logdet_spd", "lu_factor", "solve"]

def _cpu_sequential(fn: Callable) -> Callable:
    seq = jax.custom_batching.sequential_vmap(fn)

    def wrapped(*args):
        return seq(*args) if jax.default_backend() == "cpu" else fn(*args)

    return wrapped

lu_factor = _cpu_sequential(lambda a: jsp.linalg.lu_factor(a))
_lu_solve = _cpu_sequential(lambda lu, piv, b: jsp.linalg.lu_solve((lu, piv), b, trans=0))
_lu_solve_t = _cpu_sequential(lambda lu, piv, b: jsp.linalg.lu_solve((lu, piv), b, trans=1))
_cholesky = _cpu_sequential(lambda a: jnp.linalg.cholesky(a))
_cho_inverse = _cpu_sequential(
    lambda chol: jsp.linalg.cho_solve((chol, True), jnp.eye(chol.shape[-1], dtype=chol.dtype))
)

def cholesky(a: Float[Array, "n n"]) -> Float[Array, "n n"]:
    """Lower Cholesky factor; under `vmap` on CPU one LAPACK call per matrix (no deadlock)."""
    return _cholesky(a)


class LU(lx.LU):
    """:class:`lineax.LU` whose factorisation and solves never run as a batched LAPACK call on CPU.

    Drop-in for any ``linear_solver=`` argument of lineax/optimistix (e.g. ``optx.Newton`` and
    ``optx.ImplicitAdjoint``).
    """

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        if operator.in_size() != operator.out_size():
            raise ValueError("`LU` may only be used for linear solves with square matrices")
        packed = pack_structures(operator)
        lu_and_piv = lu_factor(operator.as_matrix())

        return lu_and_piv, packed, eqxi.Static(False)

    def compute(self, state, vector, options):
        del options
        (lu, piv), packed, transpose = state
        # lineax's `ravel_vector` also compares shape structs *including sharding*, which differ
        # inside `shard_map` (data-parallel learning); the vector's layout is the operator's.
        leaves = jax.tree.leaves(vector)
        b = jnp.concatenate([v.astype(jnp.result_type(*leaves)).reshape(-1) for v in leaves])
        x = (_lu_solve_t if transpose.value else _lu_solve)(lu, piv, b)
        return unravel_solution(x, packed), lx.RESULTS.successful, {}

def solve(a: Float[Array, "n n"], b: Float[Array, "n *m"], factors=None) -> Float[Array, "n *m"]:
    r"""Solve $A X = B$ (one LU of $A$, any number of right-hand sides), differentiable in $A$ and $B$.

    Derivatives follow $dX = A^{-1}(dB - dA\,X)$ via :func:`jax.lax.custom_linear_solve`; the reverse
    pass reuses the same LU factors for $A^\top$. Pass `factors=lu_factor(A)` to reuse a factorisation
    computed elsewhere (its value must be that of `a`; it is never differentiated).
    """
    lu, piv = lu_factor(jax.lax.stop_gradient(a)) if factors is None else factors
    lu, piv = jax.lax.stop_gradient(lu), jax.lax.stop_gradient(piv)
    return jax.lax.custom_linear_solve(
        lambda x: a @ x,
        b,
        solve=lambda _, y: _lu_solve(lu, piv, y),
        transpose_solve=lambda _, y: _lu_solve_t(lu, piv, y),
    )

@jax.custom_jvp
def logdet_spd(a: Float[Array, "n n"]) -> Float[Array, ""]:
    r"""$\log\det A$ of a symmetric positive-definite matrix via Cholesky, $2\sum_i \log L_{ii}$.

    Not positive definite gives NaN (Cholesky fails), never a silently wrong finite number.
    """
    chol = _cholesky(a)
    return 2 * jnp.sum(jnp.log(jnp.diagonal(chol)))

@logdet_spd.defjvp
def _logdet_spd_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    chol = _cholesky(a)
    inv = _cho_inverse(chol)
    return 2 * jnp.sum(jnp.log(jnp.diagonal(chol))), jnp.sum(inv.T * da)


eigvals = _cpu_sequential(lambda a: jnp.linalg.eigvals(a))
eigvals.__doc__ = "Eigenvalues of a square (nonsymmetric) matrix; unbatched LAPACK calls on CPU."
