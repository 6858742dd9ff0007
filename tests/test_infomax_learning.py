import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tree_allclose
from infomax_ref import demo_run

import neurojax.infomax as nim


def _setup():
    ref = demo_run()
    m = nim.RecurrentInfoMax(jnp.asarray(ref["W"]), jnp.asarray(ref["K"]))
    return m, nim.infomax_grads(m, jnp.asarray(ref["x"][:, :16].T))


@pytest.mark.parametrize("learn_W, learn_K", [(True, True), (True, False), (False, True)])
def test_optax_path_equals_seed_update(x64, learn_W, learn_K):
    m, g = _setup()
    opt = nim.infomax_optimizer(learn_W=learn_W, learn_K=learn_K)
    params = eqx.filter(m, eqx.is_array)
    updates, _ = opt.update(jax.tree_util.tree_map(jnp.negative, eqx.filter(g, eqx.is_array)),
                            opt.init(params), params)
    via_optax = eqx.apply_updates(m, updates)
    direct = nim.seed_update(m, g, learn_W=learn_W, learn_K=learn_K)
    assert tree_allclose(via_optax, direct, rtol=1e-13, atol=1e-16)
    assert np.array_equal(np.asarray(direct.W), np.asarray(m.W)) == (not learn_W)
    assert np.array_equal(np.asarray(direct.K), np.asarray(m.K)) == (not learn_K)
    assert not np.any(np.diag(np.asarray(direct.K)))


def test_seed_update_formula(x64):
    m, g = _setup()
    new = nim.seed_update(m, g, ff_eta=0.5, rec_eta=0.01, ff_l1=0.1, rec_l2=0.3)
    W, K = np.asarray(m.W), np.asarray(m.K)
    np.testing.assert_allclose(new.W, W - 0.05 * np.sign(W) + 0.5 * np.asarray(g.W), rtol=1e-14)
    np.testing.assert_allclose(new.K, K - 0.003 * K + 0.01 * np.asarray(g.K), rtol=1e-14, atol=1e-18)
