import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import neurojax.sparse as ns


def _seed_diff_box(data, window, pad_size=4):  # seed 002, "Filter visualization" cell
    filt = np.concatenate([np.repeat(0, pad_size), np.repeat(0, window), np.array([1]),
                           np.repeat(-1, window), np.repeat(0, pad_size)]).astype(float)
    filt /= np.sum(filt**2) ** 0.5
    plus, minus = filt[filt > 0].sum(), np.abs(filt[filt < 0]).sum()
    filt[filt > 0] *= minus / plus
    out = np.convolve(data, filt, mode="full")[: len(data)]
    out[:window] = out[window]
    return out


def _panning_pixel():
    """A pixel's time series while panning across a natural image (sklearn sample image)."""
    from sklearn.datasets import load_sample_images

    img = load_sample_images().images[0].mean(-1)
    return img[200, :].astype(float)  # a horizontal pan: pixel value vs time


def test_kurtosis_equals_scipy(x64):
    x = jax.random.gamma(jax.random.key(0), 0.5, (4, 1000))
    np.testing.assert_allclose(ns.kurtosis(x), scipy.stats.kurtosis(np.asarray(x), axis=-1),
                               rtol=1e-10)


def test_simple_measures(x64):
    x = jnp.array([0.0, 3.0, -4.0, 0.0])
    assert int(ns.l0(x)) == 2 and float(ns.l1(x)) == 7.0
    assert float(ns.hoyer(jnp.array([0.0, 0.0, 5.0, 0.0]))) == pytest.approx(1.0)
    assert float(ns.hoyer(jnp.ones(9))) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(ns.relu(jnp.array([-1.0, 0.5, 2.0]), 1.0), [0.0, 0.0, 1.0])
    dx, dy = ns.spatial_diff(jnp.arange(12.0).reshape(3, 4))
    assert dx.shape == (3, 3) and dy.shape == (2, 4)
    assert np.all(np.asarray(dx) == 1) and np.all(np.asarray(dy) == 4)


def test_temporal_and_box_diff_equal_numpy_loops(x64):
    sig = np.asarray(jax.random.normal(jax.random.key(1), (500,))).cumsum()
    taus = [1, 5, 31, 91]
    got = np.asarray(ns.temporal_diff(sig, taus))
    for row, tau in zip(got, taus):
        want = np.array([abs(sig[t] - sig[t - tau]) for t in range(tau, len(sig))])
        np.testing.assert_allclose(row, want[91 - tau:], rtol=0, atol=1e-12)
    windows = [1, 10, 40]
    got = np.asarray(ns.box_diff(sig, windows))
    for row, w in zip(got, windows):
        np.testing.assert_allclose(row, _seed_diff_box(sig, w), rtol=0, atol=1e-10)


def test_temporal_differencing_raises_kurtosis(x64):
    sig = _panning_pixel()
    k_sig = float(ns.kurtosis(sig))
    k_diff = np.asarray(ns.kurtosis(ns.temporal_diff(sig, [1, 2, 4])))
    assert np.all(k_diff > k_sig + 1.0), (k_sig, k_diff)


def test_bad_input():
    with pytest.raises(ValueError, match="`taus`"):
        ns.temporal_diff(jnp.ones(10), [0, 2])
    with pytest.raises(ValueError, match="`taus`"):
        ns.temporal_diff(jnp.ones(10), [20])
    with pytest.raises(ValueError, match="`windows`"):
        ns.box_diff(jnp.ones(10), [1.5])
    with pytest.raises(ValueError, match="`x`"):
        ns.temporal_diff(jnp.array([1.0, jnp.nan, 2.0]), [1])
