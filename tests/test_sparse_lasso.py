import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.decomposition import sparse_encode
from sparse_problems import patch_problem as _patch_problem, random_problem as _random_problem

import neurojax.sparse as ns


def _sk(X, D, alpha, positive=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tight tolerance: sklearn may warn about convergence
        # sklearn's dictionary is (n_atoms, n_features); it minimises the same ½‖x − Da‖² + α‖a‖₁
        return sparse_encode(X, D.T, algorithm="lasso_cd", alpha=alpha, positive=positive,
                             max_iter=20000)


def _check(D, X, alpha, res, ref):
    obj = np.asarray(ns.lasso_objective(D, X, res.codes, alpha))
    obj_ref = 0.5 * ((X - ref @ D.T) ** 2).sum(1) + alpha * np.abs(ref).sum(1)
    assert np.all(obj <= obj_ref * (1 + 1e-6) + 1e-12), np.max((obj - obj_ref) / obj_ref)
    a = np.asarray(res.codes)
    differ = (np.abs(a) > 1e-6) != (np.abs(ref) > 1e-6)
    # same support up to coefficients near the 1e-6 threshold
    assert np.all(np.maximum(np.abs(a), np.abs(ref))[differ] < 1e-4)


@pytest.mark.parametrize("problem", ["random", "patches"])
@pytest.mark.parametrize("nonneg", [False, True])
def test_fista_matches_sklearn(x64, problem, nonneg):
    D, X = _random_problem() if problem == "random" else _patch_problem()
    alpha = 0.2 if problem == "random" else 0.02
    res = ns.fista(D, X, alpha, nonneg=nonneg, tol=1e-9, max_steps=20000)
    assert bool(res.converged.all()) and res.codes.shape == (X.shape[0], D.shape[1])
    if nonneg:
        assert float(res.codes.min()) >= 0
    _check(D, X, alpha, res, _sk(X, D, alpha, positive=nonneg))


def test_ista_needs_more_iterations(x64):
    D, X = _random_problem(n=50)
    f = ns.fista(D, X, 0.2, tol=1e-9)
    i = ns.ista(D, X, 0.2, tol=1e-9, max_steps=50000)
    assert bool(i.converged.all())
    assert int(i.num_steps.max()) > int(f.num_steps.max())
    _check(D, X, 0.2, i, _sk(X, D, 0.2))


def test_warm_start_and_nonconvergence_flag(x64):
    D, X = _random_problem(n=20)
    res = ns.fista(D, X, 0.2, tol=1e-9)
    warm = ns.fista(D, X, 0.2, tol=1e-9, init=res.codes)
    # already optimal: stops at the first or second check (n_iter counts iterations done)
    assert int(warm.num_steps.max()) <= 20 < int(res.num_steps.min())
    short = ns.fista(D, X, 0.2, tol=1e-12, max_steps=10)
    assert not bool(short.converged.all())  # reported, not hidden


def test_lipschitz_power_iteration(x64):
    D, _ = _random_problem()
    L = float(ns.lipschitz(D))
    true = np.linalg.norm(D, 2) ** 2
    assert true <= L <= 1.0011 * true


def test_bad_input():
    D, X = _random_problem(n=5)
    with pytest.raises(ValueError, match="`X`"):
        ns.fista(D, X[:, :10], 0.1)
    with pytest.raises(ValueError, match="`alpha`"):
        ns.fista(D, X, -0.1)
    with pytest.raises(ValueError, match="`X`"):
        ns.fista(D, np.full_like(X, np.nan), 0.1)
    with pytest.raises(ValueError, match="`init`"):
        ns.ista(D, X, 0.1, init=np.zeros((5, 3)))


@pytest.mark.parametrize("nonneg", [False, True])
def test_duality_gap_equals_textbook_form(x64, nonneg):
    # _gap's cancellation-free form equals P(a) − ½‖x‖² + ½‖x − θ‖², θ = r / max(1, ‖Dᵀr‖∞/α),
    # at arbitrary (non-optimal, so s > 1) codes
    from neurojax.sparse._lasso import _gap

    D, X = _random_problem(n=40)
    A = np.random.default_rng(5).standard_normal((40, D.shape[1])) * 0.1
    A = np.abs(A) if nonneg else A
    R = X - A @ D.T
    C = R @ D
    s = np.maximum(1.0, (np.maximum(C, 0) if nonneg else np.abs(C)).max(1) / 0.3)
    primal = 0.5 * (R**2).sum(1) + 0.3 * np.abs(A).sum(1)
    dual = 0.5 * (X**2).sum(1) - 0.5 * ((X - R / s[:, None]) ** 2).sum(1)
    p, gap, res = _gap(D, X, A, 0.3, nonneg)
    assert np.all(s > 1)
    np.testing.assert_allclose(np.asarray(p), primal, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(gap), primal - dual, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(res), np.sqrt((R**2).sum(1)), rtol=1e-12)


def test_throw_raises_on_non_convergence(x64):
    import equinox as eqx

    rng = np.random.default_rng(0)
    D = rng.standard_normal((16, 32))
    D /= np.linalg.norm(D, axis=0)
    X = rng.standard_normal((5, 16))
    for solve in (ns.fista, ns.ista, ns.lasso_lars):
        assert bool(solve(D, X, 0.1, throw=True).converged.all())
    with pytest.raises(eqx.EquinoxRuntimeError, match="fista did not converge"):
        ns.fista(D, X, 0.1, max_steps=2, tol=1e-14, throw=True).codes.block_until_ready()


def test_non_finite_codes_are_never_converged(x64):
    import jax

    rng = np.random.default_rng(1)
    D = rng.standard_normal((8, 12))
    D /= np.linalg.norm(D, axis=0)
    X = rng.standard_normal((3, 8))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan  # under jit the input check cannot run: the NaN reaches the solver
    results = [jax.jit(lambda L: ns.fista(D, X, 0.1, lipschitz_constant=L))(0.0),  # eager: error
               jax.jit(lambda x: ns.fista(D, x, 0.1))(X_nan)]
    for r in results:
        bad = ~np.all(np.isfinite(np.asarray(r.codes)), axis=1)
        assert bad.any()  # these inputs do produce non-finite codes ...
        assert not np.any(np.asarray(r.converged)[bad])  # ... and they are not "converged"


def test_traced_bad_hyperparameters_are_not_converged():
    """Under vmap a negative alpha passed the stop test (its duality gap is negative) and
    reported converged=True; it is flagged now, and a bad Lipschitz constant is an error."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    D = rng.standard_normal((8, 16))
    D /= np.linalg.norm(D, axis=0)
    X = rng.standard_normal((5, 8))
    r = jax.vmap(lambda a: ns.fista(D, X, a))(jnp.asarray([0.1, -0.5]))
    assert bool(jnp.all(r.converged[0])) and not bool(jnp.any(r.converged[1]))
    r = jax.vmap(lambda L: ns.fista(D, X, 0.1, lipschitz_constant=L))(jnp.asarray([10.0, -5.0]))
    assert not bool(jnp.any(r.converged[1]))
    with pytest.raises(ValueError, match="`lipschitz_constant`"):
        ns.fista(D, X, 0.1, lipschitz_constant=-5)


def test_zero_dictionary_gives_zero_codes():
    """An all-zero dictionary: the exact codes are 0 (regression: L = 0 made the step infinite
    and the codes NaN)."""
    X = np.random.default_rng(0).standard_normal((5, 8))
    for r in (ns.fista(np.zeros((8, 16)), X, 0.1), ns.ista(np.zeros((8, 16)), X, 0.1),
              ns.encode(X, np.zeros((8, 16)), 0.1)):
        assert np.all(np.asarray(r.codes) == 0) and bool(np.all(np.asarray(r.converged)))


def test_gradients_through_fista_by_implicit_differentiation(x64):
    """jax.grad through `fista` (its while loop is never differentiated): the codes' derivatives
    from the optimality conditions equal central finite differences, in D, X and alpha, and
    forward mode agrees with reverse mode (issue 37: was a raw while_loop error)."""
    rng = np.random.default_rng(0)
    D = rng.standard_normal((10, 15))
    D = jnp.asarray(D / np.linalg.norm(D, axis=0))
    X = jnp.asarray(rng.standard_normal((4, 10)))
    weights = jnp.arange(1.0, 16.0)

    def f(D, X, alpha):
        return jnp.sum(ns.fista(D, X, alpha, tol=1e-13, max_steps=20_000).codes ** 2 * weights)

    gD, gX, ga = jax.grad(f, argnums=(0, 1, 2))(D, X, 0.2)
    eps = 1e-6
    for which, grad in ((0, gD), (1, gX)):
        args = [D, X]
        for idx in [(3, 1), (5, 14), (0, 8)] if which == 0 else [(1, 0), (2, 7), (3, 9)]:
            plus, minus = list(args), list(args)
            plus[which] = args[which].at[idx].add(eps)
            minus[which] = args[which].at[idx].add(-eps)
            fd = (f(*plus, 0.2) - f(*minus, 0.2)) / (2 * eps)
            assert float(grad[idx]) == pytest.approx(float(fd), rel=1e-6, abs=1e-8)
    fd = (f(D, X, 0.2 + eps) - f(D, X, 0.2 - eps)) / (2 * eps)
    assert float(ga) == pytest.approx(float(fd), rel=1e-6)
    assert float(jax.jvp(lambda a: f(D, X, a), (0.2,), (1.0,))[1]) == pytest.approx(float(ga),
                                                                                   rel=1e-10)
    # under jit and vmap over penalties
    many = jax.jit(jax.vmap(jax.grad(lambda a: f(D, X, a))))(jnp.array([0.1, 0.2]))
    assert float(many[1]) == pytest.approx(float(ga), rel=1e-8)
