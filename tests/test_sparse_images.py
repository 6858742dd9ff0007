import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_sample_images
from sklearn.decomposition import PCA

import neurojax.sparse as ns


def _grey():
    return jnp.asarray(np.stack([im.mean(-1) for im in load_sample_images().images]) / 255.0)


def test_extract_patches_are_image_crops(x64):
    im = jnp.arange(5 * 6.0).reshape(1, 5, 6)
    P = ns.extract_patches(im, 3, 40, key=jax.random.key(0))
    assert P.shape == (40, 9)
    # every patch is a crop: rows step by 6, columns by 1
    p = np.asarray(P).reshape(40, 3, 3)
    assert np.all(np.diff(p, axis=2) == 1) and np.all(np.diff(p, axis=1) == 6)
    with pytest.raises(ValueError, match="`size`"):
        ns.extract_patches(im, 7, 2, key=jax.random.key(0))


def test_whitening_flattens_the_spectrum(x64):
    im = _grey()[:, :256, :256]
    w = ns.whiten(im)
    np.testing.assert_allclose(jnp.std(w, axis=(-2, -1)), 1.0, rtol=1e-10)

    def radial_slope(x):  # log-log slope of the amplitude spectrum over mid frequencies
        a = np.abs(np.fft.fft2(np.asarray(x)))
        f = np.sqrt(np.add.outer(np.fft.fftfreq(256) ** 2, np.fft.fftfreq(256) ** 2)) * 256
        sel = (f > 4) & (f < 25)
        return np.polyfit(np.log(f[sel]), np.log(a[sel]), 1)[0]

    raw, white = radial_slope(im[0]), radial_slope(w[0])
    assert raw < -0.8 and abs(white) < 0.4, (raw, white)  # 1/f before, ~flat after


def test_pca_matches_sklearn(x64):
    X = ns.extract_patches(_grey(), 8, 2000, key=jax.random.key(1))
    p = ns.pca(X, 10)
    comps, var = p.components, p.variances
    sk = PCA(10).fit(np.asarray(X))
    np.testing.assert_allclose(var, sk.explained_variance_, rtol=1e-10)
    # components equal up to sign
    dots = np.abs(np.sum(np.asarray(comps) * sk.components_.T, axis=0))
    np.testing.assert_allclose(dots, 1.0, atol=1e-8)
    with pytest.raises(ValueError, match="`k`"):
        ns.pca(X, 65)
