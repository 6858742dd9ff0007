r"""Higher-order interactions of multiplets of variables: total correlation, dual total correlation
and O-information (Rosas et al. 2019), Gaussian-copula estimates for many multiplets at once.

For a multiplet $X^n = (X_1, \dots, X_n)$, with $X_{-j}$ all variables but $X_j$:

- total correlation $TC = \sum_j H(X_j) - H(X^n)$,
- dual total correlation $DTC = \sum_j H(X_{-j}) - (n - 1)\,H(X^n)$,
- O-information $\Omega = TC - DTC = (n - 2)\,H(X^n) + \sum_j [H(X_j) - H(X_{-j})]$;
  $\Omega > 0$: redundancy dominates, $\Omega < 0$: synergy.

Two estimators, those of the JAX library `hoi` (by the authors of frites):

- `"gc"` (Gaussian copula, default): each variable is copula-normalised once (its ranks mapped
  to a standard normal) and demeaned; every entropy is then the Gaussian entropy of a principal
  submatrix of the one covariance matrix $C$ of all variables, with the analytic bias
  correction of Ince et al. (2017). One multiplet costs one elimination of its $n \times n$
  block: $\log\det C_{-j} = \log\det C + \log (C^{-1})_{jj}$ gives all $n$ leave-one-out
  determinants from it. The multiplets run as ONE vmapped program in plain JAX ops.
- `"knn"`: every entropy by Kozachenko–Leonenko with Euclidean k-th-neighbour distances of the
  raw data. Squared distances add over variables, so the per-variable squared-distance matrices
  are computed once and each multiplet's joint and leave-one-out distances are sums of them
  (O(n²) memory per variable; multiplets one after the other, `lax.map`). Unlike hoi's, the
  estimate is not clipped at 0: a differential entropy may be negative.
"""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .. import _linalg
from .._checks import check_choice, check_positive_int, check_samples
from ._copula import copnorm, entropy_bias, log_scale
from ._knn import kl_from_distances
from ._neighbours import kth_distance


class HigherOrderResult(eqx.Module):
    """Result of :func:`higher_order`: the `multiplets` (m, order) (column indices of `x`) and, per
    multiplet, the total correlation `tc`, dual total correlation `dtc` and O-information `oinfo`
    (in units of `log(base)`), and whether every covariance block was positive definite (`valid`;
    its values are NaN where not)."""

    multiplets: Int[Array, "m order"]
    tc: Float[Array, " m"]
    dtc: Float[Array, " m"]
    oinfo: Float[Array, " m"]
    valid: Array


def _multiplets(n_features, order, multiplets):
    if multiplets is None:
        count = math.comb(n_features, order)
        if count > 10_000_000:
            raise ValueError(f"{count} multiplets of order {order} from {n_features} variables: pass "
                             f"`multiplets` explicitly")
        return np.array(list(itertools.combinations(range(n_features), order)), np.int32).reshape(
            -1, order)
    m = np.asarray(multiplets)
    if m.ndim != 2 or m.shape[1] != order or not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"`multiplets` must be integers of shape (m, order = {order}), got "
                         f"{m.shape} {m.dtype}")
    if m.size and (m.min() < 0 or m.max() >= n_features):
        raise ValueError(f"`multiplets` must index the {n_features} columns of `x`")
    if any(len(set(row)) != order for row in m.tolist()):
        raise ValueError("`multiplets` must not repeat a variable within a multiplet")
    return m.astype(np.int32)


def _entropies(c, biascorrect, n):
    """`(H(X^n), [H(X_-j)]_j, [H(X_j)]_j)` in nats of the Gaussian with covariance `c` (k × k),
    bias-corrected for `n` samples; NaN if `c` is not positive definite."""
    k = c.shape[-1]
    logdet, inv = _linalg.logdet_and_inverse_spd(c, "elimination")
    const = 0.5 * (np.log(2 * np.pi) + 1.0)
    h_all = 0.5 * logdet + k * const
    h_minus = 0.5 * (logdet + jnp.log(jnp.diagonal(inv))) + (k - 1) * const
    h_one = 0.5 * jnp.log(jnp.diagonal(c)) + const
    if biascorrect:
        h_all = h_all - entropy_bias(k, n).astype(c.dtype)
        h_minus = h_minus - entropy_bias(k - 1, n).astype(c.dtype)
        h_one = h_one - entropy_bias(1, n).astype(c.dtype)
    return h_all, h_minus, h_one


ESTIMATORS = ("gc", "knn")


