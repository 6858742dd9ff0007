import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurojax import _linalg


def test_solve_values_and_gradients(x64):
    a = jax.random.normal(jax.random.key(0), (6, 6)) + 6 * jnp.eye(6)
    b = jax.random.normal(jax.random.key(1), (6, 3))
    np.testing.assert_allclose(_linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-12)
    f = lambda a, b: jnp.sum(jnp.sin(_linalg.solve(a, b)))  # noqa: E731
    g = lambda a, b: jnp.sum(jnp.sin(jnp.linalg.solve(a, b)))  # noqa: E731
    for x, y in zip(jax.grad(f, (0, 1))(a, b), jax.grad(g, (0, 1))(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-10)
    batched = jax.jit(jax.vmap(jax.grad(f), in_axes=(0, None)))(jnp.stack([a, 2 * a]), b)
    np.testing.assert_allclose(batched[0], jax.grad(g)(a, b), rtol=1e-10)


def test_logdet_spd_and_gradient(x64):
    m = jax.random.normal(jax.random.key(0), (7, 4))
    a = m.T @ m
    np.testing.assert_allclose(_linalg.logdet_spd(a), np.linalg.slogdet(np.asarray(a))[1], rtol=1e-12)
    f = lambda m: _linalg.logdet_spd(m.T @ m)  # noqa: E731
    g = lambda m: jnp.linalg.slogdet(m.T @ m)[1]  # noqa: E731
    np.testing.assert_allclose(jax.grad(f)(m), jax.grad(g)(m), rtol=1e-10)
    np.testing.assert_allclose(jax.vmap(jax.grad(f))(jnp.stack([m, 3 * m]))[1], jax.grad(g)(3 * m), rtol=1e-10)


def test_logdet_not_positive_definite_is_nan(x64):
    assert jnp.isnan(_linalg.logdet_spd(-jnp.eye(3)))


def test_logdet_small_and_large_paths_agree_with_numpy(x64):
    for n in (3, 64, 65, 90):  # elimination up to 64, Cholesky above
        m = jax.random.normal(jax.random.key(n), (n + 5, n))
        a = m.T @ m
        np.testing.assert_allclose(_linalg.logdet_spd(a), np.linalg.slogdet(np.asarray(a))[1], rtol=1e-11)
        np.testing.assert_allclose(jax.grad(_linalg.logdet_spd)(a), np.linalg.inv(np.asarray(a)).T,
                                   rtol=1e-8, atol=1e-12)
        for method in ("cholesky", "elimination"):
            np.testing.assert_allclose(jax.grad(_linalg.logdet_spd)(a, method),
                                       np.linalg.inv(np.asarray(a)).T, rtol=1e-8, atol=1e-12)
    for method in ("auto", "cholesky", "elimination"):
        assert jnp.isnan(_linalg.logdet_spd(jnp.array([[1.0, 2.0], [2.0, 1.0]]), method))  # indefinite
    assert jnp.isnan(_linalg.logdet_spd(jnp.zeros((2, 2))))  # singular
    with pytest.raises(ValueError, match="`method`"):
        _linalg.logdet_spd(jnp.eye(2), "lu")


def test_neumann_solve_values_gradients_and_convergence_flag(x64):
    m = 0.3 * jax.random.normal(jax.random.key(0), (6, 6)) / np.sqrt(6)
    b = jax.random.normal(jax.random.key(1), (6, 3))
    a = jnp.eye(6) - m

    def neumann(m, b):
        x, ok = _linalg.neumann_solve(lambda v: v - m @ v, b)
        return x

    x, ok = _linalg.neumann_solve(lambda v: v - m @ v, b)
    assert bool(ok)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-11, atol=1e-13)
    f = lambda m, b: jnp.sum(jnp.sin(neumann(m, b)))  # noqa: E731
    g = lambda m, b: jnp.sum(jnp.sin(jnp.linalg.solve(jnp.eye(6) - m, b)))  # noqa: E731
    for u, v in zip(jax.grad(f, (0, 1))(m, b), jax.grad(g, (0, 1))(m, b)):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)
    # a shared matrix and a vmapped batch of right-hand sides, one sample per row
    bs = jnp.stack([b, 2 * b, -b])
    gm = jax.jit(jax.grad(lambda m: jnp.sum(jax.vmap(lambda y: jnp.sin(neumann(m, y)))(bs))))(m)
    np.testing.assert_allclose(gm, sum(jax.grad(g)(m, y) for y in bs), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="`factors`"):
        _linalg.solve(lambda v: a @ v, b)
    # spectral radius >= 1: the iteration diverges and says so
    _, ok = _linalg.neumann_solve(lambda v: v - 1.5 * v, b, max_steps=30)
    assert not bool(ok)
