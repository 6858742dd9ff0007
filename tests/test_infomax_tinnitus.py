import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.info as info
import neurojax.infomax as nim


def _model(key, n_in=8, n_out=12, k_scale=0.3):
    m = nim.RecurrentInfoMax.tonotopic(n_in, n_out, dtype=jnp.float64)
    K = k_scale * jax.random.normal(key, (n_out, n_out)) / jnp.sqrt(n_out)
    return eqx.tree_at(lambda m: m.K, m, K * (1 - jnp.eye(n_out)))


@pytest.mark.parametrize("name", list(nim.PROFILES))
def test_hearing_loss_profiles(x64, name):
    g = np.asarray(nim.hearing_loss(name, 40))
    assert g.shape == (40,) and np.all((0 <= g) & (g <= 1))
    lost = g < 0.5
    j = np.arange(1, 41)  # channel numbers; the gain is exactly 0.5 at each edge
    where = {"baseline": j > 20, "shifted": j > 30, "low": j < 20, "notch": (j > 10) & (j < 30),
             "band": (j > 10) & (j < 30)}
    if name in where:
        np.testing.assert_array_equal(lost, where[name])
    else:  # soft: the same midpoint, a shallow slope
        assert lost[25:].all() and not lost[:15].any() and 0.2 < g[20] < 0.3 < 0.7 < g[18] < 0.8
    # the baseline profile is the seed's attenuate_inputs gain
    np.testing.assert_allclose(nim.hearing_loss("baseline", 32, minval=0.2),
                               nim.attenuation(32, f0=16, beta=10.0, minval=0.2))


def test_hearing_loss_bad_input():
    with pytest.raises(ValueError, match="profile"):
        nim.hearing_loss("deafness", 10)
    with pytest.raises(ValueError, match=r"profile.*\(10,\)"):
        nim.hearing_loss(jnp.ones(9), 10)
    with pytest.raises(ValueError, match="profile"):
        nim.hearing_loss(jnp.full(10, 2.0), 10)


def test_rho_equals_numpy(x64):
    K = jax.random.normal(jax.random.key(0), (30, 30))
    np.testing.assert_allclose(nim.rho(K), np.max(np.abs(np.linalg.eigvals(np.asarray(K)))),
                               rtol=1e-12)
    batch = jax.random.normal(jax.random.key(1), (3, 10, 10))
    np.testing.assert_allclose(jax.jit(jax.vmap(nim.rho))(batch),
                               [nim.spectral_radius(k) for k in batch], rtol=1e-12)


def test_silence_response_is_the_zero_input_equilibrium(x64):
    m = _model(jax.random.key(0))
    s = nim.silence_response(m)
    assert bool(s.converged)
    np.testing.assert_allclose(s.g, m(jnp.zeros(8)), rtol=0, atol=0)
    # with K = 0: sigma(-threshold weights)
    m0 = nim.RecurrentInfoMax.tonotopic(8, 12, dtype=jnp.float64)
    np.testing.assert_allclose(nim.silence_response(m0).g, jax.nn.sigmoid(-m0.W[:, -1]), rtol=1e-15)


def test_unconverged_fixed_points_are_reported(x64):
    """K = 30·randn: the default solve (Picard, then Newton) fails at x = 0 and x = 1 (the issue's
    K = 10·randn case now converges through the Newton fallback; with Picard alone its residual is
    0.998, and was returned as a response); `converged` is False, the audiogram flags its
    channels, and the bare-array functions (model call, sensitivity, objective and its gradient,
    channel MI) are NaN."""
    m = nim.RecurrentInfoMax.tonotopic(8, 8, dtype=jnp.float64)
    bad = nim.RecurrentInfoMax(m.W, 30 * jax.random.normal(jax.random.key(0), (8, 8)))
    x = jnp.ones(8)
    s = nim.silence_response(bad)
    assert not bool(s.converged)
    ten = nim.RecurrentInfoMax(m.W, 10 * jax.random.normal(jax.random.key(0), (8, 8)))
    assert not bool(nim.silence_response(ten, method="picard").converged)
    assert bool(nim.silence_response(ten).converged)
    with pytest.raises(eqx.EquinoxRuntimeError, match="did not converge"):
        nim.silence_response(bad, throw=True)
    a = nim.audiogram(bad)
    assert a.thresholds.shape == (8,) and not bool(np.any(a.converged))
    for f in (lambda mm: mm(x), lambda mm: nim.sensitivity(mm, x), lambda mm: nim.objective(mm, x),
              lambda mm: info.network_channel_mi(mm, x, input_cov=jnp.eye(8), noise_var=0.1)):
        assert np.all(np.isnan(f(bad)))
    assert np.isfinite(nim.objective(m, x))
    assert np.all(np.isnan(jax.jit(lambda mm: nim.objective(mm, x))(bad)))  # also traced
    g = eqx.filter_grad(lambda mm: nim.objective(mm, x))(bad)
    assert np.all(np.isnan(g.W)) and np.all(np.isnan(g.K))
    r = nim.objective_and_grads(bad, x[None])
    assert not bool(r.converged)


