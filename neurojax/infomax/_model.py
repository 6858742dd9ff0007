"""The recurrent InfoMax network of seed 000: parameters and the tonotopic initialisation."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite, check_float_dtype, check_positive_int, check_shape
from ._equilibrium import equilibrium


class RecurrentInfoMax(eqx.Module):
    r"""Recurrent InfoMax network $g^* = \sigma(W\tilde x + K g^*)$ (seed 000, Dotan & Shriki 2021).

    - `W`: feed-forward weights, shape `(n_out, n_in + threshold)`. With `threshold=True` the input is
      augmented, $\tilde x = [x, -1]$, and the last column of `W` is a learned threshold.
    - `K`: lateral weights, shape `(n_out, n_out)`; learning keeps its diagonal at zero.

    Call a model on ONE input `x` of shape `(n_in,)` to get the equilibrium output $g^*$; batch with
    `jax.vmap`. See :func:`neurojax.infomax.equilibrium` for solver options.
    """

    W: Float[Array, "n_out n_w"]
    K: Float[Array, "n_out n_out"]
    n_in: int = eqx.field(static=True)
    n_out: int = eqx.field(static=True)
    threshold: bool = eqx.field(static=True)

    def __init__(self, W, K=None, *, threshold: bool = True):
        W = jnp.asarray(W)
        if W.ndim != 2:
            raise ValueError(f"`W` must be a 2-d array (n_out, n_in + threshold), got shape {W.shape}")
        n_out, n_w = W.shape
        check_positive_int("n_out", n_out)
        n_in = n_w - int(threshold)
        if n_in <= 0:
            raise ValueError(f"`W` must have at least {1 + int(threshold)} columns, got {n_w}")
        K = jnp.zeros((n_out, n_out), W.dtype) if K is None else jnp.asarray(K)
        if K.ndim != 2 or K.shape[0] != K.shape[1]:
            raise ValueError(f"`K` must be square (n_out, n_out), got shape {K.shape}")
        check_shape("K", K, (n_out, n_out))
        for name, a in (("W", W), ("K", K)):
            check_float_dtype(name, a)
            check_finite(name, a)
        self.W, self.K = W, K
        self.n_in, self.n_out, self.threshold = int(n_in), int(n_out), bool(threshold)

    @classmethod
    def tonotopic(cls, n_in: int, n_out: int, *, threshold: bool = True, dtype=None):
        r"""The seed's tonotopic Gaussian initialisation, $K = 0$.

        Input and output best frequencies are spaced evenly on [20, 510]; row $i$ of $W$ is a Gaussian
        (σ = 10) of the input frequencies centred on output $i$, scaled so that $\sum W = 0.01\,n_{out}$.
        The threshold column starts at 0.

        Deliberate difference from the seed: entries that are positive in float64 but smaller than the
        smallest *normal* number of `dtype` are raised to that number. XLA's CPU backend flushes
        subnormals to zero, which would make the seed's L1 sign-decay see 0 instead of +1 there
        (docs/infomax.md, "Numerics"); the change is below 2.3e-308
        (float64).
        """
        n_in = check_positive_int("n_in", n_in)
        n_out = check_positive_int("n_out", n_out)
        dtype = jnp.zeros(0, dtype).dtype  # resolves None to the default float dtype (x64 aware)
        f_inp = np.linspace(20.0, 510.0, n_in)
        f_out = np.linspace(20.0, 510.0, n_out)
        sigma = (f_inp[-1] - f_inp[0]) / 49 if n_in > 1 else 10.0
        z = (f_inp[None, :] - f_out[:, None]) / sigma
        w = np.exp(-0.5 * z**2) / (sigma * np.sqrt(2 * np.pi))
        w = 0.01 * w / (w.sum() / n_out)
        tiny = np.finfo(dtype).tiny
        w = np.where((w > 0) & (w < tiny), tiny, w)
        if threshold:
            w = np.concatenate([w, np.zeros((n_out, 1))], axis=1)
        return cls(jnp.asarray(w, dtype), jnp.zeros((n_out, n_out), dtype), threshold=threshold)

    def augment(self, x: Float[ArrayLike, " n_in"]) -> Float[Array, " n_w"]:
        r"""$\tilde x = [x, -1]$ with a threshold input, else $x$; checks the length of `x`."""
        if x.shape != (self.n_in,):
            raise ValueError(f"`x` must have shape ({self.n_in},) for this model, got {x.shape}")
        if self.threshold:
            return jnp.concatenate([x, -jnp.ones((1,), x.dtype)])
        return x

    def __call__(self, x: Float[ArrayLike, " n_in"]) -> Float[Array, " n_out"]:
        """Equilibrium output $g^*(x)$ with the default solver settings; NaN where the fixed point
        did not converge (:func:`~neurojax.infomax.equilibrium` returns the status and the last
        iterate)."""
        r = equilibrium(self, x)
        return jnp.where(r.converged, r.g, jnp.nan)
