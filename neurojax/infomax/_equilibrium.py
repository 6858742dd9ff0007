"""The recurrent equilibrium g* = σ(W x̃ + K g*): optimistix root-finding, implicit differentiation."""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .. import _linalg, _policy
from .._checks import check_choice, check_finite, check_float_dtype, check_positive_int, is_concrete
from .._numerics import sigmoid, sigmoid_derivatives

Method = Literal["auto", "newton", "picard"]
METHODS = ("auto", "newton", "picard")


class EquilibriumResult(eqx.Module):
    """Result of :func:`equilibrium` (one input) or :func:`batch_roots` (a leading batch axis on
    every field): the fixed point `g`, the solver steps taken, and whether it converged."""

    g: Float[Array, "*batch n_out"]
    num_steps: Int[Array, "*batch"]
    converged: Bool[Array, "*batch"]


def _tolerances(dtype, rtol, atol):
    default = 1e-12 if dtype == jnp.float64 else 1e-6
    return (default if rtol is None else rtol), (default if atol is None else atol)


def _fixed_map(g, args):
    h, K = args
    return sigmoid(h + K @ g)


def _picard(h, K, g0, rtol, atol, max_steps):
    sol = optx.fixed_point(_fixed_map, _linalg.FixedPointIteration(rtol, atol), g0, (h, K),
                           max_steps=max_steps, throw=False)
    return sol.value, jnp.asarray(sol.stats["num_steps"], jnp.int32), sol.result == optx.RESULTS.successful


def _newton(h, K, g0, rtol, atol, max_steps):
    solver = optx.Newton(rtol, atol, linear_solver=_linalg.LU())
    sol = optx.root_find(lambda g, a: g - _fixed_map(g, a), solver, g0, (h, K),
                         max_steps=max_steps, throw=False)
    return sol.value, jnp.asarray(sol.stats["num_steps"], jnp.int32), sol.result == optx.RESULTS.successful


@eqx.filter_jit  # eager callers compile once per shape and settings, not once per call
def solve_root(h, K, method, rtol, atol, max_steps):
    """Primal root of g = σ(h + K g) from σ(0) (no derivatives: see `_attach_implicit`)."""
    h, K = jax.lax.stop_gradient((h, K))
    rtol, atol = _tolerances(h.dtype, rtol, atol)
    g0 = jnp.full(h.shape, 0.5, h.dtype)

    def iterate(_):
        if method == "newton":
            return _newton(h, K, g0, rtol, atol, max_steps)
        g, n, ok = _picard(h, K, g0, rtol, atol, max_steps)
        if method == "picard":
            return g, n, ok

        def fallback(_):  # "auto": Newton from σ(0), like the seed (only when Picard failed)
            g2, n2, ok2 = _newton(h, K, g0, rtol, atol, max_steps)
            return g2, n + n2, ok2

        return jax.lax.cond(ok, lambda _: (g, n, ok), fallback, None)

    def no_recurrence(_):
        return sigmoid(h), jnp.array(0, jnp.int32), jnp.array(True)

    g, n, ok = jax.lax.cond(jnp.all(K == 0), no_recurrence, iterate, None)
    return g, n, ok & jnp.all(jnp.isfinite(g))


def resolvent_matvec(gp, K):
    """v ↦ (I − ΦK) v, Φ = diag(gp), for v of shape (n,) or (n, m), without forming I − ΦK (so
    reverse mode never builds an n × n cotangent per sample)."""
    return lambda v: v - gp.reshape(gp.shape + (1,) * (v.ndim - 1)) * (K @ v)


@jax.custom_jvp
def _attach_implicit(h, K, g):
    """Identity on the root `g` of g = σ(h + K g), plus the LU factors of A = I − ΦK at that root.

    JVP (implicit function theorem): dg = A⁻¹ Φ (dh + dK g); the tangent of the input `g` is ignored.
    """
    _, gp, _ = sigmoid_derivatives(h + K @ g)
    a = jnp.eye(K.shape[0], dtype=K.dtype) - gp[:, None] * K
    lu, piv = _linalg.lu_factor(a)
    return g, lu, piv


@_attach_implicit.defjvp
def _attach_implicit_jvp(primals, tangents):
    h, K, g = primals
    dh, dK, _ = tangents
    g, lu, piv = _attach_implicit(h, K, g)
    _, gp, _ = sigmoid_derivatives(h + K @ g)
    dg = _linalg.solve(resolvent_matvec(gp, K), gp * (dh + dK @ g), factors=(lu, piv))
    return (g, lu, piv), (dg, jnp.zeros_like(lu), np.zeros(piv.shape, jax.dtypes.float0))


