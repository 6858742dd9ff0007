"""The backend policy module: every accelerator branch runs on the CPU and gives the CPU's results."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.infomax as nim
from neurojax import _policy
from neurojax.infomax import _equilibrium, _online


def _hard_ensemble(members=6, n_in=5, n_out=12, dtype=jnp.float64):
    """Members whose lateral weights range from weak (Picard converges) to strong (it does not)."""
    m = nim.RecurrentInfoMax.tonotopic(n_in, n_out, dtype=dtype)
    k = jax.random.normal(jax.random.key(3), (n_out, n_out), dtype) * (1 - jnp.eye(n_out, dtype=dtype))
    scale = jnp.linspace(0.05, 1.2, members, dtype=dtype)
    K = scale[:, None, None] * k
    W = jnp.broadcast_to(5 * m.W, (members,) + m.W.shape)
    x = jax.random.uniform(jax.random.key(4), (members, n_in), dtype)
    xt = jnp.concatenate([x, -jnp.ones((members, 1), dtype)], axis=1)
    return W, K, xt


def _roots(W, K, xt):
    return jax.jit(lambda *a: _online.ensemble_roots(*a, max_steps=40))(W, K, xt)


def test_policy_names():
    assert _policy.backend() == jax.default_backend()
    with _policy.use_policy("gpu"):
        assert _policy.backend() == "gpu"
        assert _policy.newton_fallback() == "select"
        assert _policy.knn_method() == "brute"
        assert _policy.sequential_lapack() == (jax.default_backend() == "cpu")  # never overridden
    assert _policy.newton_fallback() == ("map" if jax.default_backend() == "cpu" else "select")
    assert _policy.knn_method(2) == ("kdtree" if jax.default_backend() == "cpu" else "brute")
    assert _policy.knn_method(_policy.KNN_TREE_MAX_DIM + 1) == "brute"
    with pytest.raises(ValueError, match="name"):
        with _policy.use_policy("cuda"):
            pass


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_ensemble_roots_same_on_every_policy(x64, dtype):
    W, K, xt = _hard_ensemble(dtype=dtype)
    with _policy.use_policy("cpu"):
        cpu = _roots(W, K, xt)
    with _policy.use_policy("gpu"):
        gpu = _roots(W, K, xt)
    picard = jax.vmap(lambda h, k: _equilibrium.solve_root(h, k, "picard", None, None, 40))(
        cpu.h, K)
    # the test needs both kinds of member: some converge by Picard, some need Newton
    assert 0 < int(jnp.sum(picard[2])) < W.shape[0]
    assert bool(jnp.all(cpu.converged))
    for a, b in zip(jax.tree.leaves(cpu), jax.tree.leaves(gpu)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the members Picard solved keep Picard's root: Newton ran for exactly the others
    np.testing.assert_array_equal(np.asarray(cpu.g)[np.asarray(picard[2])],
                                  np.asarray(picard[0])[np.asarray(picard[2])])


def test_batch_roots_same_on_every_policy(x64):
    W, K, xt = _hard_ensemble(members=8)
    model = nim.RecurrentInfoMax(W[0], K[-1] * 0.7)
    # inputs from weak to saturating: σ' and with it ρ(ΦK) fall, so Picard converges for a few
    xs = jnp.linspace(-3, 60, 16)[:, None] * jax.random.uniform(jax.random.key(5), (16, model.n_in),
                                                               jnp.float64)
    out = {}
    for name in ("cpu", "gpu"):
        with _policy.use_policy(name):
            out[name] = nim.batch_roots(model, xs, max_steps=30)
    picard = nim.batch_roots(model, xs, method="picard", max_steps=30)
    assert 0 < int(jnp.sum(picard.converged)) < xs.shape[0]
    assert bool(jnp.all(out["cpu"].converged))
    np.testing.assert_array_equal(out["cpu"].num_steps, out["gpu"].num_steps)
    np.testing.assert_array_equal(out["cpu"].converged, out["gpu"].converged)
    # with ONE K for the batch the vmapped Newton multiplies K by all rows at once (a matrix
    # product) where the per-row map makes matrix-vector products: other summation order, the
    # same roots to the last bit or two (measured ≤ 2.2e-16); per-member K (the ensemble) is bitwise
    np.testing.assert_allclose(out["cpu"].g, out["gpu"].g, rtol=0, atol=8 * np.finfo(np.float64).eps)
    ok = np.asarray(picard.converged)
    np.testing.assert_array_equal(np.asarray(out["cpu"].g)[ok], np.asarray(picard.g)[ok])
