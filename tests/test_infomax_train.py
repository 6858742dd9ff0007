import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import max_rel
from infomax_ref import demo_run

import neurojax.infomax as nim


@pytest.mark.parametrize("method", ["newton", "picard"])
def test_seed_batches_reproduce_final_weights(x64, method):
    """The seed's demo loop for 40 steps (25 normal, 15 attenuated), replayed on its own batches."""
    ref = demo_run(steps=40, attenuate_step=25)
    m = nim.RecurrentInfoMax.tonotopic(32, 64)
    b = ref["batches"]
    m, h1 = nim.train_on_batches(m, ref["x"].T, b[:25], method=method)
    m, h2 = nim.train_on_batches(m, ref["x_att"].T, b[25:], method=method)
    assert h1["converged"].all() and h2["converged"].all()
    assert max_rel(m.W, ref["W"]) <= 1e-8
    assert max_rel(m.K, ref["K"]) <= 1e-8


def test_train_chunking_and_determinism(x64):
    x = nim.tones(jax.random.key(0), 16, 200)
    m0 = nim.RecurrentInfoMax.tonotopic(16, 24)
    key = jax.random.key(1)
    a, ha = nim.train(m0, x, key=key, steps=12, batch_size=8, log_every=12, progress=False)
    b, hb = nim.train(m0, x, key=key, steps=12, batch_size=8, log_every=5, progress=False)
    c, _ = nim.train(m0, x, key=key, steps=7, batch_size=8, log_every=5, progress=False)
    c, _ = nim.train(c, x, key=key, steps=5, batch_size=8, start_step=7, progress=False)
    for other in (b, c):
        assert np.array_equal(np.asarray(a.W), np.asarray(other.W))
        assert np.array_equal(np.asarray(a.K), np.asarray(other.K))
    np.testing.assert_array_equal(ha["objective"], hb["objective"])
    assert ha["objective"].shape == (12,) and hb["rho_K"].shape == (3,)
    assert ha["objective"][-1] > ha["objective"][0]  # learning increases the InfoMax objective


def test_float32_training_stays_finite():
    x = nim.tones(jax.random.key(0), 32, 300)
    m = nim.RecurrentInfoMax.tonotopic(32, 64)
    m, h = nim.train(m, x, key=jax.random.key(1), steps=30, batch_size=16, progress=False)
    assert m.W.dtype == jnp.float32
    assert np.isfinite(h["objective"]).all() and h["converged"].all()
    assert np.isfinite(np.asarray(m.W)).all() and np.isfinite(np.asarray(m.K)).all()


def test_bad_training_arguments():
    m = nim.RecurrentInfoMax.tonotopic(8, 16)
    x = jnp.ones((10, 8))
    with pytest.raises(ValueError, match="`data`"):
        nim.train(m, jnp.ones((10, 7)), key=jax.random.key(0), steps=1)
    with pytest.raises(ValueError, match="`batch_size`"):
        nim.train(m, x, key=jax.random.key(0), steps=1, batch_size=11)
    with pytest.raises(ValueError, match="`steps`"):
        nim.train(m, x, key=jax.random.key(0), steps=-1)
    with pytest.raises(ValueError, match="`data`"):
        nim.train(m, x.at[0, 0].set(jnp.nan), key=jax.random.key(0), steps=1)
    with pytest.raises(ValueError, match="`batch_indices`"):
        nim.train_on_batches(m, x, jnp.array([[0, 10]]))
