r"""Variational lower bounds on mutual information as functions of a critic's score matrix.

`scores[i, j] = f(x_i, y_j)` for a batch of B pairs: the diagonal holds samples of the joint
$p(x, y)$, the off-diagonal entries samples of the product of marginals $p(x)p(y)$. Each function
returns the bound (an MI estimate in nats, to maximise); its negative is the training loss.
Poole et al., "On variational bounds of mutual information" (ICML 2019); seed 003.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_choice


def _square(scores):
    s = jnp.asarray(scores)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] < 2:
        raise ValueError(f"`scores` must be a square (B, B) matrix with B >= 2, got {s.shape}")
    return s


def _log_mean_exp_off_diagonal(s):
    """log of the mean of exp(f_ij) over the B(B-1) pairs i != j (samples of p(x)p(y))."""
    b = s.shape[0]
    off = jnp.where(jnp.eye(b, dtype=bool), -jnp.inf, s)
    return jax.nn.logsumexp(off) - jnp.log(b * (b - 1.0))


def infonce(scores: Float[ArrayLike, "b b"]) -> Float[Array, ""]:
    r"""InfoNCE (CPC): $\frac1B\sum_i \bigl[f_{ii} - \log\frac1B\sum_j e^{f_{ij}}\bigr] \le I$.

    Never exceeds $\log B$ (each term is a log-softmax plus $\log B$), so it saturates for
    $I > \log B$."""
    s = _square(scores)
    b = s.shape[0]
    return jnp.mean(jnp.diagonal(s) - jax.nn.logsumexp(s, axis=1)) + jnp.log(b)


def nwj(scores: Float[ArrayLike, "b b"]) -> Float[Array, ""]:
    r"""NWJ / f-GAN KL bound: $\mathbb E_p[f] - e^{-1}\,\mathbb E_{p(x)p(y)}[e^{f}]$; tight at
    $f^* = 1 + \log\frac{p(x,y)}{p(x)p(y)}$."""
    s = _square(scores)
    return jnp.mean(jnp.diagonal(s)) - jnp.exp(_log_mean_exp_off_diagonal(s) - 1.0)


def donsker_varadhan(scores: Float[ArrayLike, "b b"]) -> Float[Array, ""]:
    r"""Donsker–Varadhan (MINE): $\mathbb E_p[f] - \log\mathbb E_{p(x)p(y)}[e^{f}]$; tight at
    $f^* = \log\frac{p(x,y)}{p(x)p(y)} + c$ for any constant c."""
    s = _square(scores)
    return jnp.mean(jnp.diagonal(s)) - _log_mean_exp_off_diagonal(s)


def jensen_shannon(scores: Float[ArrayLike, "b b"]) -> Float[Array, ""]:
    r"""Jensen–Shannon objective of Deep InfoMax: $\mathbb E_p[-\mathrm{sp}(-f)] -
    \mathbb E_{p(x)p(y)}[\mathrm{sp}(f)]$, sp = softplus. Not itself an MI estimate: its optimal critic
    is $\log\frac{p(x,y)}{p(x)p(y)}$, so MI is then read off with `nwj(scores + 1)` (Poole et al.)."""
    s = _square(scores)
    b = s.shape[0]
    off = jnp.where(jnp.eye(b, dtype=bool), 0.0, jax.nn.softplus(s))
    return jnp.mean(-jax.nn.softplus(-jnp.diagonal(s))) - jnp.sum(off) / (b * (b - 1.0))


BOUNDS = {"infonce": infonce, "nwj": nwj, "dv": donsker_varadhan, "jsd": jensen_shannon}


def mi_estimate(scores, bound: str):
    """The MI estimate that goes with a training objective: the bound itself, or for `jsd` the
    NWJ bound of the shifted critic `scores + 1`."""
    check_choice("bound", bound, set(BOUNDS))
    scores = jnp.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"`scores` must be a square (b, b) critic matrix, got shape {scores.shape}")
    return nwj(scores + 1.0) if bound == "jsd" else BOUNDS[bound](scores)
