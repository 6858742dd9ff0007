"""A small equinox critic and its optax training loop for variational MI estimates (seed 003)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_choice, check_paired, check_positive_int
from ._bounds import BOUNDS, mi_estimate


class SeparableCritic(eqx.Module):
    r"""$f(x, y) = g(x)^\top h(y)$ with two MLPs; a whole (B, B) score matrix costs two forward
    passes and one matrix product."""

    g: eqx.nn.MLP
    h: eqx.nn.MLP

    def __init__(self, d_x: int, d_y: int, *, key: PRNGKeyArray, width: int = 64, depth: int = 2,
                 embed: int = 32):
        d_x, d_y = check_positive_int("d_x", d_x), check_positive_int("d_y", d_y)
        kg, kh = jax.random.split(key)
        self.g = eqx.nn.MLP(d_x, embed, width, depth, activation=jax.nn.relu, key=kg)
        self.h = eqx.nn.MLP(d_y, embed, width, depth, activation=jax.nn.relu, key=kh)

    def scores(self, x: Float[Array, "b dx"], y: Float[Array, "b dy"]) -> Float[Array, "b b"]:
        return jax.vmap(self.g)(x) @ jax.vmap(self.h)(y).T


class ConcatCritic(eqx.Module):
    r"""$f(x, y) = \mathrm{MLP}([x, y])$ evaluated on all B² pairs (more expressive, B² cost)."""

    mlp: eqx.nn.MLP

    def __init__(self, d_x: int, d_y: int, *, key: PRNGKeyArray, width: int = 64, depth: int = 2):
        d_x, d_y = check_positive_int("d_x", d_x), check_positive_int("d_y", d_y)
        self.mlp = eqx.nn.MLP(d_x + d_y, "scalar", width, depth, activation=jax.nn.relu, key=key)

    def scores(self, x, y):
        pair = lambda xi, yj: self.mlp(jnp.concatenate([xi, yj]))  # noqa: E731
        return jax.vmap(lambda xi: jax.vmap(lambda yj: pair(xi, yj))(y))(x)


class CriticResult(eqx.Module):
    """Result of :func:`train_critic`: the trained `critic`, the bound on each training batch
    (`history`, one per step), and the MI `estimate` of the trained critic."""

    critic: eqx.Module
    history: Float[Array, " steps"]
    estimate: Float[Array, ""]


@eqx.filter_jit
def _train(critic, x, y, key, bound, steps, batch_size, lr):
    opt = optax.adam(lr)
    params, static = eqx.partition(critic, eqx.is_inexact_array)
    n = x.shape[0]

    def loss(p, xb, yb):
        return -BOUNDS[bound](eqx.combine(p, static).scores(xb, yb))

    def step(carry, k):
        p, s = carry
        idx = jax.random.choice(k, n, (batch_size,), replace=False)
        val, g = jax.value_and_grad(loss)(p, x[idx], y[idx])
        upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), -val

    (params, _), history = jax.lax.scan(step, (params, opt.init(params)),
                                        jax.random.split(key, steps))
    critic = eqx.combine(params, static)
    # final estimate: average over disjoint batches of the whole data set
    n_eval = n // batch_size
    xe = x[: n_eval * batch_size].reshape(n_eval, batch_size, -1)
    ye = y[: n_eval * batch_size].reshape(n_eval, batch_size, -1)
    est = jnp.mean(jax.vmap(lambda a, b: mi_estimate(critic.scores(a, b), bound))(xe, ye))
    return CriticResult(critic=critic, history=history, estimate=est)


def train_critic(x, y, *, key: PRNGKeyArray, bound: str = "infonce", steps: int = 2000,
                 batch_size: int = 128, lr: float = 1e-3, critic: eqx.Module | None = None,
                 width: int = 64) -> CriticResult:
    r"""Estimate $I(X;Y)$ by maximising a variational bound (`infonce`, `nwj`, `jsd`, `dv`) over a
    critic with Adam, on random batches of the paired samples `x` (n, d_x), `y` (n, d_y).

    Returns a :class:`CriticResult`: the trained critic, the bound per step, and the MI
    estimate of the trained critic averaged over disjoint batches of all the data (for `jsd`, the
    NWJ bound of the shifted critic). Pure and jitted: vmap it over keys or data sets for sweeps.
    InfoNCE estimates are capped at log(batch_size)."""
    check_choice("bound", bound, set(BOUNDS))
    x, y = check_paired(("x", "y"), x, y)
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    if not 2 <= batch_size <= x.shape[0]:
        raise ValueError(f"`batch_size` must be in [2, n = {x.shape[0]}], got {batch_size}")
    if not lr > 0:
        raise ValueError(f"`lr` must be > 0, got {lr}")
    kc, kt = jax.random.split(key)
    if critic is None:
        critic = SeparableCritic(x.shape[1], y.shape[1], key=kc, width=width)
    critic = jax.tree.map(lambda a: a.astype(x.dtype) if eqx.is_inexact_array(a) else a, critic)
    return _train(critic, x, y, kt, bound, steps, batch_size, lr)
