import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel, seed_reference
from reference import reference

import neurojax.ring as nr

_EVERY = 5  # the fixtures keep every 5th recorded rate vector (all of them for N = 100)


@functools.cache
def _seed_run(mode, N, stimulate):
    every = 1 if N <= 100 else (_EVERY if stimulate else 25)  # N = 500 undriven: every 25th

    def compute(s):
        r = s.ring_seed.run(mode, periods=2, N=N, seed=0, stimulate=stimulate)
        return {"w0": r["w0"], "w": r["w"], "X": r["X"][1::every], "n_records": len(r["X"]) - 1}

    return reference(f"ring_{mode}_{N}_{'drive' if stimulate else 'free'}", compute), every


@pytest.mark.parametrize("variant, mode", [("full", "full"), ("circulant", "conv")])
@pytest.mark.parametrize("N, stimulate", [(500, True), (500, False), (100, True), (100, False)])
def test_matches_seed(x64, variant, mode, N, stimulate):
    ref, every = _seed_run(mode, N, stimulate)
    run = nr.simulate(nr.RingConfig(N=N), ref["w0"], periods=2, variant=variant,
                      stimulate=stimulate)
    state, rec = run.state, run.rates
    assert rec.shape == (int(ref["n_records"]), N)
    assert max_rel(rec[::every], ref["X"]) <= 1e-9  # the recorded rate vectors
    assert max_rel(state.w, ref["w"]) <= 1e-9


def test_circulant_input_equals_full_with_circulant_matrix(x64):
    N = 64
    cfg = nr.RingConfig(N=N)
    w = 0.05 * jax.random.normal(jax.random.key(0), (N,))
    M = w[(jnp.arange(N)[:, None] - jnp.arange(N)[None, :]) % N]  # M[n, k] = w[(n - k) mod N]
    rc = nr.simulate(cfg, w, steps=300, variant="circulant", plastic=False).rates
    rf = nr.simulate(cfg, M, steps=300, variant="full", plastic=False).rates
    assert max_rel(rc, rf) <= 1e-12


@pytest.mark.parametrize("variant", ["full", "circulant"])
def test_chunked_run_equals_one_run_bitwise(x64, variant):
    N = 50
    cfg = nr.RingConfig(N=N)
    shape = (N, N) if variant == "full" else (N,)
    w0 = 0.05 * jax.random.normal(jax.random.key(1), shape)
    # the full variant's blocks (20) lie on the run's grid: chunks cut inside blocks continue them
    kw = {"block": 20} if variant == "full" else {}
    run = nr.simulate(cfg, w0, steps=240, variant=variant, record_every=4, **kw)
    one, rec = run.state, run.rates
    s, recs = None, []
    for n in (88, 96, 56):
        run = nr.simulate(cfg, w0 if s is None else None, steps=n, variant=variant,
                           record_every=4, state=s, **kw)
        s, r = run.state, run.rates
        recs.append(r)
    assert np.array_equal(np.asarray(s.w), np.asarray(one.w))
    assert np.array_equal(np.asarray(s.buffer), np.asarray(one.buffer))
    assert np.array_equal(np.concatenate(recs), np.asarray(rec))
    assert int(s.step) == int(one.step) == 241


def test_record_every_strides(x64):
    cfg = nr.RingConfig(N=40)
    w0 = 0.05 * jax.random.normal(jax.random.key(2), (40,))
    every = nr.simulate(cfg, w0, steps=120, record_every=1).rates
    strided = nr.simulate(cfg, w0, steps=120, record_every=10).rates
    assert strided.shape == (12, 40)
    np.testing.assert_array_equal(strided, every[9::10])


@pytest.mark.badinput
def test_bad_input():
    cfg = nr.RingConfig(N=10)
    with pytest.raises(ValueError, match="`w0`"):
        nr.simulate(cfg, jnp.zeros((10, 9)), steps=5, variant="full")
    with pytest.raises(ValueError, match="`w0`"):
        nr.simulate(cfg, jnp.full((10,), jnp.nan), steps=5)
    with pytest.raises(ValueError, match="`variant`"):
        nr.simulate(cfg, jnp.zeros(10), steps=5, variant="single-ish")
    with pytest.raises(ValueError, match="`N`"):
        nr.RingConfig(N=0)
    with pytest.raises(ValueError, match="`tau_d`"):
        nr.RingConfig(tau_d=-1.0)
    with pytest.warns(UserWarning, match="`tau_d`"):
        cfg = nr.RingConfig(N=10, tau_d=15.1e-3)
    assert cfg.delay_steps == 76


