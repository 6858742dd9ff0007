r"""Natural-image tools for sparse coding (seed 002; Olshausen & Field 1996): patches, whitening, PCA."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._checks import check_finite, check_number, check_positive_int, is_concrete


def extract_patches(images: Float[ArrayLike, "m h w"], size: int, n: int, *,
                    key: PRNGKeyArray) -> Float[Array, "n d"]:
    """`n` random `size`×`size` patches (flattened, row-major) from a stack of grey images."""
    im = jnp.asarray(images)
    im = im[None] if im.ndim == 2 else im
    if im.ndim != 3:
        raise ValueError(f"`images` must be (h, w) or (m, h, w), got shape {im.shape}")
    size, n = check_positive_int("size", size), check_positive_int("n", n)
    if size > min(im.shape[1:]):
        raise ValueError(f"`size` must be <= the image sides {im.shape[1:]}, got {size}")
    check_finite("images", im)
    km, kr, kc = jax.random.split(key, 3)
    which = jax.random.randint(km, (n,), 0, im.shape[0])
    r = jax.random.randint(kr, (n,), 0, im.shape[1] - size + 1)
    c = jax.random.randint(kc, (n,), 0, im.shape[2] - size + 1)
    cut = lambda i, a, b: jax.lax.dynamic_slice(im[i], (a, b), (size, size)).ravel()  # noqa: E731
    return jax.vmap(cut)(which, r, c)


def whiten(images: Float[ArrayLike, "... h w"], *, f0: float | None = None) -> Float[Array, "... h w"]:
    r"""Olshausen–Field whitening in the Fourier domain: multiply the spectrum by
    $|f|\,e^{-(|f|/f_0)^4}$ (flattens the $1/f$ amplitude spectrum of natural images and cuts the
    corners), $f_0$ = 0.4 × the Nyquist frequency by default (in cycles per image); the output is
    scaled to unit variance per image. A constant image has nothing to whiten: a ValueError
    naming `images` eagerly, NaN for that image under `jit`."""
    im = jnp.asarray(images)
    if im.ndim < 2:
        raise ValueError(f"`images` must be at least 2-D (..., h, w), got shape {im.shape}")
    check_finite("images", im)
    flat = jnp.ptp(im.reshape(im.shape[:-2] + (-1,)), axis=-1)
    if is_concrete(flat) and bool(jnp.any(flat == 0)):
        raise ValueError("`images`: a constant image has no structure to whiten (zero variance)")
    h, w = im.shape[-2:]
    fy = jnp.fft.fftfreq(h) * h
    fx = jnp.fft.fftfreq(w) * w
    f = jnp.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    f0 = 0.4 * min(h, w) / 2 if f0 is None else check_number("f0", f0, low=0.0, strict=True)
    spec = jnp.fft.fft2(im - im.mean(axis=(-2, -1), keepdims=True))
    out = jnp.real(jnp.fft.ifft2(spec * f * jnp.exp(-((f / f0) ** 4))))
    sd = jnp.std(out, axis=(-2, -1), keepdims=True)
    return jnp.where(flat[..., None, None] > 0, out / jnp.where(sd > 0, sd, 1), jnp.nan)


class PCAResult(eqx.Module):
    """Result of :func:`pca`: `components` (f, k) as unit-norm columns (the layout of a dictionary
    `D`), their `variances` (k,), and the data `mean` (f,)."""

    components: Float[Array, "f k"]
    variances: Float[Array, " k"]
    mean: Float[Array, " f"]


def pca(X: Float[ArrayLike, "n f"], k: int) -> PCAResult:
    r"""Principal components by SVD of the centred data, as a :class:`PCAResult`."""
    X = jnp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"`X` must be (n_samples, n_features), got shape {X.shape}")
    k = check_positive_int("k", k)
    if k > min(X.shape):
        raise ValueError(f"`k` must be <= min(n_samples, n_features) = {min(X.shape)}, got {k}")
    check_finite("X", X)
    mean = X.mean(0)
    _, s, vt = jnp.linalg.svd(X - mean, full_matrices=False)
    return PCAResult(components=vt[:k].T, variances=s[:k] ** 2 / (X.shape[0] - 1), mean=mean)
