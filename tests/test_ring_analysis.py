import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.ring as nr


def _symmetrize(A, mod):  # seed 001 cell "In [7]" (N = len(A))
    N = len(A)
    return np.array([np.roll(row, -round(N * i / mod % mod)) for i, row in enumerate(A)])


def test_align_rows_is_seed_symmetrize(x64):
    A = np.asarray(jax.random.normal(jax.random.key(0), (37, 37)))
    np.testing.assert_array_equal(nr.align_rows(A), _symmetrize(A, 37))


@pytest.mark.badinput
def test_circulant_kernel_and_translation_invariance(x64):
    N = 48
    c = jax.random.normal(jax.random.key(1), (N,))
    M = c[(jnp.arange(N)[:, None] - jnp.arange(N)[None, :]) % N]
    np.testing.assert_allclose(nr.circulant_kernel(M), c, rtol=0, atol=1e-14)
    assert abs(float(nr.translation_invariance(M)) - 1.0) <= 1e-12
    R = jax.random.normal(jax.random.key(2), (N, N))
    ti = float(nr.translation_invariance(R))
    assert 0.0 < ti < 5.0 / N  # a random matrix keeps ~1/N of its energy in the circulant part
    mixed = float(nr.translation_invariance(M + 0.5 * R))
    assert ti < mixed < 1.0
    with pytest.raises(ValueError, match="`w_full`"):
        nr.align_rows(jnp.zeros((3, 4)))


@pytest.mark.badinput
def test_kernel_stats(x64):
    N = 100
    d = np.arange(N)
    odd = nr.kernel_stats(np.sin(2 * np.pi * d / N))
    even = nr.kernel_stats(np.cos(2 * np.pi * d / N))
    assert abs(odd.odd_fraction - 1.0) < 1e-12 and even.odd_fraction < 1e-12
    assert even.peak_offset == 0 and even.trough_offset == -50
    np.testing.assert_allclose(even.zero_crossings, [-25.0, 25.0], atol=1e-12)
    assert abs(odd.amplitude - 1.0) < 1e-12
    with pytest.raises(ValueError, match="`kernel`"):
        nr.kernel_stats(np.zeros((3, 3)))


@pytest.mark.parametrize("v", [3, -2, 0.5])
def test_wave_speed_synthetic(x64, v):
    N, n_frames, frame_dt = 120, 40, 1e-3
    n = np.arange(N)
    frames = np.stack([np.exp(3 * np.cos(2 * np.pi * (n - v * t) / N)) for t in range(n_frames)])
    res = nr.wave_speed(frames / frames.max(), frame_dt)
    assert abs(res.shift_per_frame - v) < 0.05
    assert abs(res.speed - v / frame_dt) < 0.05 / frame_dt
    assert res.persists == (abs(v) >= 0.5)


def test_wave_speed_of_the_drive_and_static_pattern(x64):
    cfg = nr.RingConfig(N=100)
    rec = nr.simulate(cfg, jnp.zeros(100), periods=3, plastic=False).rates
    res = nr.wave_speed(rec[-200:], cfg.dt)
    assert abs(res.speed - (-cfg.N / cfg.T)) < 1e-6 * cfg.N / cfg.T and res.persists
    static = np.tile(np.cos(np.linspace(0, 2 * np.pi, 50)), (10, 1))
    assert not nr.wave_speed(static, 1.0).persists
    with pytest.raises(ValueError, match="`lag`"):
        nr.wave_speed(static, 1.0, lag=10)
    with pytest.raises(ValueError, match="`frame_dt`"):
        nr.wave_speed(static, 0.0)
