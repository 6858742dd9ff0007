"""Learning rules of seed 000: the seed's exact update, and the same rule as an optax transformation."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_number


class OnlineRates(eqx.Module):
    r"""The rates and penalties of the InfoMax learning rule, and the rule itself (:meth:`apply`):

    $W \leftarrow (W - \eta_W\lambda_W\,\mathrm{sign}\,W) + \eta_W\nabla_W J$ (L1 sign-decay),
    $K \leftarrow (K - \eta_K\lambda_K K) + \eta_K\nabla_K J$ (L2 decay; K's diagonal stays 0).

    Each field is a scalar or has an ensemble's leading member axis. The seed's names: `FF_eta`,
    `FF_ridge`, `Rec_eta`, `Rec_ridge` (docs/paper.md, "The protocol")."""

    # each a scalar or one value per member, independently (numbers are accepted)
    ff_eta: ArrayLike
    ff_l1: ArrayLike
    rec_eta: ArrayLike
    rec_l2: ArrayLike

    def apply(self, W, K, grad_W, grad_K, *, learn_W: bool = True, learn_K: bool = True,
              where=None):
        """`(W, K)` after one step of the rule along the ascent gradients (a leading member axis
        on all four, or none); `where` (members,) keeps the weights of the members where it is
        False. THE one definition of the rule (:func:`seed_update`, the online learner)."""
        def col(r, like):
            r = jnp.asarray(r)
            return r.reshape(r.shape + (1,) * (like.ndim - r.ndim)) if r.ndim else r

        def keep(new, old):
            return new if where is None else jnp.where(col(where, old), new, old)

        if learn_W:
            eta = col(self.ff_eta, W)
            W = keep((W - eta * col(self.ff_l1, W) * jnp.sign(W)) + eta * grad_W, W)
        if learn_K:
            eta = col(self.rec_eta, K)
            off = 1 - jnp.eye(K.shape[-1], dtype=K.dtype)
            K = keep((K - eta * col(self.rec_l2, K) * K) + eta * (grad_K * off), K)
        return W, K


def seed_update(
    model,
    grads,
    *,
    ff_eta: float = 0.1,
    rec_eta: float = 0.001,
    ff_l1: float = 0.001,
    rec_l2: float = 0.209,
    learn_W: bool = True,
    learn_K: bool = True,
):
    r"""One step of seed 000's `Infomax.learn` given mean ascent gradients (:func:`infomax_grads`):
    :meth:`OnlineRates.apply` on a model. The seed's names: `FF_eta`, `Rec_eta`, `FF_ridge`,
    `Rec_ridge`; `learn_W=False` is `FF_eta = 0`."""
    for name, value in (("ff_eta", ff_eta), ("rec_eta", rec_eta), ("ff_l1", ff_l1),
                        ("rec_l2", rec_l2)):
        check_number(name, value, low=0.0)
    rates = OnlineRates(ff_eta=ff_eta, ff_l1=ff_l1, rec_eta=rec_eta, rec_l2=rec_l2)
    W, K = rates.apply(model.W, model.K, grads.W, grads.K, learn_W=learn_W and ff_eta != 0,
                       learn_K=learn_K and rec_eta != 0)
    return eqx.tree_at(lambda m: (m.W, m.K), model, (W, K))


def add_l1_sign_decay(weight: float | Float[Array, ""]) -> optax.GradientTransformation:
    r"""Add $\lambda\,\mathrm{sign}(p)$ to the updates (the sub-gradient of an L1 penalty $\lambda\|p\|_1$)."""
    weight = check_number("weight", weight, low=0.0)

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("add_l1_sign_decay needs `params` passed to `update`")
        return jax.tree_util.tree_map(lambda u, p: u + weight * jnp.sign(p), updates, params), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def zero_diagonal() -> optax.GradientTransformation:
    """Zero the diagonal of every square matrix update (keeps K's self-connections at 0)."""

    def update(updates, state, params=None):
        del params

        def mask(u):
            return u * (1 - jnp.eye(u.shape[-1], dtype=u.dtype))

        return jax.tree_util.tree_map(mask, updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _labels(params):
    return eqx.tree_at(lambda m: (m.W, m.K), params, ("W", "K"))


def _rule(ff_eta, rec_eta, ff_l1, rec_l2, learn_W, learn_K):
    w_tx = (optax.chain(add_l1_sign_decay(ff_l1), optax.scale(-ff_eta)) if learn_W
            else optax.set_to_zero())
    k_tx = (optax.chain(optax.add_decayed_weights(rec_l2), zero_diagonal(), optax.scale(-rec_eta))
            if learn_K else optax.set_to_zero())
    return optax.multi_transform({"W": w_tx, "K": k_tx}, _labels)


@functools.lru_cache(maxsize=64)  # same settings -> same object -> no jit recompilation
def infomax_optimizer(
    *,
    ff_eta: float = 0.1,
    rec_eta: float = 0.001,
    ff_l1: float = 0.001,
    rec_l2: float = 0.209,
    learn_W: bool = True,
    learn_K: bool = True,
) -> optax.GradientTransformation:
    r"""The seed's learning rule as an optax transformation acting on gradients of the *loss* $-J$.

    W: L1 sign-decay then SGD with rate $\eta_W$; K: L2 decay, zero-diagonal mask, SGD with rate
    $\eta_K$; a frozen part (`learn_W=False`, or a zero rate) gets `optax.set_to_zero()` (via
    `optax.multi_transform`). Applying it to $-\nabla J$ gives exactly :func:`seed_update`. Swap in
    any optax chain for other optimisers.

    The rates and penalties are hyperparameters in the optimizer state
    (`optax.inject_hyperparams`, in the parameters' dtype): `state.hyperparams["rec_l2"]` is λ_K,
    so one optimizer serves an ensemble of penalties (:func:`with_hyperparams`, e.g. vmapped).
    """
    for name, value in (("ff_eta", ff_eta), ("rec_eta", rec_eta), ("ff_l1", ff_l1),
                        ("rec_l2", rec_l2)):
        check_number(name, value, low=0.0)
    return optax.inject_hyperparams(_rule, static_args=("learn_W", "learn_K"))(
        ff_eta=ff_eta, rec_eta=rec_eta, ff_l1=ff_l1, rec_l2=rec_l2,
        learn_W=bool(learn_W and ff_eta != 0), learn_K=bool(learn_K and rec_eta != 0))


def with_hyperparams(opt_state, **values):
    """`opt_state` of :func:`infomax_optimizer` with hyperparameters replaced (`rec_l2=λ_K`,
    `ff_eta=`, ...; values may be traced, e.g. under `jax.vmap` over penalties). Unknown names
    raise ValueError."""
    if not hasattr(opt_state, "hyperparams"):
        raise TypeError(f"`opt_state` must be the state of infomax_optimizer() (it has "
                        f"`hyperparams`), got {type(opt_state).__name__}")
    unknown = sorted(set(values) - set(opt_state.hyperparams))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(opt_state.hyperparams)}")
    hp = {k: jnp.asarray(values.get(k, v), jnp.result_type(v)) for k, v in opt_state.hyperparams.items()}
    return opt_state._replace(hyperparams=hp)
