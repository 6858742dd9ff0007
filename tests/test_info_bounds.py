import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.info as ni


def _optimal_scores(key, batch, rho):
    """Scores of the optimal critic log p(y|x)/p(y) for unit-variance pairs with correlation rho."""
    kx, kn = jax.random.split(key)
    x = jax.random.normal(kx, (batch,))
    y = rho * x + jnp.sqrt(1 - rho**2) * jax.random.normal(kn, (batch,))
    s2 = 1 - rho**2
    log_cond = -0.5 * (y[None, :] - rho * x[:, None]) ** 2 / s2 - 0.5 * jnp.log(s2)
    return log_cond + 0.5 * y[None, :] ** 2  # scores[i, j] = f(x_i, y_j)


@pytest.mark.parametrize("mi", [0.5, 1.5, 6.0])
def test_infonce_optimal_critic(x64, mi):
    batch = 64
    rho = ni.rho_for_mi(mi)
    keys = jax.random.split(jax.random.key(0), 400)
    vals = np.asarray(jax.vmap(lambda k: ni.infonce(_optimal_scores(k, batch, rho)))(keys))
    assert np.all(vals <= np.log(batch) + 1e-12)  # never above log B
    target = min(mi, np.log(batch))
    assert vals.mean() <= target + 0.02
    assert vals.mean() >= target - (0.05 if mi < 2 else 0.6)  # approaches min(MI, log B)


def test_nwj_and_dv_optimal_critic(x64):
    mi = 1.0
    rho = ni.rho_for_mi(mi)
    keys = jax.random.split(jax.random.key(1), 400)
    s = jax.vmap(lambda k: _optimal_scores(k, 128, rho))(keys)
    nwj = float(jnp.mean(jax.vmap(lambda a: ni.nwj(a + 1.0))(s)))
    dv = float(jnp.mean(jax.vmap(ni.donsker_varadhan)(s)))
    assert abs(nwj - mi) < 0.05 and abs(dv - mi) < 0.05
    # the JSD objective is maximised by the same critic: a shifted critic scores lower
    jsd = jax.vmap(ni.jensen_shannon)
    assert float(jnp.mean(jsd(s))) > float(jnp.mean(jsd(s + 0.5)))
    assert float(ni.mi_estimate(s[0], "jsd")) == pytest.approx(float(ni.nwj(s[0] + 1.0)))


@pytest.mark.badinput
def test_bounds_reject_non_square():
    for fn in ni.BOUNDS.values():
        with pytest.raises(ValueError, match="`scores`"):
            fn(jnp.zeros((3, 4)))
