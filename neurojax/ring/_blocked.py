r"""The `full` ring variant blocked over the delay: B Euler steps as matrix products.

Step $i$ reads the delayed rates $r_{i-d}$; for a block of $B \le d$ steps starting at $i_0$ they are
all in the buffer when the block starts, $R = [r_{i_0-d}, \dots, r_{i_0+B-1-d}]$. With
$c_k = 1 - \lambda\,dt/\tau_w$ on plastic steps (1 in the warm-up or without plasticity),
$u_k \in \{0, 1\}$ whether step $k$ learns, $P_k = \prod_{l<k} c_l$ and
$q_j = \beta\,u_j\,\dot r_j / P_{j+1}$ (the seed's $w \mathrel{+}= dt\,\beta(-\lambda w +
\dot r\,r_{i-d}^\top)$ unrolled):

$$w_{i_0+k} = P_k\,\Bigl(w_{i_0} + \sum_{j<k} q_j R_j^\top\Bigr),\qquad
  w_{i_0+k}R_k = P_k\,\Bigl(G_k + \sum_{j<k} (R_j^\top R_k)\,q_j\Bigr),\quad G = w_{i_0}R.$$

So a block costs two GEMMs with the $N \times N$ weights ($G = wR$ and the rank-$B$ update
$w \leftarrow P_B(w + Q^\top R)$) plus $O(NB)$ work per step through the Gram matrix $R^\top R$,
instead of streaming $w$ twice per step. Exact: the same Euler scheme, warm-up and records as the
per-step path (equal to it to rounding, tested).
"""

import jax
import jax.numpy as jnp
import numpy as np

from ._config import RingConfig


def check_block(block, config: RingConfig) -> int:
    """Validate a block length for `config`: an int in [1, delay] (the delayed input of the
    (delay + 1)-th step of a block would be the block's own first output)."""
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)):
        raise TypeError(f"`block` must be an int, got {type(block).__name__}")
    if not 1 <= block <= config.delay_steps:
        raise ValueError(f"`block` must be in [1, delay = {config.delay_steps}], got {block}")
    return int(block)


def _record_index(n_blocks, B, offset, record_every):
    """Static positions: for block b, step k is recorded when (offset + b B + k + 1) is a multiple
    of `record_every`; returns (first k per block, rows per block m, flat indices of valid rows)."""
    m = -(-B // record_every)
    first = [(record_every - 1 - (offset + b * B) % record_every) % record_every
             for b in range(n_blocks)]
    valid = [b * m + j for b in range(n_blocks) for j in range(m) if first[b] + j * record_every < B]
    return np.asarray(first, np.int32), m, np.asarray(valid, np.int32)


def _blocks(state, p, n_blocks, B, stimulate, plastic, record_every, offset, rates_fn):
    D = state.buffer.shape[1]
    a = 1 - p.lam * p.dt * p.beta  # (configs,)
    first, m, valid = _record_index(n_blocks, B, offset, record_every)
    ks = jnp.arange(B)
    lower = ks[:, None] < ks[None, :]  # j < k

    def block(st, first_b):
        buf, w, i0 = st.buffer, st.w, st.step
        R = jax.vmap(lambda bu, dl: bu[(i0 + ks - dl) % D])(buf, p.delay)  # (C, B, N)
        G = jnp.einsum("cij,ckj->cki", w, R)
        gram = jnp.where(lower, jnp.einsum("cjn,ckn->cjk", R, R), 0)  # gram[j, k], j < k
        warm = (i0 + ks)[None, :] < p.init_steps[:, None]  # (C, B)
        learn = ~warm & plastic
        c = jnp.where(learn, a[:, None], 1)
        P = jnp.concatenate([jnp.ones_like(c[:, :1]), jnp.cumprod(c, axis=1)], axis=1)  # (C, B+1)

        def step(carry, k):
            buf, r_prev, Q = carry
            rec = P[:, k, None] * (G[:, k] + jnp.einsum("cj,cjn->cn", gram[:, :, k], Q))
            r, dx = jax.vmap(lambda rp, re, pp, wm: rates_fn(rp, re, i0 + k, pp, stimulate, wm))(
                r_prev, jnp.where(warm[:, k, None], 0.0, rec), p, warm[:, k])
            q = jnp.where(learn[:, k, None], p.beta[:, None] * dx / P[:, k + 1, None], 0)
            Q = Q.at[:, k].set(q)
            buf = jax.lax.dynamic_update_slice(buf, r[:, None], (0, (i0 + k) % D, 0))
            return (buf, r, Q), r

        r_prev = jax.lax.dynamic_index_in_dim(buf, (i0 - 1) % D, 1, False)
        (buf, _, Q), rs = jax.lax.scan(step, (buf, r_prev, jnp.zeros_like(R)), ks)
        w = P[:, B, None, None] * (w + jnp.einsum("ckn,ckm->cnm", Q, R))
        rows = jnp.clip(first_b + record_every * jnp.arange(m), 0, B - 1)
        return type(st)(buffer=buf, w=w, step=i0 + B), rs[rows]

    state, rec = jax.lax.scan(block, state, jnp.asarray(first))  # rec: (blocks, m, C, N)
    rec = rec.reshape(-1, *rec.shape[2:])[valid]
    return state, rec


def run_steps_blocked(state, p, steps, stimulate, plastic, record_every, B, rates_fn):
    """`steps` steps of the full variant in blocks of `B` (and one shorter block for the rest);
    returns `(state, record)` as the per-step `run_steps`."""
    n_blocks, rest = divmod(steps, B)
    recs = []
    if n_blocks:
        state, rec = _blocks(state, p, n_blocks, B, stimulate, plastic, record_every, 0, rates_fn)
        recs.append(rec)
    if rest:
        state, rec = _blocks(state, p, 1, rest, stimulate, plastic, record_every, n_blocks * B,
                             rates_fn)
        recs.append(rec)
    N = state.buffer.shape[-1]
    rec = jnp.concatenate(recs) if recs else jnp.zeros((0, state.buffer.shape[0], N),
                                                       state.buffer.dtype)
    return state, rec
