"""Where a 40 -> 80 float32 online K step goes, for one member and for the reduced sweep's 50
members, at the end-of-phase-2 states of the committed reduced run (results/paper/reduced): each
part jitted and timed alone, and the floor of this formulation: its LAPACK chain alone, batched
(one vmapped call per stage) and per member. Run it on one quiet core:

    OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/profile_reduced_step.py
"""

import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import neurojax.infomax as nim
from neurojax import _linalg
from neurojax._numerics import sigmoid_derivatives
from neurojax.infomax import _online as online

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import newest_checkpoint  # noqa: E402

RUN = Path(__file__).resolve().parents[1] / "results/paper/reduced/run"
N_IN, N_OUT = 40, 80


def ms_per_call(f, *args, n=200):
    """Mean wall time of the jitted `f(*args)` in ms, after one warm-up call."""
    f = jax.jit(f)
    jax.block_until_ready(f(*args))
    t = time.perf_counter()
    for _ in range(n):
        out = f(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - t) / n * 1e3


def lu_of_resolvent(K, g, h):
    """The LU factors of I − ΦK of every member at its root."""
    _, gp, _ = jax.vmap(lambda hh, kk, gg: sigmoid_derivatives(hh + kk @ gg))(h, K, g)
    return jax.vmap(_linalg.lu_perm)(jnp.eye(N_OUT, dtype=K.dtype) - gp[:, :, None] * K)


def profile(W, K, xt):
    E = W.shape[0]
    roots = jax.jit(online.ensemble_roots)(W, K, xt)
    h, g = roots.h, roots.g
    rates = nim.OnlineRates(ff_eta=jnp.float32(0), ff_l1=jnp.float32(0),
                            rec_eta=jnp.full(E, 1e-4, jnp.float32),
                            rec_l2=jnp.full(E, 0.08, jnp.float32))
    learner = nim.OnlineLearner(learn_W=False, learn_K=True)

    def step(W, K, xt):  # the learner's whole step: roots, gradient, the rule
        model = eqx.tree_at(lambda m: (m.W, m.K), nim.stack(nim.RecurrentInfoMax(W[0], K[0]), E),
                            (W, K))
        return learner.step(learner.init(model, rates), xt[:, None, :N_IN])[0].model.K

    def sensitivity(W, K, h, g):
        return jax.vmap(lambda *a: online._member_sensitivity(*a, N_IN)[-1])(W, K, h, g)

    def grads(W, K, xt, h, g):
        return jax.vmap(lambda *a: online._member_grads(*a, N_IN)[2])(W, K, xt, h, g)

    return {"whole learner step": ms_per_call(step, W, K, xt),
            "roots (Picard)": ms_per_call(lambda W, K, xt: online.ensemble_roots(W, K, xt).g,
                                          W, K, xt),
            "LU of I - PhiK": ms_per_call(lu_of_resolvent, K, g, h),
            "LU + chi solve + QR": ms_per_call(sensitivity, W, K, h, g),
            "gradient (+ 2 transposed solves, update)": ms_per_call(grads, W, K, xt, h, g)}


def lapack_chain(K, gp, w):
    """The factorisations and solves of one member's step with raw LAPACK calls (batched under
    `vmap`): LU of I − ΦK, χ = A⁻¹ΦW_x, χ = QR, P = QR⁻ᵀ, U = A⁻ᵀP."""
    tri = jax.lax.linalg.triangular_solve
    lu, _, perm = jax.lax.linalg.lu(jnp.eye(N_OUT, dtype=K.dtype) - gp[:, None] * K)
    b = (gp[:, None] * w[:, :N_IN])[perm]
    chi = tri(lu, tri(lu, b, left_side=True, lower=True, unit_diagonal=True), left_side=True,
              lower=False)
    q, r = jnp.linalg.qr(chi, mode="reduced")
    p = tri(r, q, left_side=False, lower=False, transpose_a=True)
    return tri(lu, tri(lu, p, left_side=True, lower=False, transpose_a=True), left_side=True,
               lower=True, unit_diagonal=True, transpose_a=True)


def chain_floor(W, K, xt):
    """ms of the LAPACK chain alone for the ensemble: ONE batched call per stage (vmap; may
    deadlock if two run at once, so only timed here) vs a `lax.map` of per-member calls."""
    r = jax.jit(online.ensemble_roots)(W, K, xt)
    _, gp, _ = jax.vmap(lambda hh, kk, gg: sigmoid_derivatives(hh + kk @ gg))(r.h, K, r.g)
    batched = ms_per_call(jax.vmap(lapack_chain), K, gp, W)
    mapped = ms_per_call(lambda *a: jax.lax.map(lambda t: lapack_chain(*t), a), K, gp, W)
    return batched, mapped


def main():
    with np.load(newest_checkpoint(RUN)) as z:  # (λ_K, 80, 41) and (λ_K, 80, 80): the end of phase 2
        W0, K0 = jnp.asarray(z["snap_W2"], jnp.float32), jnp.asarray(z["snap_K2"], jnp.float32)
    x = nim.tones(N_IN, 1, key=jax.random.key(0)).astype(jnp.float32)[0]
    for E in (1, 32, 50):
        idx = np.arange(E) % W0.shape[0]
        args = (W0[idx], K0[idx], jnp.broadcast_to(online.augmented(x), (E, N_IN + 1)))
        parts = profile(*args)
        print(f"E = {E}: " + ", ".join(f"{k} {v:.3f} ms" for k, v in parts.items())
              + f"; per member-step {parts['whole learner step'] / E * 1e3:.1f} us")
        batched, mapped = chain_floor(*args)
        print(f"  LAPACK chain alone (LU, chi solve, QR, R^-T, transposed solve): batched "
              f"{batched / E * 1e3:.1f} us/member, per-member map {mapped / E * 1e3:.1f} us/member")


if __name__ == "__main__":
    main()
