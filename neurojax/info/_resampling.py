r"""Permutation tests and bootstrap confidence intervals of any dependence estimator, every
resample of one call as one vmapped computation (the place where an accelerator wins: a thousand
permutations of a KSG or GCMI estimate at once).

`estimator(x, y)` is any JAX-traceable function returning a scalar, e.g. `neurojax.info.gcmi`,
`lambda x, y: ksg_mi(x, y, method="brute")` (the k-d tree backend cannot be traced), or an
estimator with its settings bound by `functools.partial`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_choice, check_paired, check_positive_int


class PermutationResult(eqx.Module):
    r"""Result of :func:`permutation_test`: the estimate on the data (`value`), the permutation
    p-value $(1 + \#\{\text{null} \ge \text{value}\}) / (1 + N)$ (`p_value`; never 0), and the
    `null` distribution (N estimates with `y` permuted)."""

    value: Float[Array, ""]
    p_value: Float[Array, ""]
    null: Float[Array, " n_permutations"]


class BootstrapResult(eqx.Module):
    """Result of :func:`bootstrap_ci`: the estimate on the data (`value`), the percentile interval
    (`low`, `high`) at `level`, and the bootstrap `samples`."""

    value: Float[Array, ""]
    low: Float[Array, ""]
    high: Float[Array, ""]
    samples: Float[Array, " n_resamples"]


def _resampled(statistic, index_sets, batch_size):
    """`statistic(idx)` for every row of `index_sets`, `batch_size` rows per vmapped call (a
    `lax.map` over the batches bounds the memory)."""
    n_sets = index_sets.shape[0]
    batch_size = min(check_positive_int("batch_size", batch_size), n_sets)
    pad = -n_sets % batch_size
    sets = jnp.concatenate([index_sets, index_sets[:pad]]).reshape(-1, batch_size,
                                                                   index_sets.shape[1])
    out = jax.lax.map(jax.vmap(statistic), sets)
    return out.reshape(-1)[:n_sets]


SURROGATES = ("permute", "circular", "block")


def permutation_test(estimator, x, y, *, n_permutations: int = 1000, key: PRNGKeyArray,
                     batch_size: int = 100, surrogate: str = "permute",
                     min_shift: int | None = None,
                     block_size: int | None = None) -> PermutationResult:
    r"""Test independence of `x` and `y` (samples along the leading axis) with the statistic
    `estimator(x, y)`. The null distribution is the statistic on `n_permutations` surrogates of
    `y` (drawn with `key`):

    - `surrogate="permute"` (default): the rows of `y` in a uniform random order — for
      independent samples;
    - `"circular"`: `y` shifted circularly by a random offset in [`min_shift`, n − `min_shift`]
      (default n // 10) — for time series, whose autocorrelation a permutation would destroy
      (the null of "no coupling" keeps each series' own dynamics). One-dimensional `x` and `y`
      are passed to `estimator` as series (T,), so `transfer_entropy` and lagged estimators work.
    - `"block"`: `y` shifted circularly by a random offset, then cut into blocks of `block_size`
      samples (default n // 20) whose order is permuted; a remainder of fewer than `block_size`
      samples stays at the end. Keeps the dynamics within each block and breaks the slow drifts
      a single circular shift keeps. Series as for `"circular"`.

    One jitted program; the surrogates run `batch_size` at a time under `vmap`."""
    _check_estimator(estimator)
    check_choice("surrogate", surrogate, SURROGATES)
    series = surrogate != "permute" and jnp.ndim(x) == 1 and jnp.ndim(y) == 1
    x, y = check_paired(("x", "y"), x, y)
    n_permutations = check_positive_int("n_permutations", n_permutations)
    n = x.shape[0]
    if surrogate == "circular":
        min_shift = n // 10 if min_shift is None else check_positive_int("min_shift", min_shift)
        if not 1 <= min_shift <= n // 2:
            raise ValueError(f"`min_shift` must lie in [1, n // 2 = {n // 2}], got {min_shift}")
    if surrogate == "block":
        block_size = max(1, n // 20) if block_size is None else check_positive_int("block_size",
                                                                                  block_size)
        if not 1 <= block_size <= n // 2:
            raise ValueError(f"`block_size` must lie in [1, n // 2 = {n // 2}], got {block_size}")
    if series:
        x, y = x[:, 0], y[:, 0]
    return _permutation(estimator, x, y, n_permutations, key, batch_size, surrogate,
                        min_shift or 1, block_size or 1)


def block_surrogate(key, n: int, block_size: int):
    """Indices (n,) of one block surrogate: a random circular shift, then the order of the
    n // block_size full blocks permuted (the remainder stays at the end)."""
    k_shift, k_perm = jax.random.split(key)
    idx = (jnp.arange(n) + jax.random.randint(k_shift, (), 0, n)) % n
    m = n // block_size
    head = idx[: m * block_size].reshape(m, block_size)[jax.random.permutation(k_perm, m)]
    return jnp.concatenate([head.reshape(-1), idx[m * block_size:]])


def _check_estimator(estimator):
    if not callable(estimator):
        raise TypeError(f"`estimator` must be a callable estimator(x, y), got "
                        f"{type(estimator).__name__}")


@eqx.filter_jit
def _permutation(estimator, x, y, n_permutations, key, batch_size, surrogate="permute",
                 min_shift=1, block_size=1):
    keys = jax.random.split(key, n_permutations)
    n = x.shape[0]
    if surrogate == "block":
        perms = jax.vmap(lambda k: block_surrogate(k, n, block_size))(keys)
    elif surrogate == "circular":
        shifts = jax.vmap(lambda k: jax.random.randint(k, (), min_shift, n - min_shift + 1))(keys)
        perms = (jnp.arange(n)[None, :] + shifts[:, None]) % n
    else:
        perms = jax.vmap(lambda k: jax.random.permutation(k, n))(keys)
    value = estimator(x, y)
    null = _resampled(lambda idx: estimator(x, y[idx]), perms, batch_size)
    p = (1 + jnp.sum(null >= value)) / (1 + n_permutations)
    return PermutationResult(value=value, p_value=p.astype(null.dtype), null=null)


def bootstrap_ci(estimator, x, y, *, n_resamples: int = 1000, key: PRNGKeyArray,
                 level: float = 0.95, batch_size: int = 100) -> BootstrapResult:
    """Percentile bootstrap interval of `estimator(x, y)`: the pairs (x_i, y_i) are resampled with
    replacement `n_resamples` times (with `key`); `level` in (0, 1). One jitted program. Note that
    resampling with replacement duplicates samples, which biases nearest-neighbour estimators
    (duplicates sit at distance 0); prefer copula or Gaussian estimators here."""
    _check_estimator(estimator)
    x, y = check_paired(("x", "y"), x, y)
    n_resamples = check_positive_int("n_resamples", n_resamples)
    if not 0 < level < 1:
        raise ValueError(f"`level` must lie in (0, 1), got {level}")
    return _bootstrap(estimator, x, y, n_resamples, key, float(level), batch_size)


@eqx.filter_jit
def _bootstrap(estimator, x, y, n_resamples, key, level, batch_size):
    idx = jax.random.randint(key, (n_resamples, x.shape[0]), 0, x.shape[0])
    samples = _resampled(lambda i: estimator(x[i], y[i]), idx, batch_size)  # pairs kept together
    q = jnp.quantile(samples, jnp.asarray([(1 - level) / 2, (1 + level) / 2], samples.dtype))
    return BootstrapResult(value=estimator(x, y), low=q[0], high=q[1], samples=samples)
