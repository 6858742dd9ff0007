r"""The `full` ring variant blocked over the delay: B Euler steps as matrix products.

Step $i$ reads the delayed rates $r_{i-d}$; for a block of $B \le d$ steps starting at $i_0$ they are
all in the buffer when the block starts, $R = [r_{i_0-d}, \dots, r_{i_0+B-1-d}]$. With
$u_k \in \{0, 1\}$ whether step $k$ learns, $P_k = (1 - \lambda\,dt/\tau_w)^{\sum_{l<k} u_l}$ and
$q_j = \beta\,u_j\,\dot r_j / P_{j+1}$ (the seed's $w \mathrel{+}= dt\,\beta(-\lambda w +
\dot r\,r_{i-d}^\top)$ unrolled):

$$w_{i_0+k} = P_k\,\Bigl(w_{i_0} + \sum_{j<k} q_j R_j^\top\Bigr),\qquad
  w_{i_0+k}R_k = P_k\,\Bigl(G_k + \sum_{j<k} (R_j^\top R_k)\,q_j\Bigr),\quad G = w_{i_0}R.$$

So a block costs two GEMMs with the $N \times N$ weights ($G = wR$ when it opens, the rank-$B$
update $w \leftarrow P_B(w + Q^\top R)$ when it closes) plus $O(NB)$ work per step through the Gram
matrix $R^\top R$, instead of streaming $w$ twice per step. Exact: the same Euler scheme, warm-up
and records as the per-step path (equal to it to rounding, tested).

Blocks are laid on the run's own step grid, not on each call's: a call that stops inside a block
leaves it open in the state (:class:`OpenBlock`) and the next call finishes it, so chunked runs
equal one run bitwise wherever the chunks are cut. $P_k$ is $\exp(n_k \log(1 - \lambda\,dt/\tau_w))$
($n_k$ the plastic steps before $k$): a rounded factor multiplied $k$ times drifts by $k$ ulps in one
direction, which compounded to 1.9e-12 (undriven rates over 1,234 steps, N = 100); this is
4.8e-13.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._config import RingConfig, check_config


class OpenBlock(eqx.Module):
    """A block of the blocked `full` variant in progress (leading configuration axis, as the state
    it belongs to): the weights `w0` when it opened at step `start`, its delayed rates `R`, `G =
    w0 R`, the strictly upper Gram matrix `gram[j, k] = R_j·R_k` (j < k), and the scaled updates
    `Q` of the steps run so far (zero rows after them)."""

    w0: Float[Array, "c n n"]
    R: Float[Array, "c b n"]
    G: Float[Array, "c b n"]
    gram: Float[Array, "c b b"]
    Q: Float[Array, "c b n"]
    start: Int[Array, ""]


def check_block(block, config: RingConfig) -> int:
    """Validate a block length for `config`: an int in [1, delay] (the delayed input of the
    (delay + 1)-th step of a block would be the block's own first output)."""
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)):
        raise TypeError(f"`block` must be an int, got {type(block).__name__}")
    if not 1 <= block <= config.delay_steps:
        raise ValueError(f"`block` must be in [1, delay = {config.delay_steps}], got {block}")
    return int(block)


def default_block(config: RingConfig) -> int:
    """Block length of the full variant when none is given: the delay, at most 50. Measured at
    N = 500, delay 75 (2 CPU cores): float64 22.0-22.3 us/step for blocks of 25-64 (82.6 per
    step unblocked), float32 12.4 at 48, 11.2 at 64."""
    check_config(config)
    return max(1, min(config.delay_steps, 50))


def resolve_block(block, config, variant):
    """The block length a run uses: None for the non-full variants (a given `block` must then be
    None), `default_block` when None, else validated (`_blocked.check_block`)."""
    if variant != "full":
        if block is not None:
            raise ValueError(f"`block` applies to variant='full' only, got variant={variant!r}")
        return None
    return default_block(config) if block is None else check_block(block, config)


def is_blocked(variant, block) -> bool:
    """Whether a run of `variant` with the resolved `block` takes the blocked path."""
    return variant == "full" and block is not None and block > 1


def _decay(p, start, B, plastic):
    """Per step k of the block opened at `start`: warm-up (C, B), learning (C, B), and P (C, B+1)."""
    warm = (start + jnp.arange(B))[None, :] < p.init_steps[:, None]
    learn = ~warm & plastic
    n = jnp.cumsum(learn, axis=1)
    n = jnp.concatenate([jnp.zeros_like(n[:, :1]), n], axis=1)
    return warm, learn, jnp.exp(n * jnp.log1p(-p.lam * p.dt * p.beta)[:, None])


def open_block(buf, w, start, p, B) -> OpenBlock:
    """The block of `B` steps that starts at step `start` from weights `w`."""
    D = buf.shape[1]
    R = jax.vmap(lambda bu, dl: bu[(start + jnp.arange(B) - dl) % D])(buf, p.delay)  # (C, B, N)
    upper = jnp.arange(B)[:, None] < jnp.arange(B)[None, :]  # j < k
    return OpenBlock(w0=w, R=R, G=jnp.einsum("cij,ckj->cki", w, R),
                     gram=jnp.where(upper, jnp.einsum("cjn,ckn->cjk", R, R), 0),
                     Q=jnp.zeros_like(R), start=start)


def block_weights(blk: OpenBlock, k, P):
    """The weights after the block's first `k` steps: P_k (w0 + Q^T R); `w0` itself at k = 0
    (Q is zero there: no GEMM, e.g. when a run stops where a block ends)."""
    def update(blk):
        Pk = jax.lax.dynamic_index_in_dim(P, k, 1, False)
        return Pk[:, None, None] * (blk.w0 + jnp.einsum("ckn,ckm->cnm", blk.Q, blk.R))

    return jax.lax.cond(k == 0, lambda b: b.w0, update, blk)


