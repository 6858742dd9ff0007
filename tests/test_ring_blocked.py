import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel

import neurojax.ring as nr


@pytest.mark.parametrize("stimulate, tol", [(True, 2e-14), (False, 1e-12)])
def test_blocked_equals_per_step(x64, stimulate, tol):
    # measured: 2.5e-16 (rates) / 4.5e-15 (w) with the drive; 4.8e-13 / 6.6e-14 without it, where
    # the undriven dynamics amplify the rounding of the reordered sums over 1,234 steps (w0 moved
    # by one ulp moves those rates by 2.5e-14). With the decay as a rounded (1 - λ dt β)^k these
    # were 1.9e-14 and 1.9e-12: the rounding of the factor compounds in one direction
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


def _bitwise(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_blocked_chunks_cut_anywhere_equal_one_run_bitwise(x64):
    cfg = nr.RingConfig(N=40)  # delay 75, blocks of 50
    w0 = 0.05 * jax.random.normal(jax.random.key(1), (40, 40))
    kw = dict(variant="full", record_every=3, record_weights_every=21)
    run = nr.simulate(cfg, w0, steps=420, **kw)
    s, recs, ws = None, [], []
    for n in (63, 21, 105, 231):  # whole record strides, cut inside blocks and inside the warm-up
        part = nr.simulate(cfg, w0 if s is None else None, steps=n, state=s, **kw)
        s = part.state
        recs.append(part.rates)
        ws.append(part.weights)
        assert s.block is not None and 0 <= int(s.step) - int(s.block.start) < 50
    assert _bitwise(s.w, run.state.w) and _bitwise(s.buffer, run.state.buffer)
    assert _bitwise(np.concatenate(recs), run.rates)
    assert _bitwise(np.concatenate(ws), run.weights)
    # a chunk shorter than what is left of its block, and a one-step chunk
    a = nr.simulate(cfg, w0, steps=7, variant="full")
    b = nr.simulate(cfg, None, steps=1, variant="full", state=a.state)
    c = nr.simulate(cfg, w0, steps=8, variant="full")
    assert _bitwise(b.state.w, c.state.w) and _bitwise(b.rates[-1], c.rates[-1])


def test_blocked_resume_from_a_changed_state_starts_a_new_block(x64):
    cfg = nr.RingConfig(N=40)
    w0 = 0.05 * jax.random.normal(jax.random.key(3), (40, 40))
    first = nr.simulate(cfg, w0, steps=130, variant="full").state  # 30 steps into a block
    # another block length, the per-step path, or replaced weights: a block from state.w
    for kw, st in (({"block": 20}, first), ({"block": 1}, first),
                   ({}, eqx.tree_at(lambda s: s.w, first, first.w * 0.5))):
        got = nr.simulate(cfg, None, steps=90, variant="full", state=st, **kw)
        ref = nr.simulate(cfg, None, steps=90, variant="full", block=1,
                          state=eqx.tree_at(lambda s: s.block, st, None,
                                            is_leaf=lambda x: x is None))
        assert max_rel(got.state.w, ref.state.w) <= 1e-13
        assert max_rel(got.rates, ref.rates) <= 1e-13
        assert (got.state.block is None) == (kw.get("block") == 1)
    with pytest.raises(ValueError, match="state.block"):
        nr.simulate(nr.RingConfig(N=20), None, steps=5, variant="full",
                    state=nr.initial_state(nr.RingConfig(N=20), jnp.zeros((20, 20)),
                                           variant="full").__class__(
                        buffer=jnp.zeros((76, 20)), w=jnp.zeros((20, 20)),
                        step=jnp.array(1, jnp.int32), block=first.block))


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


@pytest.mark.badinput
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
