"""Euler simulation of the delayed plastic ring (seed 001) as one `lax.scan` with a ring-buffer delay."""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import check_choice, check_finite, check_positive_int
from ._config import RingConfig

Variant = Literal["full", "circulant", "single"]
VARIANTS = ("full", "circulant", "single")


class RingState(eqx.Module):
    """Simulation state: the last `delay+1` (or more) rate vectors (ring buffer), the weights, the
    index of the next step."""

    buffer: Float[Array, "d n"]
    w: Float[Array, "..."]
    step: Int[Array, ""]


class RingParams(eqx.Module):
    """The numbers of a `RingConfig` as (possibly batched) arrays, so one compiled simulator serves a
    vmapped sweep over them. `N` (array shapes) stays static; `delay` may be any value below the
    ring buffer's length."""

    N: int = eqx.field(static=True)
    dt: Float[Array, ""]
    alpha: Float[Array, ""]
    beta: Float[Array, ""]
    lam: Float[Array, ""]
    T: Float[Array, ""]
    amplitude: Float[Array, ""]
    gain: Float[Array, ""]
    delay: Int[Array, ""]

    @classmethod
    def from_config(cls, cfg: RingConfig, dtype) -> "RingParams":
        vals = dict(dt=cfg.dt, alpha=cfg.alpha, beta=cfg.beta, lam=cfg.lam, T=cfg.T,
                    amplitude=cfg.amplitude, gain=cfg.gain)
        fields = {k: jnp.asarray(v, dtype) for k, v in vals.items()}
        return cls(N=cfg.N, delay=jnp.asarray(cfg.delay_steps, jnp.int32), **fields)

    @property
    def init_steps(self):
        """The seed's warm-up length: the smallest multiple of N above the delay."""
        return self.N * (self.delay // self.N + 1)


def phi(v, gain=10.0):
    r"""Rate nonlinearity $\varphi(v) = 1/(1 + e^{-\mathrm{gain}\,v})$, exponent clipped to ±250 (seed)."""
    return 1.0 / (1.0 + jnp.exp(jnp.clip(-gain * v, -250.0, 250.0)))


def _recurrent(w, r, variant):
    if variant == "full":
        return w @ r
    # circulant and single: (w ⊛ r)[n] = Σ_k w[(n − k) mod N] r[k], by FFT as the seed
    return jnp.real(jnp.fft.ifft(jnp.fft.fft(w) * jnp.fft.fft(r)))


def _dw(w, dx, r_del, p, variant):
    if variant == "full":  # seed `get_dw`
        return (-p.lam * w + jnp.outer(dx / p.dt, r_del)) * p.dt * p.beta
    if variant == "single":  # seed `get_dw_prime`: presynaptic neuron 0 only
        return (-p.lam * w + r_del[0] * (dx / p.dt)) * p.dt * p.beta
    # seed `get_dw_prime_mean`: mean_i dx[(i+j) mod N] r_del[i], an FFT cross-correlation
    xcorr = jnp.real(jnp.fft.ifft(jnp.conj(jnp.fft.fft(r_del)) * jnp.fft.fft(dx))) / p.N
    return (-p.lam * w * p.dt + xcorr) * p.beta


def initial_state(config: RingConfig, w0, *, variant: Variant = "circulant",
                  buffer_len: int | None = None) -> RingState:
    """Rates 0, weights `w0` ((N, N) for `full`, (N,) otherwise), at step 1 (step 0 is the zero
    state, as in the seed). `buffer_len` (default delay + 1) may be larger, e.g. for sweeps."""
    check_choice("variant", variant, VARIANTS)
    w0 = jnp.asarray(w0)
    want = (config.N, config.N) if variant == "full" else (config.N,)
    if w0.shape != want:
        raise ValueError(f"`w0` must have shape {want} for variant={variant!r}, got {w0.shape}")
    check_finite("w0", w0)
    d = config.delay_steps + 1 if buffer_len is None else buffer_len
    if d < config.delay_steps + 1:
        raise ValueError(f"`buffer_len` must be >= delay + 1 = {config.delay_steps + 1}, got {d}")
    dtype = w0.dtype if jnp.issubdtype(w0.dtype, jnp.floating) else jnp.result_type(float)
    buffer = jnp.zeros((d, config.N), dtype)
    return RingState(buffer=buffer, w=w0.astype(dtype), step=jnp.array(1, jnp.int32))


def ring_step(state: RingState, p: RingParams, variant: str, stimulate: bool, plastic: bool):
    """One Euler step of the seed's scheme; returns `(new_state, rates)`."""
    d = state.buffer.shape[0]
    i = state.step
    r_prev = state.buffer[(i - 1) % d]
    r_del = state.buffer[(i - p.delay) % d]
    t = i * p.dt
    theta = jnp.arange(p.N, dtype=r_prev.dtype) * (p.T / p.N)  # numpy's linspace(0, T, N, endpoint=False)
    warm = i < p.init_steps  # the seed's warm-up: drive on, no recurrent input, no plasticity
    drive = p.amplitude * jnp.sin(2 * jnp.pi * (t + theta) / p.T)
    drive = jnp.where(warm | stimulate, drive, 0.0)
    rec = jnp.where(warm, 0.0, _recurrent(state.w, r_del, variant))
    dx = (-r_prev + phi(drive + rec, p.gain)) * p.dt * p.alpha
    r = r_prev + dx
    w = state.w
    if plastic:
        w = jnp.where(warm, w, w + _dw(w, dx, r_del, p, variant))
    return RingState(buffer=state.buffer.at[i % d].set(r), w=w, step=i + 1), r


def run_steps(state, p, n_steps, variant, stimulate, plastic, record_every):
    """`n_steps` steps as nested scans; records the rates after every `record_every`-th step."""

    def step(s, _):
        return ring_step(s, p, variant, stimulate, plastic)

    def block(st, _):
        st, rs = jax.lax.scan(step, st, None, length=record_every)
        return st, rs[-1]

    n_blocks, rest = divmod(n_steps, record_every)
    state, rec = jax.lax.scan(block, state, None, length=n_blocks)
    if rest:
        state, _ = jax.lax.scan(lambda s, _: (step(s, None)[0], None), state, None, length=rest)
    return state, rec


def run_with_weights(state, p, n_steps, variant, stimulate, plastic, record_every, weights_every):
    """As `run_steps`, and also the weights after every `weights_every`-th step (a multiple of
    `record_every`, or None for no weight record)."""
    if weights_every is None:
        state, rec = run_steps(state, p, n_steps, variant, stimulate, plastic, record_every)
        return state, rec, None

    def outer(st, _):
        st, rec = run_steps(st, p, weights_every, variant, stimulate, plastic, record_every)
        return st, (rec, st.w)

    n_outer, rest = divmod(n_steps, weights_every)
    state, (rec, ws) = jax.lax.scan(outer, state, None, length=n_outer)
    rec = rec.reshape(-1, rec.shape[-1])
    if rest:
        state, tail = run_steps(state, p, rest, variant, stimulate, plastic, record_every)
        rec = jnp.concatenate([rec, tail])
    return state, rec, ws


@eqx.filter_jit
def run_batch(states, params, n_steps, variant, stimulate, plastic, record_every, weights_every):
    """`run_with_weights` vmapped over a leading configuration axis of `states` and `params`.

    A single run goes through here too (batch of one): XLA vectorises the batched program
    differently from the unbatched one (the drive's `sin` differs in the last bit, which the steep
    φ amplifies to ~1e-12), so sharing the path makes a sweep equal separate runs to the bit."""

    def one(s, p):
        return run_with_weights(s, p, n_steps, variant, stimulate, plastic, record_every,
                                weights_every)

    return jax.vmap(one)(states, params)


def check_run_args(config, n_steps, periods, record_every, weights_every):
    """Validate the shared run arguments; returns `(n_steps, record_every, weights_every)`."""
    record_every = check_positive_int("record_every", record_every)
    if weights_every is not None:
        weights_every = check_positive_int("record_weights_every", weights_every)
        if weights_every % record_every:
            raise ValueError(f"`record_weights_every` ({weights_every}) must be a multiple of "
                             f"`record_every` ({record_every})")
    if (n_steps is None) == (periods is None):
        raise ValueError("give exactly one of `n_steps` and `periods`")
    if n_steps is None:
        n_steps = config.steps_for(periods) - 1  # steps 1..len(t)-1, as the seed's loops
    return check_positive_int("n_steps", n_steps, allow_zero=True), record_every, weights_every


def simulate(
    config: RingConfig,
    w0=None,
    n_steps: int | None = None,
    *,
    periods: int | None = None,
    variant: Variant = "circulant",
    stimulate: bool = True,
    plastic: bool = True,
    record_every: int = 1,
    record_weights_every: int | None = None,
    state: RingState | None = None,
):
    r"""Run the seed-001 Euler scheme for `n_steps` steps (or `periods` drive periods) from step 1.

    $r_i = r_{i-1} + \frac{dt}{\tau_r}\bigl(-r_{i-1} + \varphi(s\,u(t_i) + I_i)\bigr)$,
    $u = A\sin(2\pi(t + \theta_x)/T)$, $I_i = w\,r_{i-d}$ (matrix product for `full`, circular
    convolution $\sum_k w[(n-k) \bmod N]\,r_k$ for `circulant` and `single`). Plasticity
    $w \mathrel{+}= \frac{dt}{\tau_w}(-\lambda w + \dot r\,r_{i-d}^\top)$ for `full` (seed
    `get_dw`); for `circulant` its average over all translations (seed `get_dw_prime_mean`, an FFT
    cross-correlation) — so with plasticity on, circulant and full differ by design; for `single`
    the column of presynaptic neuron 0 (seed `get_dw_prime`). The first `config.init_steps` steps
    are the seed's warm-up: drive on, no recurrent input, no plasticity.

    Memory is O(N·delay) for the state and O(N·n_steps/record_every) for the record. Returns
    `(state, record)` — or `(state, record, weights)` when `record_weights_every` is given. Pass
    `state` back to continue exactly where a run stopped (chunked runs equal one run bitwise).
    """
    check_choice("variant", variant, VARIANTS)
    n_steps, record_every, weights_every = check_run_args(config, n_steps, periods, record_every,
                                                          record_weights_every)
    if state is None:
        if w0 is None:
            raise ValueError("`w0` is required when no `state` is given")
        state = initial_state(config, w0, variant=variant)
    elif w0 is not None:
        raise ValueError("give `w0` or `state`, not both")
    p = RingParams.from_config(config, state.buffer.dtype)
    add = lambda x: x[None]  # noqa: E731
    out = run_batch(jax.tree.map(add, state), jax.tree.map(add, p), n_steps, variant,
                    bool(stimulate), bool(plastic), record_every, weights_every)
    state, rec, ws = jax.tree.map(lambda x: x[0], out)
    return (state, rec) if weights_every is None else (state, rec, ws)
