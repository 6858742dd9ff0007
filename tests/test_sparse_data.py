import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.sparse as ns


def test_sample_images_are_grey_and_downsampled():
    full, half = ns.sample_images(downsample=1), ns.sample_images()
    assert full.shape == (2, 427, 640) and half.shape == (2, 213, 320)
    assert 0 <= full.min() and full.max() <= 1
    np.testing.assert_allclose(half[0, 0, 0], full[0, :2, :2].mean())


def test_panning_pixel_reads_an_image_row():
    x = ns.panning_pixel(row=10, speed=1.0)
    np.testing.assert_allclose(x, ns.sample_images(downsample=1)[0, 10, :-1])
    assert ns.panning_pixel(row=10, speed=0.5).size == 2 * x.size
    with pytest.raises(ValueError, match="`speed`"):
        ns.panning_pixel(speed=0)


def test_digits_video_cross_fades():
    v = ns.digits_video(5, 4, key=jax.random.key(0))
    assert v.shape == (20, 64)
    # frames within a fade are on the straight line between the two digits
    a, b = v[0], v[4]
    np.testing.assert_allclose(v[2], 0.5 * a + 0.5 * b, atol=1e-12)
    with pytest.raises(ValueError, match="`fade`"):
        ns.digits_video(5, 0, key=jax.random.key(0))


def test_sinusoid_dictionary_is_orthonormal(x64):
    D = ns.sinusoid_dictionary(64, 20)
    np.testing.assert_allclose(D.T @ D, jnp.eye(40), atol=1e-12)
