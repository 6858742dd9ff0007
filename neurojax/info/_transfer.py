r"""Transfer entropy (Schreiber 2000) as a conditional mutual information:

$$TE_{X\to Y} = I\bigl(Y_t \,;\, X_{t-\ell}, \dots, X_{t-\ell-h+1} \bigm| Y_{t-1}, \dots, Y_{t-h}\bigr)$$

with lag $\ell$ and history $h$, estimated by KSG conditioning (:func:`ksg_cmi`), by the Gaussian
copula (:func:`gccmi`) or for Gaussian processes (`"gaussian"`: the same CMI of Gaussians, half the
log ratio of the residual variances of the two linear regressions, i.e. Granger causality / 2).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_choice, check_finite, check_positive_int
from ._copula import gaussian_cmi, gccmi
from ._knn import ksg_cmi

ESTIMATORS = ("ksg", "gcmi", "gaussian")


def embed(source, target, lag: int, history: int):
    """`(future, source_past, target_past)` sample matrices of one source/target pair of series
    (T,): rows t = t0..T-1 with t0 = max(lag + history - 1, history)."""
    T = source.shape[0]
    t0 = max(lag + history - 1, history)
    t = np.arange(t0, T)
    src = jnp.stack([source[t - lag - j] for j in range(history)], axis=1)
    past = jnp.stack([target[t - 1 - j] for j in range(history)], axis=1)
    return target[t][:, None], src, past


def transfer_entropy(source, target, *, lag: int = 1, history: int = 1, estimator: str = "ksg",
                     k: int = 3, method: str = "brute") -> Float[Array, "..."]:
    r"""Transfer entropy from `source` to `target` in nats (module docstring).

    `source`, `target`: series of shape (T,), or (C_s, T) and (C_t, T) channels — then the result
    is (C_s, C_t), every source-target pair as one vmapped computation. `estimator`: `"ksg"`
    (Frenzel–Pompe, `k` neighbours; `method` its neighbour backend: `"brute"` is vmapped over the
    pairs, `"kdtree"`/`"auto"` loop over them on the host), `"gcmi"` (Gaussian copula) or
    `"gaussian"` (linear-Gaussian, no bias correction)."""
    lag = check_positive_int("lag", lag)
    history = check_positive_int("history", history)
    k = check_positive_int("k", k)
    check_choice("estimator", estimator, ESTIMATORS)
    s, t = jnp.asarray(source), jnp.asarray(target)
    single = s.ndim == 1 and t.ndim == 1
    s, t = jnp.atleast_2d(s), jnp.atleast_2d(t)
    if s.ndim != 2 or t.ndim != 2 or s.shape[1] != t.shape[1]:
        raise ValueError(f"`source` and `target` must be (T,) or (channels, T) with the same T, "
                         f"got {jnp.shape(source)} and {jnp.shape(target)}")
    check_finite("source", s)
    check_finite("target", t)
    T = s.shape[1]
    n = T - max(lag + history - 1, history)
    if n < max(k + 2, 2 * history + 3):
        raise ValueError(f"the series (T = {T}) are too short for lag {lag} and history {history}")
    dtype = jnp.result_type(s, t, float)
    s, t = s.astype(dtype), t.astype(dtype)

    def pair(a, b):
        fut, src, past = embed(a, b, lag, history)
        if estimator == "ksg":
            return ksg_cmi(fut, src, past, k, method=method)
        if estimator == "gcmi":
            return gccmi(fut, src, past)
        return gaussian_cmi(fut, src, past, biascorrect=False)

    if estimator == "ksg" and method != "brute":
        out = jnp.asarray([[pair(a, b) for b in t] for a in s])
    else:
        out = jax.jit(jax.vmap(lambda a: jax.vmap(lambda b: pair(a, b))(t)))(s)
    return out[0, 0] if single else out
