"""Lasso test problems shared by the FISTA and homotopy tests."""

import numpy as np


def random_problem(n=200, f=32, k=64, seed=0):
    """Gaussian unit-norm dictionary (f, k) and Gaussian data (n, f)."""
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((f, k))
    D /= np.linalg.norm(D, axis=0)
    return D, rng.standard_normal((n, f))


def patch_problem(n=200, k=64):
    """A coherent dictionary of k raw 8×8 image patches (unit norm) and n further patches."""
    from sklearn.datasets import load_sample_images

    img = load_sample_images().images[1].mean(-1) / 255.0
    rng = np.random.default_rng(1)
    r, c = rng.integers(0, img.shape[0] - 8, n + k), rng.integers(0, img.shape[1] - 8, n + k)
    P = np.stack([img[i:i + 8, j:j + 8].ravel() for i, j in zip(r, c)])
    P -= P.mean(1, keepdims=True)
    D = P[:k].T / np.maximum(np.linalg.norm(P[:k].T, axis=0), 1e-12)
    return D, P[k:]
