import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel
from reference import reference

import neurojax.infomax as nim


def _state(n_in, n_out, key, scale=0.05):
    m = nim.RecurrentInfoMax.tonotopic(n_in, n_out, dtype=jnp.float64)
    K = scale * jax.random.normal(key, (n_out, n_out), jnp.float64) * (1 - jnp.eye(n_out))
    return np.asarray(m.W), np.asarray(K)


@pytest.mark.parametrize("n_in, n_out, scale", [(8, 12, 0.3), (10, 30, 0.05)])
def test_online_step_equals_seed_learn_on_one_sample(x64, n_in, n_out, scale):
    W, K = _state(n_in, n_out, jax.random.key(1), scale)
    x = np.asarray(nim.tones(n_in, 5, key=jax.random.key(2)), np.float64)

    def compute(s):  # the seed's `learn` on the five samples, one at a time
        net = s.infomax_seed.Infomax(n_in, n_out, rec_ridge=0.15)
        net.W, net.K = W.copy(), K.copy()
        for i in range(5):
            net.learn(x[i][:, None])
        return {"W": net.W, "K": net.K}

    ref = reference(f"online_learn_{n_in}x{n_out}", compute)
    rates = nim.OnlineRates(*(jnp.asarray(v) for v in (0.1, 0.001, 0.001, 0.15)))
    Wj, Kj = jnp.asarray(W)[None], jnp.asarray(K)[None]
    for i in range(5):
        xt = jnp.concatenate([x[i], -jnp.ones(1)])[None]
        st = nim.online_step(Wj, Kj, xt, rates, n_in=n_in, learn_W=True, learn_K=True)
        Wj, Kj = st.W, st.K
        assert bool(st.converged[0])
    assert max_rel(Wj[0], ref["W"]) <= 1e-12
    assert max_rel(Kj[0], ref["K"]) <= 1e-12
    assert not np.any(np.diag(np.asarray(Kj[0])))


def test_closed_form_gradient_equals_jax_grad(x64):
    W, K = _state(10, 30, jax.random.key(3), 0.1)
    m = nim.RecurrentInfoMax(W, K)
    x = nim.tones(10, 1, key=jax.random.key(4))
    ref = nim.per_sample_grads(m, x)
    rates = nim.OnlineRates(*(jnp.asarray(v) for v in (1.0, 0.0, 1.0, 0.0)))
    xt = jnp.concatenate([x[0], -jnp.ones(1)])[None]
    st = nim.online_step(jnp.asarray(W)[None], jnp.asarray(K)[None], xt, rates, n_in=10,
                         learn_W=True, learn_K=True)
    W1, K1 = st.W, st.K
    assert max_rel(W1[0] - W, ref.W[0]) <= 1e-11
    assert max_rel(K1[0] - K, ref.K[0]) <= 1e-11
    assert abs(float(st.objective[0]) - float(nim.objective(m, x[0]))) <= 1e-11


def test_ensemble_members_are_independent_and_stopped_members_frozen(x64):
    W, K = _state(8, 12, jax.random.key(5), 0.2)
    W2, K2 = _state(8, 12, jax.random.key(6), 0.4)
    Ws, Ks = jnp.stack([W, W2]), jnp.stack([K, K2])
    xt = jnp.concatenate([nim.tones(8, 2, key=jax.random.key(7)), -jnp.ones((2, 1))], axis=1)
    rates = nim.OnlineRates(*(jnp.asarray(v) for v in (0.1, 0.001, 0.01, jnp.array([0.1, 0.3]))))
    both = nim.online_step(Ws, Ks, xt, rates, n_in=8, learn_W=False, learn_K=True)
    Wb, Kb = both.W, both.K
    for e in range(2):
        r1 = nim.OnlineRates(*(jnp.asarray(v) for v in (0.1, 0.001, 0.01, [0.1, 0.3][e])))
        Ke = nim.online_step(Ws[e:e + 1], Ks[e:e + 1], xt[e:e + 1], r1, n_in=8,
                             learn_W=False, learn_K=True).K
        assert max_rel(Kb[e], Ke[0]) <= 1e-13
    assert np.array_equal(np.asarray(Wb), np.asarray(Ws))  # learn_W=False
    Kf = nim.online_step(Ws, Ks, xt, rates, n_in=8, learn_W=False, learn_K=True,
                         active=jnp.array([True, False])).K
    assert np.array_equal(np.asarray(Kf[1]), np.asarray(Ks[1]))
    assert np.array_equal(np.asarray(Kf[0]), np.asarray(Kb[0]))


