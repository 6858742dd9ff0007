r"""Shared dense linear algebra: LU solves and SPD log-determinants that are safe to vmap on CPU.

Why this module exists (measured while building neurojax): on the CPU backend of jaxlib 0.10.2 a
*vmapped* LAPACK call (LU, triangular solve, Cholesky) spreads its batch over XLA's thread pool, and two
such calls running at once can deadlock. On CPU every per-sample factorisation here is therefore wrapped in
:func:`jax.custom_batching.sequential_vmap`, so a vmapped call becomes a loop of unbatched LAPACK calls.
On GPU/TPU the plain batched kernels are used (they are fast there and do not deadlock). The choice is
made at trace time by :func:`neurojax._policy.sequential_lapack`.

:func:`neumann_solve` needs no factorisation at all: for $A = I - M$ with a contraction $M$ it iterates
$x \leftarrow b + M x$, so a shared matrix inside $M$ (the lateral weights $K$ of the InfoMax network)
meets a whole vmapped batch in one matrix product per iteration.

Autodiff never goes *through* a LAPACK call: :func:`solve` is a :func:`jax.lax.custom_linear_solve`
(derivatives come from the mat-vec, the factorisation is reused for the transposed solve) and
:func:`logdet_spd` has a custom JVP, ``d log det A = tr(A^{-1} dA)``.
"""

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy as jsp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

from . import _policy
from ._compat import Static, fixed_point_state, pack_structures, unravel_solution

__all__ = ["LU", "FixedPointIteration", "logdet_spd", "lu_factor", "neumann_solve", "solve"]

def _cpu_sequential(fn: Callable) -> Callable:
    seq = jax.custom_batching.sequential_vmap(fn)

    # jitted, so that an eager call (or an eager `vmap`, whose sequential rule is a `lax.map`)
    # compiles once per shape instead of once per call
    @jax.jit
    def wrapped(*args):
        return seq(*args) if _policy.sequential_lapack() else fn(*args)

    return wrapped

lu_factor = _cpu_sequential(lambda a: jsp.linalg.lu_factor(a))
_lu_solve = _cpu_sequential(lambda lu, piv, b: jsp.linalg.lu_solve((lu, piv), b, trans=0))
_lu_solve_t = _cpu_sequential(lambda lu, piv, b: jsp.linalg.lu_solve((lu, piv), b, trans=1))
_cholesky = _cpu_sequential(lambda a: jnp.linalg.cholesky(a))
_cho_inverse = _cpu_sequential(
    lambda chol: jsp.linalg.cho_solve((chol, True), jnp.eye(chol.shape[-1], dtype=chol.dtype))
)

_cho_solve = _cpu_sequential(lambda chol, b: jsp.linalg.cho_solve((chol, True), b))


def _lu_perm(a):
    lu, _, perm = jax.lax.linalg.lu(a)
    return lu, perm


def _tri(lu, b, lower, transpose):
    return jax.lax.linalg.triangular_solve(lu, b, left_side=True, lower=lower,
                                           unit_diagonal=lower, transpose_a=transpose)


def _perm_solve(lu, perm, b):
    b2 = b.reshape(b.shape[0], -1)
    return _tri(lu, _tri(lu, b2[perm], True, False), False, False).reshape(b.shape)


def _perm_solve_t(lu, perm, b):
    b2 = b.reshape(b.shape[0], -1)
    z = _tri(lu, _tri(lu, b2, False, True), True, True)
    return jnp.zeros_like(z).at[perm].set(z).reshape(b.shape)


lu_perm = _cpu_sequential(_lu_perm)
lu_perm.__doc__ = """`(lu, perm)` with `A[perm] = L U` (:func:`jax.lax.linalg.lu`); one LAPACK call per
matrix under `vmap` on CPU. Solve with :func:`lu_solve`."""
_lu_solve_perm = _cpu_sequential(_perm_solve)
_lu_solve_perm_t = _cpu_sequential(_perm_solve_t)


def lu_solve(lu, perm, b, trans: int = 0):
    """Solve $A x = b$ (`trans=1`: $A^\\top x = b$) for `b` of shape (n,) or (n, k) from
    :func:`lu_perm` factors: two triangular solves and a permutation (cheaper than
    `jax.scipy.linalg.lu_solve`, which rebuilds the permutation from the pivots each call: measured
    176 vs 503 us for one right-hand side at n = 400). No derivatives (use :func:`solve`)."""
    return (_lu_solve_perm_t if trans else _lu_solve_perm)(lu, perm, b)