@jax.custom_jvp
def _attach_implicit_neumann(h, K, g):
    """Identity on the root `g`; JVP dg = (I − ΦK)⁻¹ Φ (dh + dK g) by :func:`_linalg.neumann_solve`
    (no factorisation; valid while ρ(ΦK) < 1)."""
    return g


@_attach_implicit_neumann.defjvp
def _attach_implicit_neumann_jvp(primals, tangents):
    h, K, g = primals
    dh, dK, _ = tangents
    _, gp, _ = sigmoid_derivatives(h + K @ g)
    dg, _ = _linalg.neumann_solve(resolvent_matvec(gp, K), gp * (dh + dK @ g))
    return g, dg


LINEAR_SOLVERS = ("lu", "neumann")


def implicit_root(h, K, g_root, linear_solver: str = "lu"):
    """`(g, factors)`: `g_root` made differentiable in `h`, `K` by the implicit function theorem.

    With `linear_solver="lu"`, `factors` are the LU factors of I − ΦK at the root (reusable by
    :func:`neurojax._linalg.solve`); with `"neumann"` the derivative solves iterate instead and
    `factors` is None."""
    if linear_solver == "neumann":
        return _attach_implicit_neumann(h, K, jax.lax.stop_gradient(g_root)), None
    g, lu, piv = _attach_implicit(h, K, jax.lax.stop_gradient(g_root))
    return g, (lu, piv)


def equilibrium(
    model,
    x: Float[ArrayLike, " n_in"],
    *,
    method: Method = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 64,
    throw: bool = False,
) -> EquilibriumResult:
    r"""Solve $g^* = \sigma(W\tilde x + K g^*)$ for one input `x`, starting from $\sigma(0)$ as the seed.

    - `method="newton"`: :class:`optimistix.Newton` on $F(g) = g - \sigma(W\tilde x + Kg)$ — the seed's
      iteration $g \leftarrow g + (I - \Phi K)^{-1}(\sigma(\cdot) - g)$, $\Phi = \mathrm{diag}\,\sigma'$.
    - `method="picard"`: :class:`optimistix.FixedPointIteration`, $g \leftarrow \sigma(W\tilde x + Kg)$;
      no factorisation; converges only while $\rho(\Phi K) < 1$.
    - `method="auto"` (default): Picard; if it did not converge, Newton (restarted from $\sigma(0)$: a
      diverging Picard iterate is a poor Newton start).

    The root is differentiated *implicitly*, never by unrolling:
    $dg^* = (I - \Phi K)^{-1}\Phi\,(dW\,\tilde x + dK\,g^* + W\,d\tilde x)$, using the Jacobian's known
    form (no `jacfwd`) and one LU per sample. With $K = 0$ the answer is $\sigma(W\tilde x)$ (0 steps).
    Default tolerances: 1e-12 (float64), 1e-6 (float32) — the seed's `_gcalc` (stop at mean
    $|\Delta g| < 10^{-6}$, then one more σ) agrees to ~1e-15 in float64.

    Non-convergence within `max_steps` (per solver) gives `converged=False`; with `throw=True` it raises
    via :func:`equinox.error_if` (also inside `jit`).
    """
    h, g_root, steps, ok = root_of(model, x, method=method, rtol=rtol, atol=atol, max_steps=max_steps)
    g, _ = implicit_root(h, model.K, g_root)
    ok = ok & jnp.all(jnp.isfinite(g_root))  # a non-finite root is never "converged"
    if throw:
        g = eqx.error_if(g, ~ok, "equilibrium: the fixed-point solve did not converge")
    return EquilibriumResult(g=g, num_steps=steps, converged=ok)


def check_model(model) -> None:
    """TypeError unless `model` is a recurrent InfoMax network (W, K and `augment`)."""
    if not all(hasattr(model, a) for a in ("W", "K", "augment", "n_in")):
        raise TypeError(f"`model` must be a RecurrentInfoMax, got {type(model).__name__}")
    check_float_dtype("model.W", model.W)
    check_float_dtype("model.K", model.K)


def check_batch(model, xs) -> None:
    """ValueError unless `xs` is a batch (batch, n_in) of inputs of `model`."""
    if jnp.ndim(xs) != 2 or jnp.shape(xs)[1] != model.n_in:
        raise ValueError(f"`xs` must be a batch (batch, {model.n_in}) for this model, got shape "
                         f"{jnp.shape(xs)}")


