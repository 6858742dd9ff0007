import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel

import neurojax.ring as nr


@pytest.mark.parametrize("stimulate, tol", [(True, 1e-13), (False, 5e-12)])
def test_blocked_equals_per_step(x64, stimulate, tol):
    # measured: 2.5e-16 (rates) / 1.9e-14 (w) with the drive; 1.9e-12 / 2.3e-13 without it, where
    # the undriven dynamics amplify the rounding of the reordered sums over 1,234 steps
    cfg = nr.RingConfig(N=100)
    w0 = 0.01 * jax.random.normal(jax.random.key(0), (100, 100))
    kw = dict(steps=1234, variant="full", record_every=7, record_weights_every=70,
              stimulate=stimulate)
    ref = nr.simulate(cfg, w0, block=1, **kw)
    for block in (5, 16, cfg.delay_steps):
        out = nr.simulate(cfg, w0, block=block, **kw)
        assert out.rates.shape == ref.rates.shape == (176, 100)
        assert max_rel(out.rates, ref.rates) <= tol
        assert max_rel(out.state.w, ref.state.w) <= tol
        assert max_rel(out.weights, ref.weights) <= tol
        assert int(out.state.step) == int(ref.state.step) == 1235
        assert max_rel(out.state.buffer, ref.state.buffer) <= tol


def test_blocked_chunks_not_whole_blocks_equal_one_run_to_rounding(x64):
    cfg = nr.RingConfig(N=40)
    w0 = 0.05 * jax.random.normal(jax.random.key(1), (40, 40))
    run = nr.simulate(cfg, w0, steps=300, variant="full", record_every=3)
    one, rec = run.state, run.rates
    s, recs = None, []
    for n in (78, 99, 123):  # whole record strides, not whole blocks (50)
        run = nr.simulate(cfg, w0 if s is None else None, steps=n, variant="full",
                           record_every=3, state=s)
        s, r = run.state, run.rates
        recs.append(r)
    assert max_rel(s.w, one.w) <= 1e-13
    assert max_rel(np.concatenate(recs), rec) <= 1e-13


def test_blocked_sweep_equals_separate_runs(x64):
    cfg = nr.RingConfig(N=60)
    w0 = 0.02 * jax.random.normal(jax.random.key(2), (60, 60))
    taus = [12e-3, 15e-3]  # delays 60 and 75: blocks of 50 fit both
    run = nr.sweep(cfg, w0, {"tau_d": jnp.asarray(taus), "lam": 10.0},
                                   steps=400, variant="full", record_every=10)
    states, rec, cfgs = run.states, run.rates, run.configs
    for b, c in enumerate(cfgs):
        run = nr.simulate(c, w0, steps=400, variant="full", record_every=10)
        s, r = run.state, run.rates
        assert max_rel(rec[b], r) <= 1e-13 and max_rel(states.w[b], s.w) <= 1e-13
    with pytest.raises(ValueError, match="block"):
        nr.sweep(cfg, w0, {"tau_d": jnp.asarray(taus)}, steps=10, variant="full", block=70)


def test_bad_block():
    cfg = nr.RingConfig(N=20)
    w0 = jnp.zeros((20, 20))
    for bad in (0, cfg.delay_steps + 1, -3):
        with pytest.raises(ValueError, match="`block`"):
            nr.simulate(cfg, w0, steps=5, variant="full", block=bad)
    with pytest.raises(TypeError, match="`block`"):
        nr.simulate(cfg, w0, steps=5, variant="full", block=2.5)
    with pytest.raises(ValueError, match="`block` applies to variant='full'"):
        nr.simulate(cfg, jnp.zeros(20), steps=5, variant="circulant", block=4)
    assert nr.default_block(cfg) == min(cfg.delay_steps, 50)
