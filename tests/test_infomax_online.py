from types import SimpleNamespace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel
from reference import reference

import neurojax.infomax as nim
from neurojax.infomax._online import ensemble_cost, ensemble_roots


def online_step(W, K, xt, rates, *, n_in, learn_W, learn_K, active=None):
    """One :class:`OnlineLearner` step of an ensemble given as raw arrays (members × ...) and
    augmented inputs `xt` (members × n_w): the new `W`, `K` and the step's diagnostics."""
    W, K = jnp.asarray(W), jnp.asarray(K)
    model = eqx.tree_at(lambda m: (m.W, m.K), nim.stack(nim.RecurrentInfoMax(W[0], K[0]),
                                                        W.shape[0]), (W, K))
    assert model.n_in == n_in
    learner = nim.OnlineLearner(learn_W=learn_W, learn_K=learn_K)
    state, info = learner.step(learner.init(model, rates, active=active), xt[:, None, :n_in])
    return SimpleNamespace(W=state.model.W, K=state.model.K, objective=info.objective,
                           fp_steps=info.fp_steps, converged=info.converged)


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
        st = online_step(Wj, Kj, xt, rates, n_in=n_in, learn_W=True, learn_K=True)
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
    st = online_step(jnp.asarray(W)[None], jnp.asarray(K)[None], xt, rates, n_in=10,
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
    both = online_step(Ws, Ks, xt, rates, n_in=8, learn_W=False, learn_K=True)
    Wb, Kb = both.W, both.K
    for e in range(2):
        r1 = nim.OnlineRates(*(jnp.asarray(v) for v in (0.1, 0.001, 0.01, [0.1, 0.3][e])))
        Ke = online_step(Ws[e:e + 1], Ks[e:e + 1], xt[e:e + 1], r1, n_in=8,
                             learn_W=False, learn_K=True).K
        assert max_rel(Kb[e], Ke[0]) <= 1e-13
    assert np.array_equal(np.asarray(Wb), np.asarray(Ws))  # learn_W=False
    Kf = online_step(Ws, Ks, xt, rates, n_in=8, learn_W=False, learn_K=True,
                         active=jnp.array([True, False])).K
    assert np.array_equal(np.asarray(Kf[1]), np.asarray(Ks[1]))
    assert np.array_equal(np.asarray(Kf[0]), np.asarray(Kb[0]))


def test_learn_chunk_early_stop_on_a_cost_rise(x64):
    W, K = _state(8, 12, jax.random.key(8), 0.2)
    pool = nim.tones(8, 50, key=jax.random.key(9))
    rates = nim.OnlineRates(*(jnp.asarray(v) for v in (0.1, 0.001, 0.01, 0.1)))
    learner = nim.OnlineLearner(learn_W=False, learn_K=True)
    state = learner.init(nim.stack(nim.RecurrentInfoMax(W, K), 1), rates)
    cost = ensemble_cost(jnp.asarray(W)[None], jnp.asarray(K)[None], pool[:4], n_in=8)
    c0 = cost.value
    assert bool(cost.converged[0])
    ones, kw = jnp.ones((1, 8)), dict(block=5, eval_x=pool[:4])
    idx = (jnp.arange(20) % 50)[:, None]
    free = nim.learn_chunk(learner, state, c0, pool, ones, idx, **kw)
    assert free.blocks.cost.shape == (4, 1) and bool(free.state.active[0])
    # a previous cost far below the first evaluation: the rise exceeds stop_rise -> stops at once
    stop = nim.learn_chunk(learner, state, c0 - 1e3, pool, ones, idx, stop_rise=100.0, **kw)
    assert not bool(stop.state.active[0]) and not bool(stop.blocks.active[0, 0])
    first = nim.learn_chunk(learner, state, c0, pool, ones, idx[:5], **kw)
    # learned one block only
    assert np.array_equal(np.asarray(stop.state.model.K), np.asarray(first.state.model.K))
    with pytest.raises(ValueError, match="needs `eval_x`"):
        nim.learn_chunk(learner, state, c0, pool, ones, idx, block=5, stop_rise=1.0)
    # an index outside the pool: named when concrete, an unsound block when traced (JAX would
    # clamp it to the last row silently)
    with pytest.raises(ValueError, match=r"`idx` must lie in \[0, 50\)"):
        nim.learn_chunk(learner, state, c0, pool, ones, idx + 40, **kw)
    run = jax.jit(lambda i: nim.learn_chunk(learner, state, c0, pool, ones, i, **kw))
    assert np.asarray(run(idx).blocks.sound).all()
    bad = np.asarray(run(idx.at[7, 0].set(50)).blocks.sound[:, 0]).tolist()
    assert bad == [True, False, True, True]


@pytest.mark.parametrize("learn_W, learn_K", [(True, False), (False, True), (True, True)])
def test_online_and_batch_learners_take_the_same_step_at_batch_1(x64, learn_W, learn_K):
    """The one learner interface: at one sample per step the closed-form online learner and the
    autodiff + optax batch learner take the same step (the rule read from the same rates)."""
    W, K = _state(10, 30, jax.random.key(3), 0.1)
    model = nim.stack(nim.RecurrentInfoMax(W, K), 2)
    rates = nim.OnlineRates(ff_eta=0.1, ff_l1=0.001, rec_eta=0.01,
                            rec_l2=jnp.array([0.1, 0.3]))
    x = nim.tones(10, 2, key=jax.random.key(4))[:, None, :]  # one sample per member
    steps = {}
    for cls in (nim.OnlineLearner, nim.BatchLearner):
        learner = cls(learn_W=learn_W, learn_K=learn_K)
        state, info = learner.step(learner.init(model, rates), x)
        steps[cls.__name__] = (state.model, info)
    (m1, i1), (m2, i2) = steps["OnlineLearner"], steps["BatchLearner"]
    for f in ("W", "K"):
        assert float(jnp.max(jnp.abs(getattr(m1, f) - getattr(m2, f)))) <= 1e-12, f
    assert float(jnp.max(jnp.abs(i1.objective - i2.objective))) <= 1e-12
    assert bool(jnp.all(i1.converged)) and bool(jnp.all(i2.converged))
    assert np.array_equal(np.asarray(m1.W), np.asarray(model.W)) != learn_W
    with pytest.raises(ValueError, match="one sample per step"):
        nim.OnlineLearner().step(nim.OnlineLearner().init(model, rates),
                                 jnp.concatenate([x, x], axis=1))


@pytest.mark.badinput
def test_learners_refuse_bad_settings_and_states():
    with pytest.raises(TypeError, match="learn_W must be a bool"):
        nim.OnlineLearner(learn_W="no")
    with pytest.raises(ValueError, match="nothing"):
        nim.BatchLearner(learn_W=False, learn_K=False)
    with pytest.raises(TypeError, match="optimizer"):
        nim.BatchLearner(optimizer=3)
    m = nim.RecurrentInfoMax.tonotopic(4, 6)
    rates = nim.OnlineRates(0.1, 0.0, 0.01, 0.1)
    with pytest.raises(ValueError, match="stacked"):
        nim.OnlineLearner().init(m, rates)
    with pytest.raises(ValueError, match="`active`"):
        nim.OnlineLearner().init(nim.stack(m, 2), rates, active=jnp.ones(3, bool))
    with pytest.raises(ValueError, match="rates.rec_l2"):
        nim.OnlineLearner().init(nim.stack(m, 2), nim.OnlineRates(0.1, 0.0, 0.01, float("nan")))


def test_ensemble_roots_newton_only_where_picard_failed(x64):
    W, K = _state(8, 12, jax.random.key(10), 0.2)
    _, K_hot = _state(8, 12, jax.random.key(11), 3.0)  # Picard does not converge here
    Ws, Ks = jnp.stack([W, W]), jnp.stack([K, K_hot])
    x = nim.tones(8, 1, key=jax.random.key(12))[0]
    xt = jnp.broadcast_to(jnp.concatenate([x, -jnp.ones(1)]), (2, 9))
    r = ensemble_roots(Ws, Ks, xt)
    g, steps, ok = r.g, r.num_steps, r.converged
    assert bool(jnp.all(ok)) and int(steps[1]) > 200 >= int(steps[0])
    for e, k in enumerate((K, K_hot)):
        ref = nim.equilibrium(nim.RecurrentInfoMax(W, k), x, max_steps=200)
        assert bool(ref.converged)
        np.testing.assert_allclose(g[e], ref.g, rtol=0, atol=1e-12)