qr = _cpu_sequential(lambda a: jnp.linalg.qr(a, mode="reduced"))
qr.__doc__ = """Reduced QR factorisation `(Q, R)` of an (n, m) matrix, n >= m; one LAPACK call per
matrix under `vmap` on CPU."""


def cho_solve(chol, b):
    """Solve $A x = b$ from the lower Cholesky factor of $A$ (unbatched LAPACK calls on CPU)."""
    return _cho_solve(chol, b)


def cholesky(a: Float[ArrayLike, "n n"]) -> Float[Array, "n n"]:
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

        return lu_and_piv, packed, Static(False)

    def compute(self, state, vector, options):
        del options
        (lu, piv), packed, transpose = state
        # lineax's `ravel_vector` also compares shape structs *including sharding*, which differ
        # inside `shard_map` (data-parallel learning); the vector's layout is the operator's.
        leaves = jax.tree.leaves(vector)
        b = jnp.concatenate([v.astype(jnp.result_type(*leaves)).reshape(-1) for v in leaves])
        x = (_lu_solve_t if transpose.value else _lu_solve)(lu, piv, b)
        return unravel_solution(x, packed), lx.RESULTS.successful, {}

def solve(a, b: Float[ArrayLike, "n *m"], factors=None) -> Float[Array, "n *m"]:
    r"""Solve $A X = B$ (one LU of $A$, any number of right-hand sides), differentiable in $A$ and $B$.

    Derivatives follow $dX = A^{-1}(dB - dA\,X)$ via :func:`jax.lax.custom_linear_solve`; the reverse
    pass reuses the same LU factors for $A^\top$. Pass `factors=lu_factor(A)` to reuse a factorisation
    computed elsewhere (its value must be that of `a`; it is never differentiated).

    `a` is the (n, n) matrix, or a function `x -> A x` (then `factors` is required). A function that
    builds $A x$ from smaller pieces (say $x - \phi \odot (K x)$) keeps reverse mode from forming the
    (n, n) cotangent of $A$ per sample: under `vmap` the cotangent of a shared $K$ becomes one matrix
    product over the batch.
    """
    if callable(a):
        if factors is None:
            raise ValueError("`factors` are required when `a` is a matrix-vector function")
        matvec = a
    else:
        matvec = lambda x: a @ x  # noqa: E731
    lu, piv = lu_factor(jax.lax.stop_gradient(a)) if factors is None else factors
    lu, piv = jax.lax.stop_gradient(lu), jax.lax.stop_gradient(piv)
    return jax.lax.custom_linear_solve(
        matvec,
        b,
        solve=lambda _, y: _lu_solve(lu, piv, y),
        transpose_solve=lambda _, y: _lu_solve_t(lu, piv, y),
    )


class FixedPointIteration(optx.FixedPointIteration):
    """optimistix 0.1.0 starts the error state as a default-dtype scalar (float64 under x64), which
    breaks the loop for a float32 solve with x64 enabled; start it in the iterate's dtype instead."""

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        return fixed_point_state(jnp.array(jnp.inf, dtype=y.dtype))


def _neumann(matvec, b, rtol, max_steps):
    """x = b + (x - A x) by optimistix fixed-point iteration, on b scaled to max |b| = 1 so that the
    elementwise test |Δx| <= rtol + rtol |x| is relative to the size of the solution."""
    scale = jnp.max(jnp.abs(b))
    scale = jnp.where(scale > 0, scale, jnp.ones_like(scale))
    bn = b / scale
    sol = optx.fixed_point(lambda x, _: bn + x - matvec(x), FixedPointIteration(rtol, rtol), bn, None,
                           max_steps=max_steps, throw=False)
    return sol.value * scale, sol.result == optx.RESULTS.successful


def neumann_solve(matvec: Callable, b: Float[ArrayLike, "n *m"], *, rtol: float | None = None,
                  max_steps: int = 64) -> tuple[Float[Array, "n *m"], Array]:
    r"""Solve $(I - M)\,x = b$ by the Neumann series $x = \sum_k M^k b$, i.e. the iteration
    $x \leftarrow b + M x$ (:class:`optimistix.FixedPointIteration`), given `matvec(x)` $= (I - M)x$.

    Converges when the spectral radius $\rho(M) < 1$, geometrically at that rate (in the
    $\infty$-norm at the rate $\|M\|_\infty$; the transposed solve of the reverse pass at
    $\|M\|_1$). Differentiable like :func:`solve` (:func:`jax.lax.custom_linear_solve`, the reverse pass
    iterates with $M^\top$). Returns `(x, converged)`: `converged` is False when the forward iteration
    did not meet `rtol` (default 1e-12 in float64, 1e-6 in float32) within `max_steps`.
    """
    if rtol is None:
        rtol = 1e-12 if b.dtype == jnp.float64 else 1e-6
    solve_ = lambda mv, y: _neumann(mv, y, rtol, max_steps)  # noqa: E731
    return jax.lax.custom_linear_solve(matvec, b, solve=solve_, transpose_solve=solve_, has_aux=True)

