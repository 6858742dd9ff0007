r"""Higher-order interactions of multiplets of variables: total correlation, dual total correlation
and O-information (Rosas et al. 2019), Gaussian-copula estimates for many multiplets at once.

For a multiplet $X^n = (X_1, \dots, X_n)$, with $X_{-j}$ all variables but $X_j$:

- total correlation $TC = \sum_j H(X_j) - H(X^n)$,
- dual total correlation $DTC = \sum_j H(X_{-j}) - (n - 1)\,H(X^n)$,
- O-information $\Omega = TC - DTC = (n - 2)\,H(X^n) + \sum_j [H(X_j) - H(X_{-j})]$;
  $\Omega > 0$: redundancy dominates, $\Omega < 0$: synergy.

Estimator (the one of the JAX library `hoi`, by the authors of frites, method `"gc"`): each
variable is copula-normalised once (its ranks mapped to a standard normal) and demeaned; every
entropy is then the Gaussian entropy of a principal submatrix of the one covariance matrix $C$ of
all variables, with the analytic bias correction of Ince et al. (2017). One multiplet costs one
elimination of its $n \times n$ block: $\log\det C_{-j} = \log\det C + \log (C^{-1})_{jj}$ gives all
$n$ leave-one-out determinants from it. The multiplets run as ONE vmapped program in plain JAX
ops (no per-multiplet LAPACK call), on the CPU or an accelerator.
"""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .. import _linalg
from .._checks import check_positive_int, check_samples
from ._copula import copnorm, entropy_bias, log_scale


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


def higher_order(x: Float[Array, "n d"], order: int, *, multiplets=None, biascorrect: bool = True,
                 base: float = 2.0) -> HigherOrderResult:
    r"""Total correlation, dual total correlation and O-information (module docstring) of every
    multiplet of `order` columns of `x` (n_samples, n_features), or of the given `multiplets`
    (m, order), by the Gaussian-copula estimator. Units: `log(base)` (default bits, as `hoi`).

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
    scale = log_scale(base)
    mults = _multiplets(d, order, multiplets)
    return _higher_order(x, jnp.asarray(mults), bool(biascorrect), scale)


@eqx.filter_jit
def _higher_order(x, mults, biascorrect, scale):
    n = x.shape[0]
    z = copnorm(x)
    z = z - jnp.mean(z, axis=0)
    c = z.T @ z / (n - 1)
    k = mults.shape[1]

    def one(idx):
        h_all, h_minus, h_one = _entropies(c[idx[:, None], idx[None, :]], biascorrect, n)
        tc = jnp.sum(h_one) - h_all
        dtc = jnp.sum(h_minus) - (k - 1) * h_all
        return tc / scale, dtc / scale, jnp.isfinite(h_all) & jnp.all(jnp.isfinite(h_minus))

    tc, dtc, valid = jax.vmap(one)(mults)
    return HigherOrderResult(multiplets=mults, tc=tc, dtc=dtc, oinfo=tc - dtc, valid=valid)


def _whole(field, x, biascorrect, base):
    x = check_samples("x", x)
    d = x.shape[1]
    if d < 2:
        raise ValueError(f"`x` must have at least 2 columns (variables), got shape {x.shape}")
    r = higher_order(x, d, multiplets=[list(range(d))], biascorrect=biascorrect, base=base)
    return getattr(r, field)[0]


def o_information(x: Float[Array, "n d"], *, biascorrect: bool = True,
                  base: float = 2.0) -> Float[Array, ""]:
    r"""O-information $\Omega = TC - DTC$ of all columns of `x` together (Gaussian copula;
    :func:`higher_order`). Positive: redundancy; negative: synergy."""
    return _whole("oinfo", x, biascorrect, base)


def total_correlation(x: Float[Array, "n d"], *, biascorrect: bool = True,
                      base: float = 2.0) -> Float[Array, ""]:
    r"""Total correlation $\sum_j H(X_j) - H(X)$ of the columns of `x` (Gaussian copula)."""
    return _whole("tc", x, biascorrect, base)


def dual_total_correlation(x: Float[Array, "n d"], *, biascorrect: bool = True,
                           base: float = 2.0) -> Float[Array, ""]:
    r"""Dual total correlation $\sum_j H(X_{-j}) - (d - 1) H(X)$ of the columns of `x`
    (Gaussian copula)."""
    return _whole("dtc", x, biascorrect, base)