def root_of(model, x, *, method: Method = "auto", rtol=None, atol=None, max_steps: int = 64):
    """`(h, g_root, num_steps, converged)` for one input: the solver settings shared by
    :func:`equilibrium`, :func:`batch_roots` and the objective (unknown settings raise TypeError)."""
    check_model(model)
    check_choice("method", method, METHODS)
    check_settings(rtol, atol, max_steps)
    check_finite("x", x)  # eagerly; ±inf saturates σ into a finite, "converged" root
    h = model.W @ model.augment(jnp.asarray(x))
    return (h, *solve_root(h, model.K, method, rtol, atol, max_steps))


def check_settings(rtol, atol, max_steps) -> None:
    """Tolerances None or finite and >= 0 (a negative one made every step "converged"), and a
    step cap >= 1; ValueError/TypeError naming the argument."""
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol is not None and is_concrete(tol) and not (np.isfinite(tol) and tol >= 0):
            raise ValueError(f"`{name}` must be None or a finite number >= 0, got {tol}")
    check_positive_int("max_steps", max_steps)


def batch_roots(model, xs: Float[ArrayLike, "batch n_in"], *, method: Method = "auto", rtol=None, atol=None,
                max_steps: int = 64) -> EquilibriumResult:
    """Primal equilibria of a batch (no derivatives). With `method="auto"` Picard runs for the whole
    batch and Newton for exactly the samples it left unconverged (the root policy of
    :func:`fallback_roots`, the same on every backend). Returns an :class:`EquilibriumResult` whose fields have a leading
    batch axis (`num_steps`: Picard plus Newton steps where Newton ran)."""
    return EquilibriumResult(*raw_batch_roots(model, xs, method=method, rtol=rtol, atol=atol,
                                              max_steps=max_steps))


def raw_batch_roots(model, xs, *, method: Method = "auto", rtol=None, atol=None, max_steps: int = 64):
    """:func:`batch_roots` as the tuple `(g, num_steps, converged)` (shared inside the package)."""
    check_model(model)
    check_choice("method", method, METHODS)
    check_batch(model, xs)
    check_finite("xs", xs)
    check_settings(rtol, atol, max_steps)
    return _batch_roots(model, jnp.asarray(xs), method, rtol, atol, max_steps)


@eqx.filter_jit  # one compile per shape and settings for eager callers (its `lax.cond` included)
def _batch_roots(model, xs, method, rtol, atol, max_steps):
    h = jax.vmap(lambda x: model.W @ model.augment(x))(xs)
    return fallback_roots(h, model.K, method, rtol, atol, max_steps)


def fallback_roots(h, K, method, rtol, atol, max_steps):
    """`(g, num_steps, converged)` for every row of `h` (rows × n_out) with `K` shared (n_out ×
    n_out) or per row (rows × n_out × n_out): THE root policy of the package.

    `method="auto"`: Picard for every row at once; Newton from σ(0) for exactly the rows Picard left
    unconverged (`num_steps` then counts both), the others keep Picard's root — on every backend.
    How Newton reaches those rows is a speed choice of :func:`neurojax._policy.newton_fallback`
    (a `lax.map` with a per-row `cond`, or one vmapped solve whose rows are selected); both give
    the same roots and step counts bitwise (tested). A step where every row converged never pays
    for Newton (one `lax.cond`)."""
    shared = K.ndim == 2

    def solve(how, hh, kk):
        return solve_root(hh, kk, how, rtol, atol, max_steps)

    def every_row(how):
        return jax.vmap(lambda hh, kk: solve(how, hh, kk), in_axes=(0, None if shared else 0))(h, K)

    if method != "auto":
        return every_row(method)
    first = every_row("picard")
    if _policy.newton_fallback() == "select":
        def newton(first):
            g, n, ok = first
            g2, n2, ok2 = every_row("newton")
            return jnp.where(ok[:, None], g, g2), jnp.where(ok, n, n + n2), ok | ok2
    else:
        def newton(first):
            def row(args):
                hh, kk, gi, ni, oki = args

                def solve_newton(_):
                    g2, n2, ok2 = solve("newton", hh, K if shared else kk)
                    return g2, ni + n2, ok2

                return jax.lax.cond(oki, lambda _: (gi, ni, oki), solve_newton, None)

            ks = jnp.zeros(h.shape[0]) if shared else K  # a shared K is closed over, not copied
            return jax.lax.map(row, (h, ks, *first))

    return jax.lax.cond(jnp.all(first[2]), lambda a: a, newton, first)