def higher_order(x: Float[ArrayLike, "n d"], order: int, *, multiplets=None, estimator: str = "gc",
                 k: int = 3, biascorrect: bool = True, base: float = 2.0) -> HigherOrderResult:
    r"""Total correlation, dual total correlation and O-information (module docstring) of every
    multiplet of `order` columns of `x` (n_samples, n_features), or of the given `multiplets`
    (m, order), by the `estimator` of the module docstring (`"gc"`, or `"knn"` with `k`
    neighbours; `biascorrect` applies to `"gc"`). Units: `log(base)` (default bits, as `hoi`).

    All multiplets are one vmapped computation; batch over more axes (e.g. time points, hoi's
    "variables") with `jax.vmap`. Equal to `hoi.metrics.Oinfo / TC / DTC(...).fit(minsize=order,
    maxsize=order, method="gc")` (tested), with multiplets in the same (lexicographic) order.
    """
    x = check_samples("x", x)
    if x.ndim != 2:
        raise ValueError(f"`x` must be (n_samples, n_features), got shape {x.shape}")
    n, d = x.shape
    order = check_positive_int("order", order)
    if not 2 <= order <= d:
        raise ValueError(f"`order` must be in [2, n_features = {d}] (the columns of `x`), got "
                         f"{order}")
    if n < order + 2:
        raise ValueError(f"`x` needs at least {order + 2} samples for multiplets of {order} "
                         f"variables, got {n}")
    check_choice("estimator", estimator, ESTIMATORS)
    scale = log_scale(base)
    mults = jnp.asarray(_multiplets(d, order, multiplets))
    if estimator == "knn":
        k = check_positive_int("k", k)
        if k >= n:
            raise ValueError(f"`k` must be < the number of samples of `x` ({n}), got {k}")
        return _higher_order_knn(x, mults, k, scale)
    return _higher_order(x, mults, bool(biascorrect), scale)


def _measures(h_all, h_minus, h_one, scale):
    """`(TC, DTC, valid)` of one multiplet of n variables from H(X^n), [H(X_-j)] and [H(X_j)]."""
    n = h_one.shape[0]
    tc = jnp.sum(h_one) - h_all
    dtc = jnp.sum(h_minus) - (n - 1) * h_all
    return tc / scale, dtc / scale, jnp.isfinite(h_all) & jnp.all(jnp.isfinite(h_minus))


@eqx.filter_jit
def _higher_order(x, mults, biascorrect, scale):
    n = x.shape[0]
    z = copnorm(x)
    z = z - jnp.mean(z, axis=0)
    c = z.T @ z / (n - 1)

    def one(idx):
        h_all, h_minus, h_one = _entropies(c[idx[:, None], idx[None, :]], biascorrect, n)
        return _measures(h_all, h_minus, h_one, scale)

    tc, dtc, valid = jax.vmap(one)(mults)
    return HigherOrderResult(multiplets=mults, tc=tc, dtc=dtc, oinfo=tc - dtc, valid=valid)


@eqx.filter_jit
def _higher_order_knn(x, mults, k, scale):
    n = x.shape[0]
    rows = jnp.arange(n)
    d2 = (x.T[:, :, None] - x.T[:, None, :]) ** 2  # (variables, n, n) squared distances

    def h(sq, dim):  # KL entropy from squared distances (monotone: the k-th is found on them)
        return kl_from_distances(jnp.sqrt(kth_distance(sq, rows, k)), dim, k)

    h_one = jax.lax.map(lambda sq: h(sq, 1), d2)  # each variable once
    order = mults.shape[1]

    def one(idx):
        joint = jnp.sum(d2[idx], axis=0)
        h_all = h(joint, order)
        h_minus = jax.lax.map(lambda j: h(jnp.maximum(joint - d2[j], 0), order - 1), idx)
        return _measures(h_all, h_minus, h_one[idx], scale)

    tc, dtc, valid = jax.lax.map(one, mults)
    return HigherOrderResult(multiplets=mults, tc=tc, dtc=dtc, oinfo=tc - dtc, valid=valid)


def _whole(field, x, biascorrect, base):
    x = check_samples("x", x)
    d = x.shape[1]
    if d < 2:
        raise ValueError(f"`x` must have at least 2 columns (variables), got shape {x.shape}")
    r = higher_order(x, d, multiplets=[list(range(d))], biascorrect=biascorrect, base=base)
    return getattr(r, field)[0]


def o_information(x: Float[ArrayLike, "n d"], *, biascorrect: bool = True,
                  base: float = 2.0) -> Float[Array, ""]:
    r"""O-information $\Omega = TC - DTC$ of all columns of `x` together (Gaussian copula;
    :func:`higher_order`). Positive: redundancy; negative: synergy."""
    return _whole("oinfo", x, biascorrect, base)


def total_correlation(x: Float[ArrayLike, "n d"], *, biascorrect: bool = True,
                      base: float = 2.0) -> Float[Array, ""]:
    r"""Total correlation $\sum_j H(X_j) - H(X)$ of the columns of `x` (Gaussian copula)."""
    return _whole("tc", x, biascorrect, base)


def dual_total_correlation(x: Float[ArrayLike, "n d"], *, biascorrect: bool = True,
                           base: float = 2.0) -> Float[Array, ""]:
    r"""Dual total correlation $\sum_j H(X_{-j}) - (d - 1) H(X)$ of the columns of `x`
    (Gaussian copula)."""
    return _whole("dtc", x, biascorrect, base)