def test_penalty_sweep_equals_a_python_loop(x64):
    key = jax.random.key(3)
    m = nim.RecurrentInfoMax.tonotopic(8, 12, dtype=jnp.float64)
    x = nim.tones(8, 200, key=jax.random.key(1))
    xa = nim.attenuate(x, nim.hearing_loss("baseline", 8))
    lam = np.array([0.01, 0.1, 0.5])
    kw = dict(key=key, steps_normal=30, steps_attenuated=20, batch_size=8, rec_eta=0.05)
    sweep = nim.penalty_sweep(m, x, xa, lam, **kw)
    loop_before, loop_after = [], []
    for v in lam:  # the same protocol, one λ at a time, with the ordinary training loop
        idx2 = nim.batch_indices(200, 8, range(30), key=jax.random.fold_in(key, 2))
        idx3 = nim.batch_indices(200, 8, range(20), key=jax.random.fold_in(key, 3))
        opt2 = nim.infomax_optimizer(rec_eta=0.05, rec_l2=float(v), learn_W=False)
        m2 = nim.train_on_batches(m, x, idx2, optimizer=opt2).model
        m3 = nim.train_on_batches(m2, xa, idx3, optimizer=opt2).model
        loop_before.append(nim.spectral_radius(m2.K))
        loop_after.append(nim.spectral_radius(m3.K))
    np.testing.assert_allclose(sweep.rho_before, loop_before, rtol=1e-10)
    np.testing.assert_allclose(sweep.rho_after, loop_after, rtol=1e-10)
    assert sweep.rho_before[0] > sweep.rho_before[-1]  # a larger penalty, a smaller K
    # several profiles at once: phase 2 shared, phase 3 per profile, same numbers
    xl = nim.attenuate(x, nim.hearing_loss("low", 8))
    both = nim.penalty_sweep(m, x, jnp.stack([xa, xl]), lam, **kw)
    low = nim.penalty_sweep(m, x, xl, lam, **kw)
    np.testing.assert_allclose(both.rho_before, sweep.rho_before, rtol=1e-12)
    np.testing.assert_allclose(both.rho_after, [sweep.rho_after, low.rho_after],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="penalties"):
        nim.penalty_sweep(m, x, xa, [-1.0], **kw)


def test_critical_slowing_down(x64):
    m = _model(jax.random.key(2), k_scale=1.5)
    res = nim.critical_slowing(m, [0.0, 0.5, 1.0, 2.0, 4.0], max_steps=400)
    assert res.newton_steps[0] == 0 and res.picard_steps[0] == 0  # K = 0: no iterations
    assert np.all(np.diff(res.picard_steps) >= 0) and res.picard_steps[-1] > 2 * res.picard_steps[1]
    assert res.newton_converged.all() and np.max(res.newton_steps) <= 10
    assert np.all(np.diff(res.rho_phi_K) > 0)


def test_audiogram_bisection(x64):
    m = nim.RecurrentInfoMax.tonotopic(8, 12, dtype=jnp.float64)
    a = nim.audiogram(m, threshold=0.02)
    thr = np.asarray(a.thresholds)
    assert np.all(np.isfinite(thr)) and np.all(thr > 0) and bool(np.all(a.converged))
    # at the threshold amplitude the response exceeds the criterion, just below it does not
    g0 = nim.silence_response(m).g
    for c in (1, 4, 8):
        a = thr[c - 1]
        resp = lambda a, c=c: float(jnp.max(jnp.abs(m(nim.tone(8, c, a)) - g0)))  # noqa: E731
        assert resp(a) > 0.02 >= resp(a * (1 - 1e-6))
    # an attenuated ear: threshold scales by 1/gain (a linear gain in front of the network)
    gain = jnp.full(8, 0.5)
    np.testing.assert_allclose(nim.audiogram(m, gain=gain, threshold=0.02, a_max=100.0).thresholds,
                               2 * thr, rtol=1e-9)
    # a dead channel is never heard
    dead = nim.audiogram(m, gain=jnp.zeros(8).at[:4].set(1.0), threshold=0.02).thresholds
    assert np.all(np.isinf(dead[5:])) and np.all(np.isfinite(dead[:3]))
