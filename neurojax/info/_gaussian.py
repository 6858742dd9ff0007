r"""Closed forms for Gaussians (seed 003): differential entropy, KL divergence, MI between blocks."""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite, check_positive_int, check_square, is_concrete
from .._linalg import logdet_spd, solve


def _covariance(name, cov):
    """`(cov, symmetric)`: `cov` checked square; a covariance must be symmetric (to a few ulps of
    its largest entry): eagerly a ValueError naming it, traced a False flag (the value is NaN)."""
    cov = check_square(name, cov, "covariance")
    tol = 64 * jnp.finfo(cov.dtype).eps * jnp.max(jnp.abs(cov))
    symmetric = jnp.all(jnp.abs(cov - cov.T) <= tol)
    if is_concrete(symmetric) and not bool(symmetric):
        raise ValueError(f"`{name}` must be a symmetric covariance matrix (largest |C - C^T| "
                         f"{float(jnp.max(jnp.abs(cov - cov.T))):.3g})")
    return cov, symmetric


def _nan_unless(ok, value):
    return jnp.where(ok, value, jnp.nan)


def gaussian_entropy(cov: Float[ArrayLike, "d d"]) -> Float[Array, ""]:
    r"""$h(\mathcal N(\mu, \Sigma)) = \tfrac12 \log\det(2\pi e\,\Sigma)$ nats (independent of $\mu$).
    NaN if $\Sigma$ is not positive definite; a non-symmetric `cov` is a ValueError (NaN traced)."""
    cov, symmetric = _covariance("cov", cov)
    d = cov.shape[0]
    return _nan_unless(symmetric, 0.5 * (d * jnp.log(2 * jnp.pi * jnp.e) + logdet_spd(cov)))


def gaussian_kl(mu0, cov0, mu1, cov1) -> Float[Array, ""]:
    r"""$D(\mathcal N_0 \| \mathcal N_1) = \tfrac12\bigl[\mathrm{tr}(\Sigma_1^{-1}\Sigma_0)
    + (\mu_1-\mu_0)^\top\Sigma_1^{-1}(\mu_1-\mu_0) - d + \log\det\Sigma_1 - \log\det\Sigma_0\bigr]$."""
    (cov0, sym0), (cov1, sym1) = _covariance("cov0", cov0), _covariance("cov1", cov1)
    mu0, mu1 = jnp.asarray(mu0), jnp.asarray(mu1)
    d = cov0.shape[0]
    for name, shape, want in (("mu0", mu0.shape, (d,)), ("mu1", mu1.shape, (d,)),
                              ("cov1", cov1.shape, (d, d))):
        if shape != want:
            raise ValueError(f"`{name}` must have shape {want} (d = {d} from `cov0`), got {shape}")
    check_finite("mu0", mu0)
    check_finite("mu1", mu1)
    diff = mu1 - mu0
    rhs = jnp.concatenate([cov0, diff[:, None]], axis=1)
    sol = solve(cov1, rhs)
    kl = 0.5 * (jnp.trace(sol[:, :d]) + diff @ sol[:, d] - d + logdet_spd(cov1) - logdet_spd(cov0))
    return _nan_unless(sym0 & sym1, kl)


def gaussian_mi(cov: Float[ArrayLike, "d d"], d_x: int) -> Float[Array, ""]:
    r"""MI between the first `d_x` and the remaining coordinates of a joint Gaussian:
    $I(X;Y) = \tfrac12\bigl(\log\det\Sigma_{XX} + \log\det\Sigma_{YY} - \log\det\Sigma\bigr)$."""
    cov, symmetric = _covariance("cov", cov)
    d_x = check_positive_int("d_x", d_x)
    if not 0 < d_x < cov.shape[0]:
        raise ValueError(f"`d_x` must be in [1, {cov.shape[0] - 1}], got {d_x}")
    mi = 0.5 * (logdet_spd(cov[:d_x, :d_x]) + logdet_spd(cov[d_x:, d_x:]) - logdet_spd(cov))
    return _nan_unless(symmetric, mi)


def correlated_gaussian_mi(rho, d: int = 1):
    r"""MI of `d` independent pairs $(x_i, y_i)$ with correlation $\rho$: $-\tfrac d2 \log(1-\rho^2)$."""
    d = check_positive_int("d", d)
    rho = jnp.asarray(rho)
    if is_concrete(rho) and not bool(np.all(np.abs(np.asarray(rho)) < 1)):
        raise ValueError(f"`rho` must lie in (-1, 1), got {rho}")
    return -0.5 * d * jnp.log1p(-rho ** 2)


def rho_for_mi(mi, d: int = 1):
    r"""The correlation $\rho$ that gives `mi` nats over `d` pairs: $\sqrt{1 - e^{-2\,mi/d}}$."""
    d = check_positive_int("d", d)
    mi = jnp.asarray(mi)
    if is_concrete(mi) and not bool(np.all(np.isfinite(np.asarray(mi)) & (np.asarray(mi) >= 0))):
        raise ValueError(f"`mi` must be finite and >= 0, got {mi}")
    return jnp.sqrt(-jnp.expm1(-2 * mi / d))
