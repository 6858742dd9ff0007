import jax
import jax.numpy as jnp
import numpy as np

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