def test_online_run_early_stop_on_a_cost_rise(x64):
    W, K = _state(8, 12, jax.random.key(8), 0.2)
    pool = nim.tones(8, 50, key=jax.random.key(9))
    rates = nim.OnlineRates(*(jnp.asarray(v) for v in (0.1, 0.001, 0.01, 0.1)))
    args = (jnp.asarray(W)[None], jnp.asarray(K)[None], jnp.array([True]))
    cost = nim.ensemble_cost(args[0], args[1], pool[:4], n_in=8)
    c0 = cost.value
    assert bool(cost.converged[0])
    kw = dict(n_in=8, learn_W=False, learn_K=True, eval_every=5)
    idx = jnp.arange(20) % 50
    free = nim.online_run(*args, c0, pool, jnp.ones((1, 8)), idx, pool[:4], rates,
                          stop_rise=None, **kw)
    assert free.costs.shape == (4, 1) and bool(free.active[0])
    # a previous cost far below the first evaluation: the rise exceeds stop_rise -> stops at once
    stop = nim.online_run(*args, c0 - 1e3, pool, jnp.ones((1, 8)), idx, pool[:4], rates,
                          stop_rise=100.0, **kw)
    assert not bool(stop.active[0]) and not bool(stop.actives[0, 0])
    first = nim.online_run(*args, c0, pool, jnp.ones((1, 8)), idx[:5], pool[:4], rates,
                           stop_rise=None, **kw)
    assert np.array_equal(np.asarray(stop.K), np.asarray(first.K))  # learned one block only
    # an index outside the pool: named when concrete, an unsound block when traced (JAX would
    # clamp it to the last row silently)
    with pytest.raises(ValueError, match=r"`idx` must lie in \[0, 50\)"):
        nim.online_run(*args, c0, pool, jnp.ones((1, 8)), idx + 40, pool[:4], rates,
                       stop_rise=None, **kw)
    run = jax.jit(lambda i: nim.online_run(*args, c0, pool, jnp.ones((1, 8)), i, pool[:4], rates,
                                           stop_rise=None, **kw))
    assert np.asarray(run(idx).sound).all()
    assert np.asarray(run(idx.at[7].set(50)).sound[:, 0]).tolist() == [True, False, True, True]


def test_ensemble_roots_newton_only_where_picard_failed(x64):
    W, K = _state(8, 12, jax.random.key(10), 0.2)
    _, K_hot = _state(8, 12, jax.random.key(11), 3.0)  # Picard does not converge here
    Ws, Ks = jnp.stack([W, W]), jnp.stack([K, K_hot])
    x = nim.tones(8, 1, key=jax.random.key(12))[0]
    xt = jnp.broadcast_to(jnp.concatenate([x, -jnp.ones(1)]), (2, 9))
    r = nim.ensemble_roots(Ws, Ks, xt)
    g, steps, ok = r.g, r.num_steps, r.converged
    assert bool(jnp.all(ok)) and int(steps[1]) > 200 >= int(steps[0])
    for e, k in enumerate((K, K_hot)):
        ref = nim.equilibrium(nim.RecurrentInfoMax(W, k), x, max_steps=200)
        assert bool(ref.converged)
        np.testing.assert_allclose(g[e], ref.g, rtol=0, atol=1e-12)
