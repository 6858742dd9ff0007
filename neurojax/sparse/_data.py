r"""Signals for the sparse-coding story (seed 002) built from data that ships with scikit-learn:
the tutorial's MNIST video and CIFAR patches cannot be downloaded here, so we use
`load_sample_images` (two photos) and `load_digits` (8×8 digits), plus generated sinusoids."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_number, check_positive_int


def sample_images(*, downsample: int = 2) -> np.ndarray:
    """scikit-learn's two sample photos as grey float images in [0, 1], block-averaged by
    `downsample` (default 2: 213 × 320 each). Returns `(2, h, w)` float64 NumPy."""
    from sklearn.datasets import load_sample_images

    downsample = check_positive_int("downsample", downsample)
    ims = np.stack([im.mean(-1) / 255.0 for im in load_sample_images().images])
    h = ims.shape[1] // downsample * downsample
    w = ims.shape[2] // downsample * downsample
    ims = ims[:, :h, :w].reshape(ims.shape[0], h // downsample, downsample, w // downsample,
                                 downsample)
    return ims.mean((2, 4))


def panning_pixel(*, row: int = 100, image: int = 0, speed: float = 0.25) -> np.ndarray:
    """What one pixel of a camera panning horizontally across a natural photo sees: row `row` of
    sample image `image` (`sample_images(downsample=1)`), read at `speed` pixels per frame with
    linear interpolation. Returns a 1-D float64 signal."""
    image = check_positive_int("image", image, allow_zero=True)
    row = check_positive_int("row", row, allow_zero=True)
    speed = check_number("speed", speed, low=0.0, strict=True)
    ims = sample_images(downsample=1)
    if not 0 <= image < ims.shape[0] or not 0 <= row < ims.shape[1]:
        raise ValueError(f"`image`/`row` out of range for images of shape {ims.shape}")
    if not speed > 0:
        raise ValueError(f"`speed` must be > 0, got {speed}")
    line = ims[image, row]
    pos = np.arange(0, line.size - 1, speed)
    return np.interp(pos, np.arange(line.size), line)


def digits_video(n_digits: int = 60, fade: int = 10, *, key: PRNGKeyArray) -> np.ndarray:
    """The tutorial's digit video with scikit-learn's 8×8 digits: `n_digits` random digits, each
    cross-faded linearly into the next over `fade` frames. Returns frames `(n_digits·fade, 64)`
    in [0, 1]."""
    from sklearn.datasets import load_digits

    n_digits = check_positive_int("n_digits", n_digits)
    fade = check_positive_int("fade", fade)
    data = load_digits().data / 16.0
    idx = np.asarray(jax.random.choice(key, data.shape[0], (n_digits + 1,)))
    s = (np.arange(fade) / fade)[None, :, None]
    frames = (1 - s) * data[idx[:-1], None] + s * data[idx[1:], None]
    return frames.reshape(-1, data.shape[1])


def sinusoid_dictionary(length: int, n_freqs: int) -> Float[Array, "length atoms"]:
    r"""Unit-norm atoms $\cos(2\pi k t / T)$ and $\sin(2\pi k t / T)$, $k = 1..n_\text{freqs}$, on
    $T$ = `length` samples: a `(length, 2·n_freqs)` dictionary (orthonormal when
    $n_\text{freqs} < T/2$)."""
    length = check_positive_int("length", length)
    n_freqs = check_positive_int("n_freqs", n_freqs)
    t = jnp.arange(length)[:, None] / length
    k = jnp.arange(1, n_freqs + 1)[None, :]
    D = jnp.concatenate([jnp.cos(2 * jnp.pi * k * t), jnp.sin(2 * jnp.pi * k * t)], axis=1)
    return D / jnp.linalg.norm(D, axis=0)
