import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.infomax as nim


def _model(n_in=6, n_out=10, scale=0.4, key=0):
    m = nim.RecurrentInfoMax.tonotopic(n_in, n_out, dtype=jnp.float64)
    W = m.W.at[:, :n_in].multiply(300.0)  # inputs that move the outputs
    K = scale * jax.random.normal(jax.random.key(key), (n_out, n_out)) * (1 - jnp.eye(n_out))
    return eqx.tree_at(lambda m: (m.W, m.K), m, (W, K / np.sqrt(n_out)))


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _np_damped(h, K, g, alpha=0.2, tol=1e-8, max_steps=10_000):
    n = 0
    while n < max_steps:
        new = alpha * _sig(h + K @ g) + (1 - alpha) * g
        d = np.max(np.abs(new - g))
        g, n = new, n + 1
        if d < tol:
            break
    return g, n


def _np_root(m, x):
    W, K = np.asarray(m.W), np.asarray(m.K)
    h = W @ np.append(x, -1.0)
    g = np.full(len(h), 0.5)
    for _ in range(2000):
        g = _sig(h + K @ g)
    return g


def test_damped_steps_equal_a_numpy_loop(x64):
    m = _model()
    x = np.asarray(nim.tones(6, 1, key=jax.random.key(1))[0])
    g, n = nim.damped_steps(m, x)
    gr, nr = _np_damped(np.asarray(m.W) @ np.append(x, -1), np.asarray(m.K), np.full(10, 0.5))
    assert int(n) == nr and np.allclose(g, gr, rtol=0, atol=1e-14)


def test_population_vector_and_correlation_equal_numpy(x64):
    g = np.array(jax.random.uniform(jax.random.key(2), (7, 10), jnp.float64))
    th = 2 * np.pi * np.arange(1, 11) / 10
    want = np.abs(g @ np.exp(1j * th)) / 10
    np.testing.assert_allclose(nim.population_vector(jnp.asarray(g)), want, rtol=1e-13)
    g[:, 3] = 0.25  # a constant output is left out
    r = np.corrcoef(np.delete(g, 3, axis=1).T)
    off = r[~np.eye(9, dtype=bool)]
    np.testing.assert_allclose(nim.mean_squared_correlation(jnp.asarray(g)), np.mean(off ** 2),
                               rtol=1e-12)


def test_paper_slowing_equals_brute_force(x64):
    m = _model()
    xs = nim.tones(6, 8, key=jax.random.key(3))
    scales = np.array([0.0, 0.5, 2.0])
    key = jax.random.key(4)
    c = nim.paper_slowing(m, xs, scales, key=key, n_starts=5)
    starts = np.asarray(0.5 + 0.1 * jax.random.normal(key, (5, 10), jnp.float64))
    W, K = np.asarray(m.W), np.asarray(m.K)
    for i, s in enumerate(scales):
        roots = [_np_damped(W @ np.append(x, -1), s * K, np.full(10, 0.5)) for x in np.asarray(xs)]
        assert float(c.steps[i]) == pytest.approx(np.mean([n for _, n in roots]), abs=1e-12)
        gs = np.stack([g for g, _ in roots])
        r = np.corrcoef(gs.T)[~np.eye(10, dtype=bool)]
        assert float(c.correlation[i]) == pytest.approx(np.mean(r ** 2), rel=1e-9)
        free = [_np_damped(np.zeros(10), s * K, g0)[0] for g0 in starts]
        th = 2 * np.pi * np.arange(1, 11) / 10
        pv = np.mean([np.abs(g @ np.exp(1j * th)) / 10 for g in free])
        assert float(c.population[i]) == pytest.approx(pv, rel=1e-9, abs=1e-13)
        ms = eqx.tree_at(lambda mm: mm.K, m, s * m.K)
        j = np.mean([float(nim.objective(ms, x)) for x in xs])
        assert float(c.objective[i]) == pytest.approx(j, rel=1e-10)
    assert float(c.s_c) == pytest.approx(4 / np.max(np.abs(np.linalg.eigvals(K))), rel=1e-10)
    with pytest.raises(ValueError, match="scales"):
        nim.paper_slowing(m, xs, [np.nan], key=key)
    with pytest.raises(ValueError, match="xs"):
        nim.paper_slowing(m, xs[:, :3], scales, key=key)


def test_connectivity_profile_equals_loops():
    K = np.arange(36.0).reshape(6, 6)
    rows = np.array([False, True, True, True, True, False])
    p = nim.connectivity_profile(K, rows, max_offset=4)
    idx = [1, 2, 3, 4]
    for k in range(-4, 5):
        vals = [K[i, i + k] for i in idx if i + k in idx]
        want = np.mean(vals) if vals else np.nan
        np.testing.assert_equal(p[k + 4], want)


def test_paper_audiogram_equals_numpy_bisection(x64):
    m = _model(scale=0.2)
    a = np.asarray(nim.paper_audiogram(m).thresholds)
    g0 = _np_root(m, np.zeros(6))
    for c in (0, 3):
        def heard(amp, c=c):
            e = np.zeros(6)
            e[c] = amp
            return np.max(np.abs(_np_root(m, e) - g0)) > 1e-2

        lo, hi = 0.0, 100.0
        if not heard(hi):
            assert a[c] == 100.0
            continue
        while hi - lo > 1e-7:
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if heard(mid) else (mid, hi)
        assert a[c] == pytest.approx(hi, abs=2e-6)
