r"""Information through the recurrent InfoMax network (seed 000 meets seed 003).

For an invertible square map $y = g(x)$, $h(Y) = h(X) + \mathbb E\log|\det\chi|$, so the InfoMax
objective $J = \tfrac12\log\det\chi^\top\chi$ averaged over inputs is exactly the output entropy minus
the input entropy. With small additive Gaussian output noise, the linearised channel at x,
$y = \chi\,x + n$, $x \sim \mathcal N(0, \Sigma_x)$, $n \sim \mathcal N(0, \sigma^2 I)$, carries
$I = \tfrac12\log\det(I + \Sigma_x^{1/2}\chi^\top\chi\,\Sigma_x^{1/2}/\sigma^2)$ nats, which for
$\sigma \to 0$ is $J + \tfrac12\log\det\Sigma_x - \tfrac{n_{in}}{2}\log\sigma^2$.
"""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite, check_number
from .._linalg import cholesky, logdet_spd
from ..infomax import sensitivity


def gaussian_channel_mi(chi: Float[ArrayLike, "m n"], input_cov: Float[ArrayLike, "n n"],
                        noise_var: float) -> Float[Array, ""]:
    r"""$I(X; \chi X + N) = \tfrac12\log\det(I_n + L^\top\chi^\top\chi L/\sigma^2)$ with
    $\Sigma_x = LL^\top$ (computed in the input dimension n; equals
    $\tfrac12\log\det(I_m + \chi\Sigma_x\chi^\top/\sigma^2)$)."""
    chi, cov = jnp.asarray(chi), jnp.asarray(input_cov)
    n = chi.shape[1] if chi.ndim == 2 else -1
    if chi.ndim != 2 or cov.shape != (n, n):
        raise ValueError(f"`chi` must be (m, n) and `input_cov` (n, n), got {chi.shape} and "
                         f"{cov.shape}")
    noise_var = check_number("noise_var", noise_var, low=0.0, strict=True)
    check_finite("chi", chi)
    return _channel_mi(chi, cov, noise_var)


def _channel_mi(chi, cov, noise_var):
    check_finite("input_cov", cov)
    n = chi.shape[1]
    chol = cholesky(cov)
    a = chi @ chol
    return 0.5 * logdet_spd(jnp.eye(n, dtype=a.dtype) + a.T @ a / noise_var)


def network_channel_mi(model, x: Float[ArrayLike, " n_in"], *, input_cov, noise_var: float,
                       **solver_kwargs) -> Float[Array, ""]:
    r"""Gaussian-channel MI of the recurrent InfoMax network linearised at input `x`:
    `gaussian_channel_mi(sensitivity(model, x), input_cov, noise_var)` (inputs $x + \delta$,
    $\delta \sim \mathcal N(0, \Sigma_x)$ small, output noise variance $\sigma^2$). NaN where the
    network's fixed point did not converge (as :func:`neurojax.infomax.sensitivity`)."""
    cov = jnp.asarray(input_cov)
    if cov.shape != (model.n_in, model.n_in):
        raise ValueError(f"`input_cov` must be ({model.n_in}, {model.n_in}), got {cov.shape}")
    noise_var = check_number("noise_var", noise_var, low=0.0, strict=True)
    return _channel_mi(sensitivity(model, x, **solver_kwargs), cov, noise_var)
