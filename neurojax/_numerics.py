"""Shared scalar numerics: the one logistic sigmoid of the package and its derivatives."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def sigmoid(x: ArrayLike) -> Float[Array, "..."]:
    r"""Logistic function $\sigma(x) = 1 / (1 + e^{-x})$ (numerically stable)."""
    return jax.nn.sigmoid(x)


def sigmoid_derivatives(
    x: ArrayLike,
) -> tuple[Float[Array, "..."], Float[Array, "..."], Float[Array, "..."]]:
    r"""$\sigma$, $\sigma' = \sigma(1-\sigma)$ and $\sigma'' = \sigma'(1-2\sigma)$ at `x`.

    The seed's expressions (`Infomax._gfunc`, seed 000), evaluated as $\sigma' = \sigma(x)\sigma(-x)$
    and $\sigma'' = \sigma'(\sigma(-x) - \sigma(x))$: $1 - \sigma(x)$ computed by subtraction keeps
    few digits once $\sigma(x)$ is near 1 (float32: 3 at x = 10; exactly 0 from x ≈ 17, float64
    from x ≈ 37), $\sigma(-x)$ keeps them all.
    """
    g = sigmoid(x)
    gm = sigmoid(-jnp.asarray(x))
    gp = g * gm
    gpp = gp * (gm - g)
    return g, gp, gpp
