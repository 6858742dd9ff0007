"""Inputs of seed 000: random tone complexes plus noise, and frequency-dependent attenuation."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_finite, check_number, check_positive_int
from .._numerics import sigmoid


def tones(
    n_in: int,
    n_samples: int,
    *,
    key: PRNGKeyArray,
    n_tones_max: int = 5,
    a_min: float = 7.0,
    a_max: float = 10.0,
    noise_fac: float = 0.5,
    white_noise: float = 0.5,
    dtype=None,
) -> Float[Array, "n_samples n_in"]:
    r"""Seed 000's `generate_input`, same distribution, samples along the leading axis.

    Each sample sums $m \sim U\{1..n_{tones,max}\}$ Gaussian bumps over channels $j = 1..n_{in}$:
    $x_j = \sum_k a_k \exp(-\tfrac12 ((j - c_k)/s_k)^2)$ with $c_k \sim n_{in}U(0,1)$,
    $s_k = \tfrac12 n_{in}|N(0,1)|$, $a_k \sim U(a_{min}, a_{max})$; then uniform noise in
    $\pm$`noise_fac` plus `white_noise` is added and the whole data set is scaled to $\max|x| = 0.5$.
    (Same distribution as the seed, not the same numbers: JAX's PRNG differs from NumPy's.)

    `dtype`: draw in this float dtype (with int32 tone counts), so that the samples do not depend on
    whether float64 is enabled; default: the default float dtype (and integer type).
    """
    n_in = check_positive_int("n_in", n_in)
    n_samples = check_positive_int("n_samples", n_samples)
    n_tones_max = check_positive_int("n_tones_max", n_tones_max)
    a_min, a_max = check_number("a_min", a_min), check_number("a_max", a_max)
    if a_min > a_max:
        raise ValueError(f"`a_min` ({a_min}) must be <= `a_max` ({a_max})")
    k_n, k_c, k_s, k_a, k_noise = jax.random.split(key, 5)
    shape = (n_samples, n_tones_max)
    fdt = jnp.zeros(0).dtype if dtype is None else jnp.dtype(dtype)
    idt = jnp.zeros(0, int).dtype if dtype is None else jnp.int32
    n_tones = jax.random.randint(k_n, (n_samples, 1), 1, n_tones_max + 1, dtype=idt)
    active = jnp.arange(n_tones_max)[None, :] < n_tones
    centre = n_in * jax.random.uniform(k_c, shape, fdt)
    width = 0.5 * n_in * jnp.abs(jax.random.normal(k_s, shape, fdt))
    amp = a_min + (a_max - a_min) * jax.random.uniform(k_a, shape, fdt)
    j = jnp.arange(1, n_in + 1, dtype=centre.dtype)
    bumps = amp[..., None] * jnp.exp(-0.5 * ((j - centre[..., None]) / width[..., None]) ** 2)
    x = jnp.sum(jnp.where(active[..., None], bumps, 0.0), axis=1)
    x = x + noise_fac * (2 * jax.random.uniform(k_noise, x.shape, x.dtype) - 1) + white_noise
    return 0.5 * x / jnp.max(jnp.abs(x))


def attenuation(
    n_in: int, *, f0: float, beta: float = 10.0, minval: float = 0.0, low: bool = False
) -> Float[Array, " n_in"]:
    r"""Per-channel gain of seed 000's `attenuate_inputs`: $m + (1-m)\,\sigma(\beta(f_0 - j))$, $j = 1..n_{in}$.

    High channels ($j > f_0$) are attenuated towards `minval` ("high-frequency hearing loss");
    `low=True` mirrors it ($\sigma(\beta(j - f_0))$): low channels are attenuated.
    """
    n_in = check_positive_int("n_in", n_in)
    if not 0.0 <= minval <= 1.0:
        raise ValueError(f"`minval` must be in [0, 1], got {minval}")
    beta, f0 = check_number("beta", beta, low=0.0), check_number("f0", f0)
    j = jnp.arange(1, n_in + 1, dtype=jnp.zeros(0).dtype)
    z = beta * (j - f0) if low else beta * (f0 - j)
    return minval + (1 - minval) * sigmoid(z)


def attenuate(
    x: Float[ArrayLike, "*batch n_in"], profile: Float[ArrayLike, " n_in"]
) -> Float[Array, "*batch n_in"]:
    """Scale each input channel by its gain: `x * profile` (broadcast over leading batch axes)."""
    x, profile = jnp.asarray(x), jnp.asarray(profile)
    if profile.ndim != 1 or x.shape[-1:] != profile.shape:
        raise ValueError(
            f"`profile` must have shape ({x.shape[-1]},) to match the last axis of `x`, got {profile.shape}"
        )
    check_finite("profile", profile)
    return x * profile