def test_single_variant_matches_seed(x64):
    N, periods = 100, 2
    cfg = nr.RingConfig(N=N)
    t = np.arange(0, periods * cfg.T, cfg.dt)
    theta = np.linspace(0, cfg.T, N, endpoint=False)

    def get_dw_prime(X, dx, w, i, beta, lmbda, delay_i, dt):  # seed 001, cell "In [9]"
        return (-lmbda * w + X[i - delay_i, 0] * (dx / dt)) * dt * beta

    w0 = 0.05 * np.random.default_rng(3).standard_normal(N)

    def compute(s):
        R = s.ring_seed
        X, w = R.simulate(cfg.dt, N, cfg.T, t, theta, cfg.alpha, cfg.beta, cfg.delay_steps,
                          cfg.lam, w0.copy(), get_dw_prime, R.get_dx, R.f_I_conv_circ_fft, R.phi,
                          R.u, full_info=False)
        return {"X": X, "w": w}

    ref = reference("ring_single_100", compute)
    X, w = ref["X"], ref["w"]
    run = nr.simulate(cfg, w0, periods=periods, variant="single")
    state, rec = run.state, run.rates
    assert max_rel(rec, X[1:]) <= 1e-9
    assert max_rel(state.w, w) <= 1e-9


def test_weight_records(x64):
    cfg = nr.RingConfig(N=30)
    w0 = 0.05 * jax.random.normal(jax.random.key(4), (30,))
    run = nr.simulate(cfg, w0, steps=130, record_every=5, record_weights_every=20)
    s, rec, ws = run.state, run.rates, run.weights
    assert rec.shape == (26, 30) and ws.shape == (6, 30)
    run = nr.simulate(cfg, w0, steps=130, record_every=5)
    s2, rec2 = run.state, run.rates
    np.testing.assert_array_equal(rec, rec2)
    np.testing.assert_array_equal(s.w, s2.w)
    s60 = nr.simulate(cfg, w0, steps=60, record_every=5).state
    np.testing.assert_array_equal(ws[2], s60.w)  # after step 60
    with pytest.raises(ValueError, match="`record_weights_every`"):
        nr.simulate(cfg, w0, steps=10, record_every=3, record_weights_every=10)


def test_resume_argument_errors():
    cfg = nr.RingConfig(N=10)
    s = nr.simulate(cfg, jnp.zeros(10), steps=3).state
    with pytest.raises(ValueError, match="not both"):
        nr.simulate(cfg, jnp.zeros(10), steps=3, state=s)
    with pytest.raises(ValueError, match="exactly one"):
        nr.simulate(cfg, jnp.zeros(10))
    with pytest.raises(ValueError, match="`steps`"):
        nr.simulate(cfg, jnp.zeros(10), steps=-1)


@pytest.mark.slow
def test_150_periods_circulant_matches_seed(x64):
    """The full 150-period (75,000-step) circulant run against the seed (the seed takes minutes)."""
    R = seed_reference("ring_seed")
    ref = R.run("conv", periods=150, N=500, seed=0)
    run = nr.simulate(nr.RingConfig(), ref["w0"], periods=150, variant="circulant",
                             record_every=50)
    state, rec = run.state, run.rates
    err_w = max_rel(state.w, ref["w"])
    err_x = max_rel(rec, ref["X"][50::50])
    print(f"150 periods: kernel rel diff {err_w:.2e}, rates rel diff {err_x:.2e}")
    assert err_w <= 1e-6 and err_x <= 1e-6


def test_circulant_state_carries_spectra_and_follows_replaced_weights(x64):
    N = 60
    cfg = nr.RingConfig(N=N)
    w0 = 0.05 * jax.random.normal(jax.random.key(4), (N,))
    s = nr.simulate(cfg, w0, steps=700).state
    np.testing.assert_allclose(np.fft.irfft(np.asarray(s.w_hat), n=N), s.w, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.fft.rfft(np.asarray(s.buffer)), s.buffer_hat, rtol=0, atol=1e-12)
    # a user who swaps in new weights gets them, not the stale spectrum
    w2 = 0.1 * jax.random.normal(jax.random.key(5), (N,))
    swapped = eqx.tree_at(lambda t: t.w, s, w2)
    fresh = nr.RingState(buffer=s.buffer, w=w2, step=s.step)  # no spectra: transformed from w, buffer
    run = nr.simulate(cfg, steps=200, state=swapped)
    a, ra = run.state, run.rates
    run = nr.simulate(cfg, steps=200, state=fresh)
    b, rb = run.state, run.rates
    rs = nr.simulate(cfg, steps=200, state=s).rates
    assert max_rel(ra, rb) <= 1e-10 and max_rel(a.w, b.w) <= 1e-10
    assert max_rel(ra, rs) > 1e-3


def test_state_is_checked_against_the_config():
    short = nr.RingConfig(N=20, tau_d=3e-3)  # delay 15 steps
    long = nr.RingConfig(N=20, tau_d=30e-3)  # delay 150 steps
    s = nr.simulate(short, jnp.zeros(20), steps=3).state
    with pytest.raises(ValueError, match="delay buffer"):
        nr.simulate(long, steps=3, state=s)
    with pytest.raises(ValueError, match="delay buffer"):
        nr.simulate(nr.RingConfig(N=30, tau_d=3e-3), steps=3, state=s)
    with pytest.raises(ValueError, match="variant='full'"):
        nr.simulate(short, steps=3, state=s, variant="full")
    mixed = eqx.tree_at(lambda t: t.w, s, s.w.astype(jnp.float16))
    with pytest.raises(ValueError, match="one real floating dtype"):
        nr.simulate(short, steps=3, state=mixed)
