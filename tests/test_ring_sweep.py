import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.ring as nr


@pytest.mark.parametrize("variant", ["circulant", "full"])
def test_sweep_equals_separate_runs(x64, variant):
    N = 60
    cfg = nr.RingConfig(N=N)
    shape = (N, N) if variant == "full" else (N,)
    w0 = 0.05 * jax.random.normal(jax.random.key(0), (4, *shape))
    values = {"tau_d": [15e-3, 10e-3, 20e-3, 15e-3], "lam": [20.0, 10.0, 20.0, 30.0],
              "tau_w": [50.0, 50.0, 20.0, 50.0], "drive_period": [0.012, 0.012, 0.012, 0.02]}
    run = nr.sweep(cfg, w0, values, steps=400, variant=variant, record_every=8)
    states, rec, cfgs = run.states, run.rates, run.configs
    assert rec.shape == (4, 50, N) and [c.delay_steps for c in cfgs] == [75, 50, 100, 75]
    for b, c in enumerate(cfgs):
        run = nr.simulate(c, w0[b], steps=400, variant=variant, record_every=8)
        s, r = run.state, run.rates
        np.testing.assert_allclose(r, rec[b], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s.w, states.w[b], rtol=0, atol=1e-12)
        assert int(states.step[b]) == int(s.step) == 401


def test_sweep_shared_w0_and_weight_record(x64):
    cfg = nr.RingConfig(N=40)
    w0 = 0.05 * jax.random.normal(jax.random.key(1), (40,))
    run = nr.sweep(cfg, w0, {"lam": jnp.array([5.0, 40.0])}, steps=100,
                                       record_every=10, record_weights_every=50)
    states, ws, cfgs = run.states, run.weights, run.configs
    assert ws.shape == (2, 2, 40) and len(cfgs) == 2
    # a stronger decay leaves smaller weights
    assert float(jnp.linalg.norm(states.w[1])) < float(jnp.linalg.norm(states.w[0]))


def test_sweep_bad_input():
    cfg = nr.RingConfig(N=10)
    w0 = jnp.zeros(10)
    with pytest.raises(ValueError, match="cannot sweep"):
        nr.sweep(cfg, w0, {"N": [10, 20]}, steps=5)
    with pytest.raises(ValueError, match="same length"):
        nr.sweep(cfg, w0, {"lam": [1.0, 2.0], "tau_w": [1.0, 2.0, 3.0]}, steps=5)
    with pytest.raises(ValueError, match="values\\['tau_w'\\]"):
        nr.sweep(cfg, w0, {"tau_w": [1.0, -2.0]}, steps=5)
    with pytest.raises(ValueError, match="`w0`"):
        nr.sweep(cfg, jnp.zeros((3, 10)), {"lam": [1.0, 2.0]}, steps=5)
    with pytest.raises(ValueError, match="`values`"):
        nr.sweep(cfg, w0, {}, steps=5)