# Up to this size `logdet_spd` defaults to an elimination in plain JAX ops: under `vmap` it is one loop
# of batched vector operations instead of one LAPACK call per matrix. In an otherwise LAPACK-free
# computation that matters beyond the call count: OpenBLAS's threads keep spinning after a call and
# slow XLA's own threads (a 40 -> 400 InfoMax step on the Neumann path: 28 ms with Cholesky log-dets,
# 18 ms by elimination; 17.5 ms with Cholesky and OPENBLAS_NUM_THREADS=1). Where LAPACK runs anyway
# (the LU path), Cholesky is cheaper for small n (32 -> 64: 1.6 vs 2.5 ms per step).
_SMALL_SPD = 64
SPD_METHODS = ("auto", "cholesky", "elimination")


def _spd_elimination(a):
    """Gauss–Jordan elimination of [A | I] without pivoting: `(pivots, A⁻¹)`. For symmetric A the
    pivots are the Schur-complement diagonal (the squared Cholesky diagonal): all > 0 iff A is SPD,
    their product is det A. Without pivoting this is Cholesky's elimination order (stable for SPD)."""
    n = a.shape[-1]
    m = jnp.concatenate([a, jnp.eye(n, dtype=a.dtype)], axis=-1)

    def body(k, carry):
        m, pivots = carry
        p = m[k, k]
        row = m[k] / p
        col = m[:, k].at[k].set(0)
        return (m - col[:, None] * row[None, :]).at[k].set(row), pivots.at[k].set(p)

    m, pivots = jax.lax.fori_loop(0, n, body, (m, jnp.zeros(n, a.dtype)))
    return pivots, m[:, n:]


def _elimination(a, method):
    return method == "elimination" or (method == "auto" and a.shape[-1] <= _SMALL_SPD)


def _logdet_and_inverse(a, method):
    if _elimination(a, method):
        pivots, inv = _spd_elimination(a)
        logdet = jnp.where(jnp.all(pivots > 0), jnp.sum(jnp.log(jnp.abs(pivots))), jnp.nan)
        return logdet, inv
    chol = _cholesky(a)
    return 2 * jnp.sum(jnp.log(jnp.diagonal(chol))), _cho_inverse(chol)


def logdet_and_inverse_spd(a: Float[ArrayLike, "n n"], method: str = "auto"):
    """`(log det A, A⁻¹)` of a symmetric positive-definite matrix (no derivatives; methods as
    :func:`logdet_spd`; log det NaN if A is not positive definite)."""
    if method not in SPD_METHODS:
        raise ValueError(f"`method` must be one of {SPD_METHODS}, got {method!r}")
    return _logdet_and_inverse(a, method)


def logdet_spd(a: Float[ArrayLike, "n n"], method: str = "auto") -> Float[Array, ""]:
    r"""$\log\det A$ of a symmetric positive-definite matrix, differentiable
    ($d\log\det A = \mathrm{tr}(A^{-1}dA)$).

    `method`: `"cholesky"` ($2\sum_i \log L_{ii}$, LAPACK), `"elimination"` ($\sum_k \log p_k$ over
    the pivots of an elimination without pivoting, in plain JAX ops that batch under `vmap`), or
    `"auto"`: elimination for $n \le 64$, else Cholesky. Not positive definite gives NaN, never a
    silently wrong finite number.
    """
    if method not in SPD_METHODS:
        raise ValueError(f"`method` must be one of {SPD_METHODS}, got {method!r}")
    return _logdet_spd(a, method)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _logdet_spd(a, method):
    if _elimination(a, method):
        return _logdet_and_inverse(a, method)[0]
    return 2 * jnp.sum(jnp.log(jnp.diagonal(_cholesky(a))))


@_logdet_spd.defjvp
def _logdet_spd_jvp(method, primals, tangents):
    (a,), (da,) = primals, tangents
    logdet, inv = _logdet_and_inverse(a, method)
    return logdet, jnp.sum(inv.T * da)


eigvals = _cpu_sequential(lambda a: jnp.linalg.eigvals(a))
eigvals.__doc__ = "Eigenvalues of a square (nonsymmetric) matrix; unbatched LAPACK calls on CPU."
