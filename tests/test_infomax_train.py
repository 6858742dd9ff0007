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
    h1 = nim.train_on_batches(m, ref["x"].T, b[:25], method=method)
    h2 = nim.train_on_batches(h1.model, ref["x_att"].T, b[25:], method=method, opt_state=h1.opt_state)
    m = h2.model
    assert h1.stats.converged.all() and h2.stats.converged.all()
    assert max_rel(m.W, ref["W"]) <= 1e-8
    assert max_rel(m.K, ref["K"]) <= 1e-8


def test_train_chunking_and_determinism(x64):
    x = nim.tones(16, 200, key=jax.random.key(0))
    m0 = nim.RecurrentInfoMax.tonotopic(16, 24)
    key = jax.random.key(1)
    seen = []
    ha = nim.train(m0, x, key=key, steps=12, batch_size=8, log_every=12)
    hb = nim.train(m0, x, key=key, steps=12, batch_size=8, log_every=5, progress=seen.append)
    hc = nim.train(m0, x, key=key, steps=7, batch_size=8, log_every=5)
    hc = nim.train(hc.model, x, key=key, steps=5, batch_size=8, start_step=7, opt_state=hc.opt_state)
    a, b, c = ha.model, hb.model, hc.model
    assert [i["step"] for i in seen] == [5, 10, 12] and all(i["total"] == 12 for i in seen)
    assert seen[-1]["rho_K"] == pytest.approx(float(hb.rho_K[-1]))
    for other in (b, c):
        assert np.array_equal(np.asarray(a.W), np.asarray(other.W))
        assert np.array_equal(np.asarray(a.K), np.asarray(other.K))
    np.testing.assert_array_equal(ha.stats.objective, hb.stats.objective)
    assert ha.stats.objective.shape == (12,) and hb.rho_K.shape == (3,)
    assert ha.stats.objective[-1] > ha.stats.objective[0]  # learning increases the InfoMax objective


def test_float32_training_stays_finite():
    x = nim.tones(32, 300, key=jax.random.key(0))
    m = nim.RecurrentInfoMax.tonotopic(32, 64)
    h = nim.train(m, x, key=jax.random.key(1), steps=30, batch_size=16)
    m = h.model
    assert m.W.dtype == jnp.float32
    assert np.isfinite(h.stats.objective).all() and h.stats.converged.all()
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
    with pytest.raises(TypeError, match="`progress`"):
        nim.train(m, x, key=jax.random.key(0), steps=1, batch_size=4, progress=True)


def test_diverging_training_stops_with_its_history(x64):
    """ff_eta = rec_eta = 1 on 6 -> 6 diverges within a few steps (step 5 as compiled by default
    and at -O1; the chaotic run's step moves with the last bits of the arithmetic, e.g. to 11 at
    -O0): `train`
    stops after that chunk with a RuntimeWarning and returns the last finite model (the model of
    the step before, equal to a run that stops there) and the statistics through the chunk that
    diverged (was: a raw LinAlgError from the rho(K) log)."""
    m = nim.RecurrentInfoMax.tonotopic(6, 6, dtype=jnp.float64)
    x = nim.tones(6, 64, key=jax.random.key(1))
    kw = dict(key=jax.random.key(0), batch_size=4, log_every=2,
              optimizer=nim.infomax_optimizer(ff_eta=1.0, rec_eta=1.0))
    with pytest.warns(RuntimeWarning, match=r"diverged at step \d+ \(non-finite weights\)") as w:
        r = nim.train(m, x, steps=40, **kw)
    d = r.diverged_at
    assert d is not None and 2 < d < 40 and f"step {d} " in str(w[0].message)
    chunk_end = -(-d // 2) * 2  # the statistics run through the logged chunk that diverged
    assert list(r.log_step) == list(range(2, chunk_end - 1, 2))
    assert r.stats.objective.shape == (chunk_end,)
    before = nim.train(m, x, steps=d - 1, **kw)
    assert before.diverged_at is None
    assert np.array_equal(np.asarray(r.model.K), np.asarray(before.model.K))
    assert np.array_equal(np.asarray(r.model.W), np.asarray(before.model.W))
