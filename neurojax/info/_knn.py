r"""Nearest-neighbour estimators: Kozachenko–Leonenko entropy and Kraskov–Stögbauer–Grassberger MI.

Neighbour queries run on a k-d tree on a CPU or as brute-force JAX tiles (jit/vmap-able, the
accelerator path): `neurojax/info/_neighbours.py`.
"""

import functools

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln
from jaxtyping import Array, Float

from .._checks import check_choice, check_positive_int, check_samples
from ._neighbours import (
    brute_counts,
    cheb,
    chunk_rows,
    chunked_rows,
    euclid,
    kdtree_counts,
    kth_distance,
    resolve_method,
)


def _check_k(k, n):
    k = check_positive_int("k", k)
    if k >= n:
        raise ValueError(f"`k` must be < the number of samples ({n}), got {k}")
    return k


@functools.partial(jax.jit, static_argnames=("k", "chunk"))
def _brute(joint, marginals, k, chunk):
    return brute_counts(joint, marginals, k, chunk)


def _counts(joint, marginals, k, method, chunk):
    """`(eps, counts)` on the backend `method` resolves to (`_neighbours`)."""
    how = resolve_method(method, joint, *marginals)
    if how == "kdtree":
        eps, counts = kdtree_counts(joint, marginals, k)
        return jnp.asarray(eps, joint.dtype), tuple(jnp.asarray(c) for c in counts)
    return _brute(joint, tuple(marginals), k, chunk_rows(chunk, joint.shape[0]))


def _pair(x, y, names=("x", "y")):
    x, y = check_samples(names[0], x), check_samples(names[1], y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"`{names[0]}` and `{names[1]}` must have the same number of samples, "
                         f"got {x.shape[0]} and {y.shape[0]}")
    dtype = jnp.result_type(x, y)
    return x.astype(dtype), y.astype(dtype)


def ksg_mi(x, y, k: int = 3, *, method: str = "auto", chunk: int | None = None) -> Float[Array, ""]:
    r"""KSG estimator 1 of $I(X;Y)$ in nats (Kraskov, Stögbauer & Grassberger 2004, eq. 8):

    $\hat I = \psi(k) + \psi(n) - \langle \psi(n_x + 1) + \psi(n_y + 1) \rangle$, where $\epsilon_i$
    is the max-norm distance from $(x_i, y_i)$ to its k-th neighbour in the joint space and
    $n_x(i)$ ($n_y(i)$) counts the other points strictly closer than $\epsilon_i$ in the marginal
    space. `x`: (n,) or (n, d_x); `y`: (n,) or (n, d_y). `method`: the neighbour backend,
    `"auto"` (a k-d tree on a CPU for concrete inputs, brute-force JAX tiles otherwise: under
    jit/vmap and on accelerators), `"brute"` or `"kdtree"` (see `neurojax/info/_neighbours.py`);
    both give the same value."""
    x, y = _pair(x, y)
    k = _check_k(k, x.shape[0])
    n = x.shape[0]
    _, (nx, ny) = _counts(jnp.concatenate([x, y], axis=1), (x, y), k, method, chunk)
    return digamma(k) + digamma(n) - jnp.mean(digamma(nx + 1.0) + digamma(ny + 1.0))


def ksg_cmi(x, y, z, k: int = 3, *, method: str = "auto", chunk: int | None = None) -> Float[Array, ""]:
    r"""Conditional mutual information $I(X;Y \mid Z)$ in nats by the Frenzel & Pompe (2007)
    estimator (KSG-style conditioning):

    $\hat I = \psi(k) - \langle \psi(n_{xz} + 1) + \psi(n_{yz} + 1) - \psi(n_z + 1) \rangle$,
    $\epsilon_i$ the max-norm distance to the k-th neighbour in the joint $(x, y, z)$ space and
    $n_{xz}(i)$, $n_{yz}(i)$, $n_z(i)$ the other points strictly closer than $\epsilon_i$ in those
    subspaces (NPEET's `cmi`, without its added noise). Shapes (n,) or (n, d) each; `method` as
    :func:`ksg_mi`."""
    x, y = _pair(x, y)
    x, z = _pair(x, z, ("x", "z"))
    y = y.astype(x.dtype)
    k = _check_k(k, x.shape[0])
    xz, yz = jnp.concatenate([x, z], axis=1), jnp.concatenate([y, z], axis=1)
    joint = jnp.concatenate([x, y, z], axis=1)
    _, (nxz, nyz, nz) = _counts(joint, (xz, yz, z), k, method, chunk)
    return digamma(k) - jnp.mean(digamma(nxz + 1.0) + digamma(nyz + 1.0) - digamma(nz + 1.0))


@functools.partial(jax.jit, static_argnames=("k", "chunk", "metric"))
def _kl(x, k, chunk, metric):
    n, d = x.shape
    dist = cheb if metric == "chebyshev" else euclid
    eps = chunked_rows(lambda rows: kth_distance(dist(x, rows), rows, k), n, chunk)
    if metric == "chebyshev":
        log_vol = d * jnp.log(2.0)  # unit ball of the max-norm: the cube [-1, 1]^d
    else:
        log_vol = 0.5 * d * jnp.log(jnp.pi) - gammaln(0.5 * d + 1)
    return digamma(n) - digamma(k) + log_vol + d * jnp.mean(jnp.log(eps))


def kl_entropy(x, k: int = 3, *, metric: str = "euclidean", chunk: int | None = None) -> Float[Array, ""]:
    r"""Kozachenko–Leonenko estimate of the differential entropy (nats) of samples `x` (n, d):

    $\hat h = \psi(n) - \psi(k) + \log V_d + \frac{d}{n}\sum_i \log \epsilon_i$, $\epsilon_i$ the
    distance to the k-th neighbour and $V_d$ the volume of the unit ball of `metric`
    (`euclidean` or `chebyshev`). Duplicate points make $\epsilon_i = 0$ and the estimate -inf."""
    check_choice("metric", metric, {"euclidean", "chebyshev"})
    x = check_samples("x", x)
    k = _check_k(k, x.shape[0])
    return _kl(x, k, chunk_rows(chunk, x.shape[0]), metric)