def resume_block(state, p, B, plastic):
    """`state` with the block its run continues in: its own open block when that is this run's
    (same block length, the state's `w` still that block's weights, the step inside it), otherwise
    a new block from `state.w` at `state.step`."""
    def fresh(_):
        return open_block(state.buffer, state.w, state.step, p, B)

    blk = state.block
    if blk is None or blk.R.shape[1] != B:
        blk = fresh(None)
    else:
        k = state.step - blk.start
        P = _decay(p, blk.start, B, plastic)[2]
        ok = (k >= 0) & (k < B) & jnp.all(
            block_weights(blk, jnp.clip(k, 0, B - 1), P) == state.w)
        blk = jax.lax.cond(ok, lambda b: b, fresh, blk)
    return type(state)(buffer=state.buffer, w=state.w, step=state.step, block=blk)


def run_steps_blocked(state, p, steps, stimulate, plastic, record_every, B, rates_fn,
                      resume=True):
    """`steps` steps of the full variant in blocks of `B` on the run's step grid; returns
    `(state, record)` as the per-step `run_steps`, with the block in progress left in
    `state.block`. `resume=False`: `state.block` is known to be this run's (`resume_block`)."""
    D = state.buffer.shape[1]
    C, N = state.w.shape[:2]
    re = record_every
    n_frames, m = steps // re, -(-B // re)
    first, end = state.step, state.step + steps

    def run_block(buf, blk, lo, hi, warm, learn, P):
        """Steps lo..hi-1 of the open block `blk`; returns (buffer, Q, the rates of each step)."""
        def inner(k, c):
            buf, r_prev, Q, rs = c
            i = blk.start + k
            Pk = jax.lax.dynamic_index_in_dim(P, k, 1, False)
            gk = jax.lax.dynamic_index_in_dim(blk.gram, k, 2, False)
            rec = Pk[:, None] * (jax.lax.dynamic_index_in_dim(blk.G, k, 1, False)
                                 + jnp.einsum("cj,cjn->cn", gk, Q))
            wk = jax.lax.dynamic_index_in_dim(warm, k, 1, False)
            r, dx = jax.vmap(lambda rp, x, pp, wm: rates_fn(rp, x, i, pp, stimulate, wm))(
                r_prev, jnp.where(wk[:, None], 0.0, rec), p, wk)
            Pn = jax.lax.dynamic_index_in_dim(P, k + 1, 1, False)
            q = jnp.where(jax.lax.dynamic_index_in_dim(learn, k, 1, False)[:, None],
                          p.beta[:, None] * dx / Pn[:, None], 0)
            z = jnp.zeros_like(k)
            Q = jax.lax.dynamic_update_slice(Q, q[:, None], (z, k, z))
            buf = jax.lax.dynamic_update_slice(buf, r[:, None], (z, (i % D).astype(k.dtype), z))
            rs = jax.lax.dynamic_update_slice(rs, r[None], (k, z, z))
            return buf, r, Q, rs

        r_prev = jax.lax.dynamic_index_in_dim(buf, (blk.start + lo - 1) % D, 1, False)
        rs = jnp.zeros((B, C, N), buf.dtype)
        buf, _, Q, rs = jax.lax.fori_loop(lo, hi, inner, (buf, r_prev, blk.Q, rs))
        return buf, Q, rs

    def record(out, rs, start, lo, hi):
        """Write the block's recorded steps into `out`: step k is the call's (s + 1)-th,
        s = start + k - first; recorded when s + 1 is a multiple of `record_every`."""
        s0 = start - first
        ks = (re - 1 - s0) % re + re * jnp.arange(m)
        frames = jnp.where((ks >= lo) & (ks < hi), (s0 + ks + 1) // re - 1, n_frames)
        return out.at[frames].set(rs[jnp.clip(ks, 0, B - 1)], mode="drop")

    def advance(buf, blk, lo, hi, out):
        warm, learn, P = _decay(p, blk.start, B, plastic)
        buf, Q, rs = run_block(buf, blk, lo, hi, warm, learn, P)
        return buf, eqx.tree_at(lambda b: b.Q, blk, Q), record(out, rs, blk.start, lo, hi), P

    def rest(args):
        """After the head block closed: whole blocks, then the tail's block left open. The loop
        carries only (buffer, w, record): no block in a loop carry, so XLA copies nothing."""
        buf, blk, out, P = args
        start = blk.start + B
        n_mid = (end - start) // B

        def whole(j, c):
            buf, w, out = c
            buf, b, out, P = advance(buf, open_block(buf, w, start + j * B, p, B), 0, B, out)
            return buf, block_weights(b, B, P), out

        buf, w, out = jax.lax.fori_loop(0, n_mid, whole, (buf, block_weights(blk, B, P), out))
        tail_start = start + n_mid * B
        buf, blk, out, _ = advance(buf, open_block(buf, w, tail_start, p, B), 0,
                                   (end - tail_start).astype(jnp.int32), out)
        return buf, blk, out

    blk = (resume_block(state, p, B, plastic) if resume else state).block
    out = jnp.zeros((n_frames, C, N), state.buffer.dtype)
    k0 = (first - blk.start).astype(jnp.int32)
    hi = jnp.minimum(B, k0 + steps).astype(jnp.int32)
    head = advance(state.buffer, blk, k0, hi, out)  # the rest of the block the state is in
    buf, blk, out = jax.lax.cond(hi == B, rest, lambda a: a[:3], head)
    w = block_weights(blk, end - blk.start, _decay(p, blk.start, B, plastic)[2])
    return type(state)(buffer=buf, w=w, step=end, block=blk), out
