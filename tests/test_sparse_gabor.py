import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.sparse as ns


def _params(rng, n):
    return jnp.asarray(np.stack([
        rng.uniform(2.5, 4.5, n), rng.uniform(2.5, 4.5, n), rng.uniform(0, np.pi, n),
        np.log(rng.uniform(1.2, 2.5, n)), np.log(rng.uniform(1.2, 2.5, n)),
        rng.uniform(0.1, 0.3, n), rng.uniform(0, 2 * np.pi, n), rng.uniform(0.5, 2, n),
        rng.uniform(-0.1, 0.1, n)], axis=1))


def _refit(fit):
    raw = jnp.stack([fit.x0, fit.y0, fit.theta, jnp.log(fit.sigma_x), jnp.log(fit.sigma_y),
                     fit.freq, fit.phase, fit.amplitude, fit.offset], axis=-1)
    return jax.vmap(lambda p: ns.gabor(p, (8, 8)))(raw)


def test_gabor_fit_recovers_exact_gabors(x64):
    P = _params(np.random.default_rng(0), 12)
    atoms = jax.vmap(lambda p: ns.gabor(p, (8, 8)))(P)
    fit = ns.gabor_fit(atoms, key=jax.random.key(0))
    # a Gabor is fitted exactly (parameters are identifiable only up to symmetries: compare images)
    assert np.all(np.asarray(fit.r2) > 1 - 1e-10), fit.r2
    np.testing.assert_allclose(_refit(fit), atoms, atol=1e-6)
    assert np.all(fit.converged) and np.all(fit.sigma_x > 0) and np.all(fit.sigma_y > 0)


def test_gabor_fit_separates_gabors_from_noise(x64):
    key = jax.random.key(1)
    P = _params(np.random.default_rng(1), 16)
    atoms = jax.vmap(lambda p: ns.gabor(p, (8, 8)))(P)
    noisy = atoms + 0.05 * jnp.std(atoms) * jax.random.normal(key, atoms.shape)
    r2_gabor = ns.gabor_fit(noisy, key=key).r2
    r2_noise = ns.gabor_fit(jax.random.normal(key, (16, 8, 8)), key=key).r2
    assert np.min(r2_gabor) > 0.95 and np.max(r2_noise) < 0.7, (r2_gabor, r2_noise)


@pytest.mark.badinput
def test_gabor_fit_single_atom_and_bad_input(x64):
    atom = ns.gabor(_params(np.random.default_rng(2), 1)[0], (8, 8))
    fit = ns.gabor_fit(atom, key=jax.random.key(0))
    assert fit.r2.shape == () and float(fit.r2) > 0.999
    with pytest.raises(ValueError, match="`atoms`"):
        ns.gabor_fit(jnp.ones(8), key=jax.random.key(0))
    with pytest.raises(ValueError, match="`atoms`"):
        ns.gabor_fit(atom.at[0, 0].set(jnp.nan), key=jax.random.key(0))
    with pytest.raises(ValueError, match="`n_starts`"):
        ns.gabor_fit(atom, key=jax.random.key(0), n_starts=0)


@pytest.mark.slow
def test_natural_patch_atoms_are_gabor_like_and_sparser_than_pca(x64):
    from neurojax.experiments import natural_atoms

    nat = natural_atoms(key=jax.random.key(0), n_patches=20000, n_atoms=64, steps=1000)
    r2 = np.asarray(nat["fit"].r2)
    frac, median = np.mean(r2 >= 0.7), np.median(r2)
    print(f"Gabor R2 >= 0.7: {frac:.3f} of 64 atoms, median R2 {median:.3f}")
    assert frac >= 0.5
    k_dict = float(jnp.mean(ns.kurtosis(nat["codes"].T)))
    k_pca = float(jnp.mean(ns.kurtosis(nat["pca_codes"].T)))
    print(f"mean code kurtosis: dictionary {k_dict:.2f}, PCA {k_pca:.2f}")
    assert k_dict > k_pca
