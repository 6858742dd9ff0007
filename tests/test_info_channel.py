import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.info as ni
import neurojax.infomax as nim


def _square_net(key, n=2):
    kw, kk = jax.random.split(key)
    W = 1.5 * jax.random.normal(kw, (n, n + 1))
    K = 0.5 * jax.random.normal(kk, (n, n)) * (1 - jnp.eye(n))
    return nim.RecurrentInfoMax(W, K)


def test_objective_is_output_minus_input_entropy(x64):
    """Square invertible network: h(g*(X)) - h(X) = E[J(X)] = E log|det χ|, checked with the
    Kozachenko–Leonenko estimator on 10,000 samples."""
    model = _square_net(jax.random.key(0))
    x = 0.7 * jax.random.normal(jax.random.key(1), (10_000, 2))
    g = jax.vmap(lambda xi: nim.equilibrium(model, xi).g)(x)
    j = jnp.mean(jax.vmap(lambda xi: nim.objective(model, xi))(x))
    h_in = ni.gaussian_entropy(0.49 * jnp.eye(2))
    h_out = ni.kl_entropy(g)
    assert abs(float(h_out - h_in) - float(j)) < 0.05, (float(h_out - h_in), float(j))


def test_gaussian_channel_forms_agree(x64):
    chi = jax.random.normal(jax.random.key(2), (6, 3))
    a = jax.random.normal(jax.random.key(3), (3, 3))
    cov = a @ a.T + jnp.eye(3)
    got = float(ni.gaussian_channel_mi(chi, cov, 0.3))
    want = 0.5 * np.linalg.slogdet(np.eye(6) + np.asarray(chi @ cov @ chi.T) / 0.3)[1]
    assert got == pytest.approx(want, rel=1e-10)
    # equals the block-MI of the joint Gaussian of (x, chi x + n)
    joint = jnp.block([[cov, cov @ chi.T], [chi @ cov, chi @ cov @ chi.T + 0.3 * jnp.eye(6)]])
    assert got == pytest.approx(float(ni.gaussian_mi(joint, 3)), rel=1e-10)


def test_network_channel_small_noise_limit(x64):
    model = nim.RecurrentInfoMax.tonotopic(4, 8)
    model = nim.RecurrentInfoMax(model.W, 0.05 * jax.random.normal(jax.random.key(4), (8, 8))
                                 * (1 - jnp.eye(8)))
    x = jax.random.uniform(jax.random.key(5), (4,))
    cov = 0.5 * jnp.eye(4)
    s_min = float(jnp.linalg.svd(nim.sensitivity(model, x), compute_uv=False).min())
    s2 = 1e-8 * s_min**2  # small against every channel's signal
    mi = float(ni.network_channel_mi(model, x, input_cov=cov, noise_var=s2))
    limit = float(nim.objective(model, x) + 0.5 * jnp.linalg.slogdet(cov)[1] - 2 * jnp.log(s2))
    assert mi == pytest.approx(limit, rel=1e-5)


@pytest.mark.badinput
def test_bad_input():
    with pytest.raises(ValueError, match="`noise_var`"):
        ni.gaussian_channel_mi(jnp.ones((3, 2)), jnp.eye(2), 0.0)
    with pytest.raises(ValueError, match="`chi`"):
        ni.gaussian_channel_mi(jnp.ones((3, 2)), jnp.eye(3), 1.0)
