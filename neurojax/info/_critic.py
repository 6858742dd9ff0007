"""A small equinox critic and its optax training loop for variational MI estimates (seed 003)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

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

    def scores(self, x: Float[ArrayLike, "b dx"], y: Float[ArrayLike, "b dy"]) -> Float[Array, "b b"]:
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
    """Result of :func:`train_critic`: the trained `critic` (with `holdout`: the one of the step
    with the best validation bound), the bound on each training batch (`history`), the bound on
    the validation batch at each step (`validation`; empty without `holdout`), the step whose
    critic was kept (`best_step`), the MI `estimate` of that critic on the held-out test samples
    (on the training samples without `holdout`) and `train_estimate` on the training samples."""

    critic: eqx.Module
    history: Float[Array, " steps"]
    validation: Float[Array, " steps"]
    best_step: Int[Array, ""]
    estimate: Float[Array, ""]
    train_estimate: Float[Array, ""]


def _batched_estimate(critic, x, y, bound, batch_size):
    """The bound averaged over disjoint batches of `batch_size` pairs (at least one batch: a set
    smaller than `batch_size` is one batch)."""
    b = min(batch_size, x.shape[0])
    n = x.shape[0] // b
    xe, ye = x[: n * b].reshape(n, b, -1), y[: n * b].reshape(n, b, -1)
    return jnp.mean(jax.vmap(lambda a, c: mi_estimate(critic.scores(a, c), bound))(xe, ye))


@eqx.filter_jit
def _train(critic, x, y, key, bound, steps, batch_size, lr, x_val, y_val):
    opt = optax.adam(lr)
    params, static = eqx.partition(critic, eqx.is_inexact_array)
    n = x.shape[0]
    validate = x_val.shape[0] > 0

    def loss(p, xb, yb):
        return -BOUNDS[bound](eqx.combine(p, static).scores(xb, yb))

    def step(carry, k_i):
        k, i = k_i
        p, s, best, best_val, best_step = carry
        idx = jax.random.choice(k, n, (batch_size,), replace=False)
        val, g = jax.value_and_grad(loss)(p, x[idx], y[idx])
        upd, s = opt.update(g, s, p)
        p = optax.apply_updates(p, upd)
        v = (mi_estimate(eqx.combine(p, static).scores(x_val, y_val), bound) if validate
             else jnp.asarray(0.0, x.dtype))
        better = validate & (v > best_val)
        best = jax.tree.map(lambda a, b: jnp.where(better, a, b), p, best)
        best_val, best_step = jnp.where(better, v, best_val), jnp.where(better, i + 1, best_step)
        return (p, s, best, best_val, best_step), (-val, v)

    init = (params, opt.init(params), params, jnp.asarray(-jnp.inf, x.dtype), jnp.asarray(0))
    (params, _, best, _, best_step), (history, validation) = jax.lax.scan(
        step, init, (jax.random.split(key, steps), jnp.arange(steps)))
    if validate:
        params = best
    else:
        best_step = jnp.asarray(steps)
    return eqx.combine(params, static), history, validation, best_step


def train_critic(x, y, *, key: PRNGKeyArray, bound: str = "infonce", steps: int = 2000,
                 batch_size: int = 128, lr: float = 1e-3, critic: eqx.Module | None = None,
                 width: int = 64, holdout: float = 0.2) -> CriticResult:
    r"""Estimate $I(X;Y)$ by maximising a variational bound (`infonce`, `nwj`, `jsd`, `dv`) over a
    critic with Adam, on random batches of the paired samples `x` (n, d_x), `y` (n, d_y).

    A bound evaluated on the samples it was trained on is not an estimate: the critic overfits
    (measured on a 5 × 5 Gaussian task, true MI 0.593 nats, 1,600 training pairs, this function's
    former default of training-set evaluation: InfoNCE 1.61 on the training pairs, −0.64 on
    held-out ones). With `holdout` (default 0.2) the pairs are shuffled (`key`) and a fraction
    `holdout` is held out: its first half validates the critic after every step and the critic of
    the best validation bound is kept (early stopping), its second half gives `estimate`.
    `holdout=0` trains on all pairs and estimates on them (the bound of the fitted critic).

    Returns a :class:`CriticResult`. `estimate` averages the bound over disjoint batches of
    `batch_size` test pairs (one batch if there are fewer); for `jsd` it is the NWJ bound of the
    shifted critic. Pure and jitted: vmap it over keys or data sets for sweeps. InfoNCE
    estimates are capped at log(batch size)."""
    check_choice("bound", bound, set(BOUNDS))
    x, y = check_paired(("x", "y"), x, y)
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"`lr` must be a finite number > 0, got {lr!r}")
    if isinstance(holdout, bool) or not (isinstance(holdout, (int, float)) and 0 <= holdout < 1):
        raise ValueError(f"`holdout` must be in [0, 1), got {holdout!r}")
    kc, kt, ks = jax.random.split(key, 3)
    n = x.shape[0]
    n_hold = int(round(holdout * n))
    if holdout and n_hold < 4:
        raise ValueError(f"`holdout` = {holdout} of n = {n} pairs leaves {n_hold} held-out pairs; "
                         f"at least 4 are needed (2 to validate, 2 to estimate)")
    if n_hold:
        perm = jax.random.permutation(ks, n)
        x, y = x[perm], y[perm]
    x_fit, y_fit = x[: n - n_hold], y[: n - n_hold]
    n_val = n_hold // 2
    x_val, y_val = x[n - n_hold: n - n_hold + min(n_val, batch_size)], \
        y[n - n_hold: n - n_hold + min(n_val, batch_size)]
    x_test, y_test = (x[n - n_hold + n_val:], y[n - n_hold + n_val:]) if n_hold else (x, y)
    if not 2 <= batch_size <= x_fit.shape[0]:
        raise ValueError(f"`batch_size` must be in [2, {x_fit.shape[0]}] (the training pairs), "
                         f"got {batch_size}")
    if critic is None:
        critic = SeparableCritic(x.shape[1], y.shape[1], key=kc, width=width)
    critic = jax.tree.map(lambda a: a.astype(x.dtype) if eqx.is_inexact_array(a) else a, critic)
    critic, history, validation, best = _train(critic, x_fit, y_fit, kt, bound, steps,
                                               batch_size, lr, x_val, y_val)
    return CriticResult(critic=critic, history=history,
                        validation=validation if n_hold else validation[:0], best_step=best,
                        estimate=_batched_estimate(critic, x_test, y_test, bound, batch_size),
                        train_estimate=_batched_estimate(critic, x_fit, y_fit, bound, batch_size))
