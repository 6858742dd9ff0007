import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel
from infomax_ref import demo_run, seed_net
from reference import reference

import neurojax.infomax as nim
from neurojax._numerics import sigmoid


def _trained():
    ref = demo_run()
    assert np.abs(ref["K"]).max() > 0
    return ref, nim.RecurrentInfoMax(jnp.asarray(ref["W"]), jnp.asarray(ref["K"]))


@pytest.mark.parametrize("method", ["newton", "picard"])
def test_matches_seed_gcalc(x64, method):
    ref, m = _trained()
    cols = range(0, 400, 37)

    def compute(s):  # the seed's own fixed-point iteration on attenuated inputs
        net = seed_net(s.infomax_seed, ref["W"], ref["K"])
        return {"g": np.stack([net._gcalc(np.append(ref["x_att"][:, i], -1.0))[0] for i in cols])}

    g_seed = reference("gcalc_demo_run", compute)["g"]
    for j, i in enumerate(cols):
        res = nim.equilibrium(m, jnp.asarray(ref["x_att"][:, i]), method=method)
        assert bool(res.converged)
        assert max_rel(res.g, g_seed[j]) <= 1e-10


def test_k_zero_needs_no_iterations(x64):
    m = nim.RecurrentInfoMax.tonotopic(16, 32)
    x = jnp.linspace(0.0, 0.5, 16)
    res = nim.equilibrium(m, x)
    assert int(res.num_steps) == 0 and bool(res.converged)
    np.testing.assert_allclose(res.g, sigmoid(m.W @ m.augment(x)), rtol=1e-15)


def test_nonconvergence_reported_and_thrown(x64):
    m = nim.RecurrentInfoMax.tonotopic(32, 64)
    big = nim.RecurrentInfoMax(m.W, 5.0 * jax.random.normal(jax.random.key(1), (64, 64)))
    x = jnp.linspace(0.0, 0.5, 32)
    res = jax.jit(lambda mm, xx: nim.equilibrium(mm, xx, method="newton"))(big, x)
    assert not bool(res.converged)
    assert int(res.num_steps) == 64
    res = nim.equilibrium(big, x)  # "auto": 64 Picard steps, then 64 Newton steps, still unconverged
    assert not bool(res.converged) and int(res.num_steps) == 128
    with pytest.raises(eqx.EquinoxRuntimeError, match="did not converge"):
        jax.block_until_ready(
            eqx.filter_jit(lambda mm, xx: nim.equilibrium(mm, xx, throw=True))(big, x).g
        )


def test_auto_falls_back_to_newton(x64):
    """A K for which Picard diverges but Newton converges: `auto` and `batch_roots` recover."""
    m = nim.RecurrentInfoMax.tonotopic(32, 64)
    m = nim.RecurrentInfoMax(m.W, 1.25 * jax.random.normal(jax.random.key(1), (64, 64)))
    xs = jnp.stack([jnp.linspace(0.0, 0.5, 32), jnp.linspace(0.5, 0.0, 32)])
    pic = jax.vmap(lambda x: nim.equilibrium(m, x, method="picard"))(xs)
    new = jax.vmap(lambda x: nim.equilibrium(m, x, method="newton"))(xs)
    assert not bool(jnp.all(pic.converged)) and bool(jnp.all(new.converged))
    r = nim.batch_roots(m, xs)
    g, steps, ok = r.g, r.num_steps, r.converged
    assert bool(jnp.all(ok)) and int(steps.max()) > 64
    np.testing.assert_allclose(g, new.g, rtol=1e-10)
    g_auto = nim.equilibrium(m, xs[0]).g
    np.testing.assert_allclose(g_auto, new.g[0], rtol=1e-10)


@pytest.mark.badinput
def test_unknown_method():
    m = nim.RecurrentInfoMax.tonotopic(4, 8)
    with pytest.raises(ValueError, match="`method`"):
        nim.equilibrium(m, jnp.ones(4), method="bisection")


def _unrolled_g(W, K, xt, n_iter=200):
    g = jnp.full(K.shape[0], 0.5, W.dtype)
    for _ in range(n_iter):
        g = sigmoid(W @ xt + K @ g)
    return g


def test_implicit_gradient_vs_unrolled_and_fd(x64):
    ref, m = _trained()
    # a stronger K (still contracting) so the recurrent term matters in the derivative
    m = nim.RecurrentInfoMax(m.W * 30, m.K * 50)
    x = jnp.asarray(ref["x"][:, 3])
    v = jax.random.normal(jax.random.key(0), (m.n_out,))

    def implicit(W, K, x):
        return nim.equilibrium(nim.RecurrentInfoMax(W, K), x).g @ v

    def unrolled(W, K, x):
        return _unrolled_g(W, K, jnp.append(x, -1.0)) @ v

    gi = jax.grad(implicit, argnums=(0, 1, 2))(m.W, m.K, x)
    gu = jax.grad(unrolled, argnums=(0, 1, 2))(m.W, m.K, x)
    for a, b in zip(gi, gu):
        assert max_rel(a, b) <= 1e-8
    # central finite differences along random directions
    eps = 1e-6
    for argnum, key in zip(range(3), jax.random.split(jax.random.key(2), 3)):
        args = [m.W, m.K, x]
        d = jax.random.normal(key, args[argnum].shape)
        plus, minus = list(args), list(args)
        plus[argnum] = args[argnum] + eps * d
        minus[argnum] = args[argnum] - eps * d
        fd = (implicit(*plus) - implicit(*minus)) / (2 * eps)
        assert abs(float(jnp.sum(gi[argnum] * d)) - float(fd)) <= 1e-6 * max(1.0, abs(float(fd)))


def test_float32_finite():
    ref, _ = _trained()
    m = nim.RecurrentInfoMax(jnp.asarray(ref["W"], jnp.float32), jnp.asarray(ref["K"], jnp.float32))
    xs = jnp.asarray(ref["x"][:, :32].T, jnp.float32)
    res = jax.vmap(lambda x: nim.equilibrium(m, x))(xs)
    assert res.g.dtype == jnp.float32
    assert bool(jnp.all(res.converged)) and bool(jnp.all(jnp.isfinite(res.g)))


def test_float32_model_with_x64_enabled(x64):
    m = nim.RecurrentInfoMax.tonotopic(8, 16, dtype=jnp.float32)
    m = nim.RecurrentInfoMax(m.W, 0.01 * jnp.ones((16, 16), jnp.float32))
    res = nim.equilibrium(m, jnp.linspace(0, 0.5, 8, dtype=jnp.float32))
    assert res.g.dtype == jnp.float32 and bool(res.converged)


@pytest.mark.badinput
def test_bad_solver_settings_name_the_argument():
    m = nim.RecurrentInfoMax.tonotopic(4, 6)
    x = jnp.ones(4)
    for kw, name in (({"rtol": -1.0}, "rtol"), ({"atol": float("nan")}, "atol"),
                     ({"max_steps": 0}, "max_steps")):
        with pytest.raises(ValueError, match=f"`{name}`"):
            nim.equilibrium(m, x, **kw)
    with pytest.raises(TypeError, match="`max_steps`"):
        nim.equilibrium(m, x, max_steps=2.5)
