import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import neurojax.info as ni


def _spd(key, d):
    a = jax.random.normal(key, (d, d))
    return a @ a.T + d * jnp.eye(d)


def test_entropy_equals_scipy(x64):
    cov = _spd(jax.random.key(0), 5)
    want = scipy.stats.multivariate_normal(np.zeros(5), np.asarray(cov)).entropy()
    assert float(ni.gaussian_entropy(cov)) == pytest.approx(want, rel=1e-10)


def test_kl_closed_form_and_monte_carlo(x64):
    d = 3
    c0, c1 = _spd(jax.random.key(1), d), _spd(jax.random.key(2), d)
    m0, m1 = jnp.array([0.1, -0.2, 0.3]), jnp.array([1.0, 0.0, -1.0])
    got = float(ni.gaussian_kl(m0, c0, m1, c1))
    inv1 = np.linalg.inv(np.asarray(c1))
    dm = np.asarray(m1 - m0)
    want = 0.5 * (np.trace(inv1 @ np.asarray(c0)) + dm @ inv1 @ dm - d
                  + np.linalg.slogdet(np.asarray(c1))[1] - np.linalg.slogdet(np.asarray(c0))[1])
    assert got == pytest.approx(want, rel=1e-10)
    assert abs(float(ni.gaussian_kl(m0, c0, m0, c0))) < 1e-12
    # Monte Carlo: E_p[log p - log q]
    p = scipy.stats.multivariate_normal(np.asarray(m0), np.asarray(c0))
    q = scipy.stats.multivariate_normal(np.asarray(m1), np.asarray(c1))
    s = p.rvs(200_000, random_state=0)
    assert got == pytest.approx(np.mean(p.logpdf(s) - q.logpdf(s)), abs=0.01)


def test_block_mi(x64):
    rho = 0.6
    cov = jnp.array([[1.0, rho], [rho, 1.0]])
    assert float(ni.gaussian_mi(cov, 1)) == pytest.approx(-0.5 * np.log(1 - rho**2), rel=1e-12)
    assert float(ni.correlated_gaussian_mi(rho, d=3)) == pytest.approx(-1.5 * np.log(1 - rho**2))
    assert float(ni.correlated_gaussian_mi(ni.rho_for_mi(0.7, d=4), d=4)) == pytest.approx(0.7)
    big = _spd(jax.random.key(3), 6)
    h = ni.gaussian_entropy
    want = float(h(big[:2, :2]) + h(big[2:, 2:]) - h(big))
    assert float(ni.gaussian_mi(big, 2)) == pytest.approx(want, rel=1e-10)


@pytest.mark.badinput
def test_bad_input():
    with pytest.raises(ValueError, match="`cov`"):
        ni.gaussian_entropy(jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="`d_x`"):
        ni.gaussian_mi(jnp.eye(3), 3)
    with pytest.raises(ValueError, match="`mu1`"):
        ni.gaussian_kl(jnp.zeros(2), jnp.eye(2), jnp.zeros(3), jnp.eye(2))
    with pytest.raises(ValueError, match="`cov`"):
        ni.gaussian_entropy(jnp.full((2, 2), jnp.nan))
