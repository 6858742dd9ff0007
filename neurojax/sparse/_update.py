"""The block-coordinate dictionary update of Mairal et al. (2010), shared by the batch,
minibatch and online dictionary learners."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_finite, check_shape


def update_dictionary(D, A_stats, B_stats):
    r"""One sweep of block-coordinate descent over atoms with sufficient statistics
    $A = \text{codes}^\top\text{codes}$ (k, k), $B = X^\top\text{codes}$ (f, k); unused atoms
    ($A_{kk} \approx 0$) are left unchanged. Atoms are projected onto $\|d\| \le 1$."""
    D, A_stats, B_stats = jnp.asarray(D), jnp.asarray(A_stats), jnp.asarray(B_stats)
    if D.ndim != 2:
        raise ValueError(f"`D` must be (n_features, n_atoms), got shape {D.shape}")
    check_shape("A_stats", A_stats, (D.shape[1], D.shape[1]))
    check_shape("B_stats", B_stats, D.shape)
    for name, a in (("D", D), ("A_stats", A_stats), ("B_stats", B_stats)):
        check_finite(name, a)
    return update_sweep(D, A_stats, B_stats)


def sklearn_forgetting(step, batch_size, xp=np):
    r"""scikit-learn's forgetting factor of the running statistics (`MiniBatchDictionaryLearning.
    _update_inner_stats`): $\beta = (\theta + 1 - b)/(\theta + 1)$ with $\theta = (t + 1)b$ for
    $t < b - 1$ and $b^2 + t + 1 - b$ after (the two agree at $t = b - 1$), $t$ the step from 0,
    $b$ the batch size. `xp`: NumPy (host loops) or `jax.numpy` (inside `jit`)."""
    theta = xp.minimum(step + 1, batch_size) * batch_size + xp.maximum(step + 1 - batch_size, 0)
    return (theta + 1.0 - batch_size) / (theta + 1.0)


@functools.partial(jax.jit, static_argnames="positive")
def update_sweep(D, A_stats, B_stats, unused=1e-10, replace=None, positive: bool = False):
    r"""`update_dictionary` without the checks (traceable). Atoms with $A_{kk} \le$ `unused` are
    left unchanged, or set to their column of `replace` (f, k) when given (scikit-learn resamples
    unused atoms from the data); `positive=True` clips each updated atom to $d \ge 0$ before the
    projection onto the unit ball (scikit-learn's `positive_dict`)."""
    def body(k, D):
        akk = A_stats[k, k]
        upd = D[:, k] + (B_stats[:, k] - D @ A_stats[:, k]) / jnp.where(akk > unused, akk, 1.0)
        d = jnp.where(akk > unused, upd, D[:, k] if replace is None else replace[:, k])
        d = jnp.maximum(d, 0.0) if positive else d
        return D.at[:, k].set(d / jnp.maximum(jnp.linalg.norm(d), 1.0))

    return jax.lax.fori_loop(0, D.shape[1], body, D)
