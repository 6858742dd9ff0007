"""Shared scalar numerics: the one logistic sigmoid of the package and its derivatives."""

import jax
from jaxtyping import Array, ArrayLike, Float


def sigmoid(x: ArrayLike) -> Float[Array, "..."]:
    r"""Logistic function $\sigma(x) = 1 / (1 + e^{-x})$ (numerically stable)."""
    return jax.nn.sigmoid(x)


def sigmoid_derivatives(
    x: ArrayLike,
) -> tuple[Float[Array, "..."], Float[Array, "..."], Float[Array, "..."]]:
    r"""$\sigma$, $\sigma' = \sigma(1-\sigma)$ and $\sigma'' = \sigma'(1-2\sigma)$ at `x`.

    The same expressions as the seed's `Infomax._gfunc` (seed 000).
    """
    g = sigmoid(x)
    gp = g * (1 - g)
    gpp = gp * (1 - 2 * g)
    return g, gp, gpp
