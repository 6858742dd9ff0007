import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel
from infomax_ref import demo_run, seed_per_sample_updates

import neurojax.infomax as nim
from neurojax import _policy
from neurojax.infomax._objective import neumann_contraction


@pytest.mark.parametrize("shape", [(32, 64), (48, 24)])
def test_grad_equals_seed_learning_rule(x64, shape):
    n_in, n_out = shape
    ref = demo_run(steps=12, attenuate_step=8, inputs=n_in, outputs=n_out)
    assert np.abs(ref["K"]).max() > 0
    m = nim.RecurrentInfoMax(jnp.asarray(ref["W"]), jnp.asarray(ref["K"]))
    xs = ref["x"][:, 100:104].T
    grads = nim.per_sample_grads(m, jnp.asarray(xs))
    d_v, d_k = seed_per_sample_updates(f"per_sample_updates_{n_in}x{n_out}", ref["W"], ref["K"],
                                       xs)
    for b in range(len(xs)):
        assert max_rel(grads.W[b], d_v[b]) <= 1e-10  # includes the threshold column
        assert max_rel(grads.K[b], d_k[b]) <= 1e-10
        assert not np.any(np.diag(np.asarray(grads.K[b])))
    mean = nim.infomax_grads(m, jnp.asarray(xs))
    np.testing.assert_allclose(mean.W, grads.W.mean(0), rtol=1e-12, atol=1e-14)


def test_grad_at_k_zero_matches_seed(x64):
    m = nim.RecurrentInfoMax.tonotopic(32, 64)
    x = demo_run()["x"][:, 5]
    d_v, d_k = seed_per_sample_updates("per_sample_updates_k0", np.asarray(m.W),
                                       np.zeros((64, 64)), x[None])
    g = nim.per_sample_grads(m, jnp.asarray(x)[None])
    assert max_rel(g.W[0], d_v[0]) <= 1e-10 and max_rel(g.K[0], d_k[0]) <= 1e-10


def test_objective_is_log_singular_values(x64):
    ref = demo_run()
    m = nim.RecurrentInfoMax(jnp.asarray(ref["W"]), jnp.asarray(ref["K"]))
    x = jnp.asarray(ref["x"][:, 9])
    chi = nim.sensitivity(m, x)
    s = np.linalg.svd(np.asarray(chi), compute_uv=False)
    np.testing.assert_allclose(nim.objective(m, x), np.sum(np.log(s)), rtol=1e-12)
    # chi is the Jacobian of the equilibrium w.r.t. x
    np.testing.assert_allclose(chi, jax.jacfwd(lambda xx: nim.equilibrium(m, xx).g)(x), rtol=1e-9, atol=1e-14)


def test_objective_gradient_fd(x64):
    ref = demo_run()
    m = nim.RecurrentInfoMax(jnp.asarray(ref["W"]), jnp.asarray(ref["K"]) * 20)
    x = jnp.asarray(ref["x"][:, 9])
    g = jax.grad(lambda W, K: nim.objective(nim.RecurrentInfoMax(W, K), x), argnums=(0, 1))(m.W, m.K)
    eps = 1e-6
    for i, key in enumerate(jax.random.split(jax.random.key(0), 2)):
        d = jax.random.normal(key, (m.W, m.K)[i].shape)
        args_p = [m.W, m.K]
        args_m = [m.W, m.K]
        args_p[i] = args_p[i] + eps * d
        args_m[i] = args_m[i] - eps * d
        f = lambda W, K: nim.objective(nim.RecurrentInfoMax(W, K), x)  # noqa: E731
        fd = (f(*args_p) - f(*args_m)) / (2 * eps)
        assert abs(float(jnp.sum(g[i] * d)) - float(fd)) <= 1e-6 * max(1.0, abs(float(fd)))


@pytest.mark.badinput
def test_unknown_solver_setting_is_an_error():
    m = nim.RecurrentInfoMax.tonotopic(4, 8)
    with pytest.raises(TypeError, match="throw"):
        nim.objective(m, jnp.ones(4), throw=True)
    with pytest.raises(ValueError, match="`method`"):
        nim.infomax_grads(m, jnp.ones((2, 4)), method="bisection")


def test_linear_solvers_agree_and_auto_picks_by_contraction(x64):
    xs = nim.tones(16, 8, key=jax.random.key(0))
    w = nim.RecurrentInfoMax.tonotopic(16, 160).W
    k = 2e-3 * jax.random.normal(jax.random.key(1), (160, 160)) * (1 - jnp.eye(160))
    small, big = nim.RecurrentInfoMax(w, k), nim.RecurrentInfoMax(w, 8 * k)  # big: bound > 0.2, rho < 1
    for m, picks_neumann in ((small, True), (big, False)):
        roots = nim.batch_roots(m, xs).g
        bound = float(neumann_contraction(m.K, roots))
        phik = [np.asarray(g * (1 - g))[:, None] * np.asarray(m.K) for g in roots]
        assert bound == pytest.approx(max(max(np.linalg.norm(a, np.inf), np.linalg.norm(a, 1))
                                          for a in phik), rel=1e-12)
        assert bound >= max(np.abs(np.linalg.eigvals(a)).max() for a in phik)
        assert (bound <= _policy.NEUMANN_MAX_CONTRACTION) == picks_neumann
        out = {ls: nim.objective_and_grads(m, xs, linear_solver=ls) for ls in ("auto", "lu", "neumann")}
        assert bool(out["auto"].neumann) == picks_neumann
        assert not bool(out["lu"].neumann) and bool(out["neumann"].neumann)
        for ls in ("auto", "neumann"):
            assert bool(out[ls].converged)
            assert max_rel(out[ls].value, out["lu"].value) <= 1e-12
            assert max_rel(out[ls].grads.W, out["lu"].grads.W) <= 1e-10
            assert max_rel(out[ls].grads.K, out["lu"].grads.K) <= 1e-10
    # below NEUMANN_MIN_SIZE outputs "auto" is LU whatever the bound
    ref = demo_run()
    m = nim.RecurrentInfoMax(jnp.asarray(ref["W"]), jnp.asarray(ref["K"]))
    assert m.n_out < _policy.NEUMANN_MIN_SIZE
    assert not bool(nim.objective_and_grads(m, jnp.asarray(ref["x"][:, :8].T)).neumann)


def test_neumann_path_reports_divergence(x64):
    m = nim.RecurrentInfoMax.tonotopic(8, 16)
    K = 6.0 * jax.random.normal(jax.random.key(0), (16, 16)) / 4 * (1 - jnp.eye(16))
    m = nim.RecurrentInfoMax(m.W, K)
    xs = jnp.asarray(nim.tones(8, 4, key=jax.random.key(1)))
    roots = nim.batch_roots(m, xs)
    assert bool(jnp.all(roots.converged))  # the equilibria themselves converge (Newton)
    assert bool(nim.objective_and_grads(m, xs, linear_solver="lu").converged)
    assert not bool(nim.objective_and_grads(m, xs, linear_solver="neumann").converged)
    with pytest.raises(ValueError, match="`linear_solver`"):
        nim.objective_and_grads(m, xs, linear_solver="cg")
