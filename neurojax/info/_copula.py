r"""Gaussian-copula mutual information (Ince et al. 2017, "A statistical framework for neuroimaging
data analysis based on mutual information estimated via a gaussian copula"; the estimators of
`frites` and the `gcmi` toolbox).

Each variable is copula-normalised: ranked along the samples and mapped to standard normal scores,
$\tilde x = \Phi^{-1}(\mathrm{rank}(x) / (n + 1))$; MI is then that of Gaussians with the sample
covariances, with the analytic bias correction of the Gaussian entropy estimate
($h = \tfrac12\log\det\Sigma$ up to constants; per dimension $d$ of a block,
$-\,d\,\tfrac12(\log 2 - \log(n-1)) - \sum_{j=1}^{d} \tfrac12\psi(\tfrac{n-j}{2})$). The result is a
lower bound on the true MI (exact for Gaussian dependence) that is robust to the marginals.

Samples lie along the leading axis (`(n,)` or `(n, d)`), as everywhere in `neurojax.info`; all
functions are jit- and vmap-able (e.g. MI at every time point of an epoch: `jax.vmap` over a
time axis). Values are in nats; `base=2` gives bits (frites' unit).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, ndtri
from jaxtyping import Array, Float

from .. import _linalg
from .._checks import check_finite, check_paired, check_positive_int, check_samples, is_concrete


def copnorm(x) -> Float[Array, "n *d"]:
    r"""Copula normalisation along the samples (leading) axis: $\Phi^{-1}(r / (n + 1))$ with $r$
    the rank 1..n of each sample per column (ties broken by order, as frites' `ctransform`).
    The result has standard normal marginals and the same rank correlations as `x`."""
    x = jnp.asarray(x)
    if x.ndim == 0:
        raise ValueError(f"`x` must have a samples axis, got shape {x.shape}")
    check_finite("x", x)  # a NaN has no rank
    n = x.shape[0]
    order = jnp.argsort(x, axis=0, stable=True)
    # the inverse permutation by a scatter (a second argsort costs as much as the first)
    ranks = jnp.put_along_axis(jnp.zeros(order.shape, order.dtype), order,
                               jnp.broadcast_to(jnp.arange(1, n + 1).reshape((n,) + (1,) * (x.ndim - 1)),
                                                order.shape).astype(order.dtype),
                               axis=0, inplace=False)
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return ndtri(ranks.astype(dtype) / (n + 1))


def log_scale(base):
    if not (base > 0 and base != 1 and np.isfinite(base)):
        raise ValueError(f"`base` must be finite, > 0 and != 1, got {base}")
    return float(np.log(base))  # a Python float: float32 results stay float32


def _half_logdet(c):
    """½ log det of an SPD matrix (elimination in plain JAX ops for the small blocks here: they
    batch under `vmap`, where per-matrix LAPACK calls would run one by one)."""
    return 0.5 * _linalg.logdet_spd(c)


def entropy_bias(d, n):
    """The analytic bias of ½ log det of a sample covariance of d Gaussian dimensions from n
    samples (subtracted from the raw estimate)."""
    j = jnp.arange(1, d + 1)
    return d * (np.log(2.0) - jnp.log(n - 1.0)) / 2 + jnp.sum(digamma((n - j) / 2.0) / 2)


def gaussian_block_entropies(z, blocks, biascorrect, n):
    """Bias-corrected ½ log det of the covariance of each column subset of `z` (demeaned)."""
    c = z.T @ z / (n - 1)
    out = []
    for cols in blocks:
        idx = np.asarray(cols)
        h = _half_logdet(c[np.ix_(idx, idx)])
        out.append(h - entropy_bias(len(idx), n).astype(h.dtype) if biascorrect else h)
    return out


def _enough(n, d, what="samples"):
    if n < d + 2:
        raise ValueError(f"need at least {d + 2} {what} for {d} Gaussian dimensions, got {n}")


def gaussian_mi_samples(x, y, *, biascorrect: bool = True, base: float = np.e) -> Float[Array, ""]:
    r"""MI of Gaussian samples (no copula): $\tfrac12\log\frac{\det\Sigma_x\det\Sigma_y}
    {\det\Sigma_{xy}}$ from the sample covariances, bias-corrected (frites' `mi_1d_gg`)."""
    x, y = check_paired(("x", "y"), x, y)
    _enough(x.shape[0], x.shape[1] + y.shape[1])
    return _mi_gg(x, y, biascorrect, False) / log_scale(base)


def gaussian_mi_of(x, y):
    """Bias-corrected Gaussian MI (nats) of (n, d) blocks, unchecked: the KSG correction's
    reference (`_reference.py`)."""
    return _mi_gg(x, y, True, False)


def gaussian_cmi_of(x, y, z):
    """Bias-corrected conditional Gaussian MI (nats) of (n, d) blocks, unchecked (as
    :func:`gaussian_mi_of`)."""
    return gaussian_cmi(x, y, z, True)


def _mi_gg(x, y, biascorrect, demeaned):
    n, dx = x.shape
    z = jnp.concatenate([x, y], axis=1)
    z = z if demeaned else z - jnp.mean(z, axis=0)
    hx, hy, hxy = gaussian_block_entropies(z, [range(dx), range(dx, z.shape[1]), range(z.shape[1])],
                                     biascorrect, n)
    return hx + hy - hxy


def gcmi(x, y, *, biascorrect: bool = True, base: float = np.e) -> Float[Array, ""]:
    r"""Gaussian-copula MI between continuous `x` (n,) / (n, d_x) and `y` (n,) / (n, d_y): the
    Gaussian MI of :func:`copnorm`-ed variables (frites' `gcmi_1d_cc`; bits with `base=2`)."""
    x, y = check_paired(("x", "y"), x, y)
    _enough(x.shape[0], x.shape[1] + y.shape[1])
    return _gcmi_cc(x, y, biascorrect) / log_scale(base)


@functools.partial(jax.jit, static_argnames="biascorrect")
def _gcmi_cc(x, y, biascorrect):
    return _mi_gg(copnorm(x), copnorm(y), biascorrect, True)


def gccmi(x, y, z, *, biascorrect: bool = True, base: float = np.e) -> Float[Array, ""]:
    r"""Gaussian-copula conditional MI $I(X;Y\mid Z)$ of continuous variables:
    $h(x,z) + h(y,z) - h(x,y,z) - h(z)$ of the copula-normalised Gaussians (frites'
    `gccmi_1d_ccc`)."""
    x, y, z = check_paired(("x", "y", "z"), x, y, z)
    _enough(x.shape[0], x.shape[1] + y.shape[1] + z.shape[1])
    return _gccmi_ccc(x, y, z, biascorrect) / log_scale(base)


@functools.partial(jax.jit, static_argnames="biascorrect")
def _gccmi_ccc(x, y, z, biascorrect):
    return gaussian_cmi(copnorm(x), copnorm(y), copnorm(z), biascorrect, demeaned=True)


def gaussian_cmi(x, y, z, biascorrect: bool, demeaned: bool = False):
    r"""$I(X;Y\mid Z) = h(x,z) + h(y,z) - h(x,y,z) - h(z)$ of Gaussians from the sample covariance
    of (n, d) blocks (frites' `cmi_1d_ggg`), in nats; shared by :func:`gccmi` and the Gaussian
    transfer entropy."""
    dx, dy, dz = x.shape[1], y.shape[1], z.shape[1]
    w = jnp.concatenate([x, y, z], axis=1)
    w = w if demeaned else w - jnp.mean(w, axis=0)
    X, Y, Z = list(range(dx)), list(range(dx, dx + dy)), list(range(dx + dy, dx + dy + dz))
    hz, hxz, hyz, hxyz = gaussian_block_entropies(w, [Z, X + Z, Y + Z, X + Y + Z], biascorrect,
                                                  x.shape[0])
    return hxz + hyz - hxyz - hz


def gcmi_mixed(x, labels, n_classes: int | None = None, *, biascorrect: bool = True,
               base: float = np.e) -> Float[Array, ""]:
    r"""Gaussian-copula MI between continuous `x` (n,) / (n, d) and a discrete variable `labels`
    (n,) with values 0..n_classes−1, by the Gaussian model of each class (frites'
    `gcmi_model_1d_cd`): $h(\tilde x) - \sum_c \frac{n_c}{n} h(\tilde x \mid c)$ with $\tilde x$
    copula-normalised over all samples. `n_classes` (default: max label + 1, concrete labels
    only) must be static under jit; every class needs at least d + 2 samples."""
    x = check_samples("x", x)
    labels = jnp.asarray(labels)
    if labels.shape != (x.shape[0],):
        raise ValueError(f"`labels` must have shape ({x.shape[0]},) (one per sample of `x`), "
                         f"got {labels.shape}")
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"`labels` must be integers 0..n_classes-1, got dtype {labels.dtype}")
    if is_concrete(labels) and labels.size and int(np.min(np.asarray(labels))) < 0:
        raise ValueError(f"`labels` must be integers 0..n_classes-1, got "
                         f"{int(np.min(np.asarray(labels)))}")
    if n_classes is None:
        if not is_concrete(labels):
            raise ValueError("`n_classes` is required when `labels` is traced (under jit/vmap)")
        n_classes = int(jnp.max(labels)) + 1
    n_classes = check_positive_int("n_classes", n_classes)
    if is_concrete(labels):
        counts = np.bincount(np.asarray(labels), minlength=n_classes)
        if labels.size and (int(jnp.min(labels)) < 0 or int(jnp.max(labels)) >= n_classes):
            raise ValueError(f"`labels` must lie in [0, {n_classes}), got "
                             f"[{int(jnp.min(labels))}, {int(jnp.max(labels))}]")
        if n_classes < 2 or np.count_nonzero(counts) < 2:
            raise ValueError("`labels` must hold at least two classes (MI with a constant is 0)")
        if counts.min() < x.shape[1] + 2:
            raise ValueError(f"every class needs at least {x.shape[1] + 2} samples, got "
                             f"{counts.tolist()}")
    return _mi_model_gd(copnorm(x), labels, n_classes, biascorrect) / log_scale(base)


@functools.partial(jax.jit, static_argnames=("n_classes", "biascorrect"))
def _mi_model_gd(x, labels, n_classes: int, biascorrect: bool):
    n, d = x.shape
    hx = gaussian_block_entropies(x, [range(d)], biascorrect, n)[0]  # copnorm output: mean 0

    def class_h(c):
        m = (labels == c).astype(x.dtype)
        nc = jnp.sum(m)
        xc = (x - jnp.sum(m[:, None] * x, axis=0) / nc) * m[:, None]
        h = _half_logdet(xc.T @ xc / (nc - 1))
        return (h - entropy_bias(d, nc).astype(h.dtype) if biascorrect else h), nc

    hc, nc = jax.vmap(class_h)(jnp.arange(n_classes))
    return hx - jnp.sum(nc / n * hc)

