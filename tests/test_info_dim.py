import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_digits

import neurojax.info as ni


def test_dim_objective_rises_and_bound_is_the_package_bound():
    images = jnp.asarray(load_digits().images[:400] / 16.0, jnp.float32)
    enc = ni.DIMEncoder((8, 8), 16, key=jax.random.key(0), channels=8, embed=16)
    assert enc(images[0]).shape == (16,) and enc.local(images[0]).shape == (16, 16)
    # the objective is the JSD bound of the position-wise score matrices, averaged
    local = jax.vmap(enc.local)(images[:8])
    psi = jax.vmap(enc.global_embed)(jax.vmap(enc)(images[:8]))
    phi = jax.vmap(jax.vmap(enc.local_embed))(local)
    by_hand = np.mean([float(ni.jensen_shannon(psi @ phi[:, p].T)) for p in range(16)])
    assert float(ni.dim_objective(enc, images[:8])) == pytest.approx(by_hand, rel=1e-5)
    res = ni.train_dim(images, key=jax.random.key(1), steps=300, batch_size=32, encoder=enc, lr=3e-3)
    h = np.asarray(res.history)
    assert h.shape == (300,) and np.all(np.isfinite(h))
    assert h[-20:].mean() > h[:20].mean() + 0.1  # learning raises the bound
    nce = ni.train_dim(images, key=jax.random.key(1), steps=20, batch_size=32, encoder=enc,
                       bound="infonce").history
    assert np.all(np.asarray(nce) <= np.log(32) + 1e-5)  # InfoNCE is capped at log B
    # continuing a run keeps its Adam moments (a fresh state made the bound drop for ~50 steps)
    more = ni.train_dim(images, key=jax.random.key(2), steps=5, batch_size=32, lr=3e-3,
                        encoder=res.encoder, opt_state=res.opt_state)
    assert int(more.opt_state[0].count) == 305
    with pytest.raises(ValueError, match="`opt_state`"):
        ni.train_dim(images, key=jax.random.key(2), steps=5, opt_state=res.opt_state)


def test_dim_bad_input():
    x = np.zeros((10, 8, 8))
    with pytest.raises(ValueError, match="`images`"):
        ni.train_dim(np.zeros((10, 64)), key=jax.random.key(0))
    with pytest.raises(ValueError, match="`batch_size`"):
        ni.train_dim(x, key=jax.random.key(0), batch_size=11)
    with pytest.raises(ValueError, match="`bound`"):
        ni.train_dim(x, key=jax.random.key(0), batch_size=4, bound="dv")
    with pytest.raises(ValueError, match="`images` must be finite"):
        ni.train_dim(np.full((10, 8, 8), np.nan), key=jax.random.key(0), batch_size=4)


def test_dim_experiment_probes_during_training(tmp_path):
    from neurojax.experiments import dim_experiment

    r = dim_experiment(tmp_path, steps=20, probe_at=(10, 50), batch_size=32, progress=False)
    assert [c["steps"] for c in r["probe_curve"]] == [0, 10, 20]  # 50 >= steps is dropped
    assert r["probe_curve"][0]["accuracy"] == r["probe_accuracy"]["random_encoder"]
    assert r["probe_curve"][-1]["accuracy"] == r["probe_accuracy"]["deep_infomax"]
    assert (tmp_path / "dim_probe.png").exists()
