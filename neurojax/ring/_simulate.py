"""Euler simulation of the delayed plastic ring (seed 001) as one `lax.scan` with a ring-buffer delay."""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, Int

from .._checks import (
    check_choice,
    check_finite,
    check_float_dtype,
    check_number,
    check_positive_int,
)
from ._blocked import OpenBlock, is_blocked, resolve_block, resume_block, run_steps_blocked
from ._config import RingConfig, check_config

Variant = Literal["full", "circulant", "single"]
VARIANTS = ("full", "circulant", "single")


class RingState(eqx.Module):
    """Simulation state: the last `delay+1` (or more) rate vectors (ring buffer), the weights, the
    index of the next step.

    The `circulant` variant runs in the Fourier domain and also carries the spectra it steps:
    `buffer_hat` (`rfft` of every buffered rate vector) and `w_hat` (`rfft` of the kernel); its `w`
    is `irfft(w_hat)` at the end of a run. Resuming uses the spectra, so chunked runs equal one run
    bitwise; a state whose `w` was replaced (no longer `irfft(w_hat)`) is re-transformed from `w`.
    `None` for the other variants and before a circulant state's first run.

    The blocked `full` variant carries the block it stopped in (`block`, see `_blocked.py`): the
    next run finishes it, so chunks cut anywhere equal one run bitwise; `w` is always the current
    weights, and a state whose `w` was replaced starts a new block from it."""

    buffer: Float[Array, "*batch d n"]  # a leading batch axis inside the batched simulator
    w: Float[Array, "..."]
    step: Int[Array, "..."]
    buffer_hat: Complex[Array, "*batch d m"] | None = None
    w_hat: Complex[Array, "*batch m"] | None = None
    block: OpenBlock | None = None


class SimulationResult(eqx.Module):
    """Result of :func:`simulate`: the final `state` (pass it back to continue), the recorded
    `rates` (every `record_every` steps: (steps // record_every, N)), the recorded `weights`
    (every `record_weights_every` steps; None when not asked for), and `finite`: whether the
    final rates and weights and every recorded frame are finite (False: the run diverged or
    started from non-finite values, e.g. a NaN in `w0` under `jit`)."""

    state: RingState
    rates: Float[Array, "frames n"]
    weights: Float[Array, "wframes ..."] | None = None
    finite: Array = True


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
    gain = check_number("gain", gain)
    return 1.0 / (1.0 + jnp.exp(jnp.clip(-gain * v, -250.0, 250.0)))


def _recurrent(w, r, variant):
    if variant == "full":
        return w @ r
    # single: (w ⊛ r)[n] = Σ_k w[(n − k) mod N] r[k], by FFT as the seed
    return jnp.real(jnp.fft.ifft(jnp.fft.fft(w) * jnp.fft.fft(r)))


def _dw(w, dx, r_del, p, variant):
    if variant == "full":  # seed `get_dw`
        return (-p.lam * w + jnp.outer(dx / p.dt, r_del)) * p.dt * p.beta
    # single: seed `get_dw_prime`, presynaptic neuron 0 only (circulant: `_circulant_update`)
    return (-p.lam * w + r_del[0] * (dx / p.dt)) * p.dt * p.beta


def check_state(state, config: RingConfig, variant: str) -> None:
    """ValueError unless `state` fits `config` and `variant`: a delay buffer of N columns and at
    least delay + 1 rows (a shorter one ran a longer delay modulo the buffer, silently), weights
    of the variant's shape, and one real floating dtype for the rates and the weights."""
    if not isinstance(state, RingState):
        raise TypeError(f"`state` must be a RingState, got {type(state).__name__}")
    dt = state.buffer.dtype
    if not jnp.issubdtype(dt, jnp.floating) or state.w.dtype != dt:
        raise ValueError(f"`state` must hold its rates and weights in one real floating dtype, got "
                         f"buffer {dt} and w {state.w.dtype}")
    if jnp.ndim(state.buffer) != 2:
        raise ValueError(f"`state.buffer` must be (delay + 1, N), got shape {jnp.shape(state.buffer)}")
    d, n = state.buffer.shape
    if n != config.N or d < config.delay_steps + 1:
        raise ValueError(f"`state` has a delay buffer of shape {(d, n)}; this config needs "
                         f"({config.delay_steps + 1} or more, {config.N}) (N = {config.N}, "
                         f"delay {config.delay_steps} steps)")
    want = (config.N, config.N) if variant == "full" else (config.N,)
    if state.w.shape != want:
        raise ValueError(f"`state` has weights of shape {state.w.shape}; variant={variant!r} "
                         f"needs {want}")
    for name, a in (("state.buffer", state.buffer), ("state.w", state.w)):
        check_finite(name, a)  # a resumed state with NaN would run on silently
    blk = state.block
    if blk is not None and (variant != "full" or blk.w0.shape != want
                            or blk.R.shape[-1] != config.N):
        raise ValueError(f"`state.block` (an open block of the blocked full variant) does not fit "
                         f"variant={variant!r}, N = {config.N}")


def initial_state(config: RingConfig, w0, *, variant: Variant = "circulant",
                  buffer_len: int | None = None) -> RingState:
    """Rates 0, weights `w0` ((N, N) for `full`, (N,) otherwise), at step 1 (step 0 is the zero
    state, as in the seed). `buffer_len` (default delay + 1) may be larger, e.g. for sweeps."""
    check_choice("variant", variant, VARIANTS)
    w0 = jnp.asarray(w0)
    want = (config.N, config.N) if variant == "full" else (config.N,)
    if w0.shape != want:
        raise ValueError(f"`w0` must have shape {want} for variant={variant!r}, got {w0.shape}")
    check_float_dtype("w0", w0)
    check_finite("w0", w0)
    d = config.delay_steps + 1 if buffer_len is None else check_positive_int("buffer_len",
                                                                               buffer_len)
    if d < config.delay_steps + 1:
        raise ValueError(f"`buffer_len` must be >= delay + 1 = {config.delay_steps + 1}, got {d}")
    dtype = w0.dtype if jnp.issubdtype(w0.dtype, jnp.floating) else jnp.result_type(float)
    buffer = jnp.zeros((d, config.N), dtype)
    return RingState(buffer=buffer, w=w0.astype(dtype), step=jnp.array(1, jnp.int32))


def _with_spectra(state: RingState) -> RingState:
    """The circulant variant's Fourier-domain state: keep `state`'s spectra when they belong to its
    `w` (bitwise resume), otherwise (new state, or `w` replaced by the user) transform `w`, `buffer`.
    Works on one state or a stack of them (leading axis)."""
    n = state.buffer.shape[-1]
    if state.w_hat is None or state.buffer_hat is None:
        return eqx.tree_at(lambda s: (s.buffer_hat, s.w_hat), state,
                           (jnp.fft.rfft(state.buffer), jnp.fft.rfft(state.w)),
                           is_leaf=lambda x: x is None)
    same = jnp.all(jnp.fft.irfft(state.w_hat, n=n) == state.w, axis=-1, keepdims=True)
    return eqx.tree_at(lambda s: s.w_hat, state,
                       jnp.where(same, state.w_hat, jnp.fft.rfft(state.w)))


def _real_weights(state: RingState) -> RingState:
    """`state` with `w` brought up to date from the circulant variant's spectrum (no-op otherwise)."""
    if state.w_hat is None:
        return state
    return eqx.tree_at(lambda s: s.w, state, jnp.fft.irfft(state.w_hat, n=state.buffer.shape[-1]))


def _drive(i, p: RingParams, dtype):
    r"""$A\sin(2\pi(t_i + \theta_n)/T)$ as $A(\sin a_i\cos b_n + \cos a_i\sin b_n)$: two scalar
    sines per step instead of N (θ is numpy's `linspace(0, T, N, endpoint=False)`, as the seed)."""
    b = 2 * jnp.pi * jnp.arange(p.N, dtype=dtype) / p.N
    a = 2 * jnp.pi * (i * p.dt) / p.T
    return p.amplitude * (jnp.sin(a) * jnp.cos(b) + jnp.cos(a) * jnp.sin(b))


def _rates(r_prev, rec, i, p, stimulate, warm):
    drive = jnp.where(warm | stimulate, _drive(i, p, r_prev.dtype), 0.0)
    dx = (-r_prev + phi(drive + rec, p.gain)) * p.dt * p.alpha
    return r_prev + dx, dx


def _circulant_update(w_hat, rows, i, p, stimulate, plastic):
    r"""One configuration's circulant step in the Fourier domain (one `rfft`, one `irfft`).

    Input $\mathcal F^{-1}(\hat w\,\hat r_{i-d})$; rule $\hat w \mathrel{+}= \beta(-\lambda\,dt\,\hat w
    + \overline{\hat r_{i-d}}\,(\hat r_i - \hat r_{i-1})/N)$ — the seed's translation-averaged
    update (`get_dw_prime_mean`) as a product of spectra. `rows` are $(\hat r_{i-d}, r_{i-1},
    \hat r_{i-1})$, see `_open`."""
    r_del_hat, r_prev, r_prev_hat = rows
    warm = i < p.init_steps
    rec = jnp.where(warm, 0.0, jnp.fft.irfft(w_hat * r_del_hat, n=p.N))
    r, _ = _rates(r_prev, rec, i, p, stimulate, warm)
    r_hat = jnp.fft.rfft(r)
    if plastic:
        xcorr = jnp.conj(r_del_hat) * (r_hat - r_prev_hat) / p.N
        w_hat = jnp.where(warm, w_hat, w_hat + (-p.lam * p.dt * w_hat + xcorr) * p.beta)
    return r, r_hat, w_hat


def _real_update(w, rows, i, p, variant, stimulate, plastic):
    """One configuration's `full` or `single` step in real space; `rows` are $(r_{i-d}, r_{i-1})$."""
    r_del, r_prev = rows
    warm = i < p.init_steps  # the seed's warm-up: drive on, no recurrent input, no plasticity
    rec = jnp.where(warm, 0.0, _recurrent(w, r_del, variant))
    r, dx = _rates(r_prev, rec, i, p, stimulate, warm)
    if plastic:
        w = jnp.where(warm, w, w + _dw(w, dx, r_del, p, variant))
    return r, w


def _row(buffer, index):
    """`buffer[b, index[b]]` for every configuration b."""
    return jax.vmap(lambda buf, k: jax.lax.dynamic_index_in_dim(buf, k, 0, keepdims=False))(
        buffer, index)


def _open(state, p, variant):
    """The scan carry: the state and the rows the next step reads (`r_{i-d}`, `r_{i-1}`, and for
    circulant the spectrum of `r_{i-1}`). Carrying them — the delayed row read right after the
    buffers are written — keeps every buffer read after its in-place update: XLA never copies it."""
    d, i = state.buffer.shape[1], state.step
    r_prev = jax.lax.dynamic_index_in_dim(state.buffer, (i - 1) % d, 1, False)
    if variant == "circulant":
        return state, (_row(state.buffer_hat, (i - p.delay) % d), r_prev,
                       jax.lax.dynamic_index_in_dim(state.buffer_hat, (i - 1) % d, 1, False))
    return state, (_row(state.buffer, (i - p.delay) % d), r_prev)


def ring_step(carry, p: RingParams, variant: str, stimulate: bool, plastic: bool):
    """One Euler step of the seed's scheme for a stack of configurations (leading axis of the state
    and of `p`, one shared step counter); returns `(new_carry, rates)`, see `_open`."""
    state, rows = carry
    d, i = state.buffer.shape[1], state.step
    at = (jnp.zeros_like(i), i % d, jnp.zeros_like(i))
    if variant == "circulant":
        r, r_hat, w_hat = jax.vmap(
            lambda w_hat, rw, pp: _circulant_update(w_hat, rw, i, pp, stimulate, plastic))(
                state.w_hat, rows, p)
        buffer_hat = jax.lax.dynamic_update_slice(state.buffer_hat, r_hat[:, None], at)
        state = RingState(buffer=jax.lax.dynamic_update_slice(state.buffer, r[:, None], at),
                          w=state.w, step=i + 1, buffer_hat=buffer_hat, w_hat=w_hat)
        return (state, (_row(buffer_hat, (i + 1 - p.delay) % d), r, r_hat)), r
    r, w = jax.vmap(lambda w, rw, pp: _real_update(w, rw, i, pp, variant, stimulate, plastic))(
        state.w, rows, p)
    buffer = jax.lax.dynamic_update_slice(state.buffer, r[:, None], at)
    state = RingState(buffer=buffer, w=w, step=i + 1)
    return (state, (_row(buffer, (i + 1 - p.delay) % d), r)), r


def run_steps(state, p, steps, variant, stimulate, plastic, record_every, block=None,
              resume=True):
    """`steps` steps as nested scans; records the rates (stack, N) after every
    `record_every`-th step, with the time axis first. `block` > 1 (full variant): blocks of that
    many steps as matrix products (`_blocked.py`; `resume` as there)."""
    if is_blocked(variant, block):
        return run_steps_blocked(state, p, steps, stimulate, plastic, record_every, block,
                                 _rates, resume)
    if state.block is not None:  # the per-step path has no block in progress
        state = eqx.tree_at(lambda s: s.block, state, None, is_leaf=lambda x: x is None)

    def step(c, _):
        return ring_step(c, p, variant, stimulate, plastic)

    def block(c, _):
        c, rs = jax.lax.scan(step, c, None, length=record_every)
        return c, rs[-1]

    n_blocks, rest = divmod(steps, record_every)
    carry, rec = jax.lax.scan(block, _open(state, p, variant), None, length=n_blocks)
    if rest:
        carry, _ = jax.lax.scan(lambda c, _: (step(c, None)[0], None), carry, None, length=rest)
    return carry[0], rec


def run_with_weights(state, p, steps, variant, stimulate, plastic, record_every, weights_every,
                     block=None):
    """As `run_steps`, and also the weights after every `weights_every`-th step (a multiple of
    `record_every`, or None for no weight record). Time axes first."""
    if variant == "circulant":
        state = _with_spectra(state)
    if weights_every is None:
        state, rec = run_steps(state, p, steps, variant, stimulate, plastic, record_every, block)
        return _real_weights(state), rec, None
    if is_blocked(variant, block):  # the scan carries the open block: give it one from the start
        state = resume_block(state, p, block, plastic)

    def run(st, n):
        return run_steps(st, p, n, variant, stimulate, plastic, record_every, block, resume=False)

    def outer(st, _):
        st, rec = run(st, weights_every)
        return st, (rec, _real_weights(st).w)

    n_outer, rest = divmod(steps, weights_every)
    state, (rec, ws) = jax.lax.scan(outer, state, None, length=n_outer)
    rec = rec.reshape(-1, *rec.shape[2:])
    if rest:
        state, tail = run(state, rest)
        rec = jnp.concatenate([rec, tail])
    return _real_weights(state), rec, ws


@eqx.filter_jit
def run_batch(states, params, steps, variant, stimulate, plastic, record_every, weights_every,
              block=None):
    """`run_with_weights` for a stack of configurations (leading axis of `states` and `params`).

    All configurations are at the same step (`states.step[0]` is used): the time loop is outside
    the configuration axis, so the ring buffers are updated in place (a `vmap`-ed update would be a
    scatter, which XLA implemented by copying the buffers every step). A single run goes through
    here too, as a stack of one, so a sweep and separate runs share one program."""
    B = states.step.shape[0]
    shared = lambda s: (s.step,) if s.block is None else (s.step, s.block.start)  # noqa: E731
    states = eqx.tree_at(shared, states, tuple(x[0] for x in shared(states)))
    states, rec, ws = run_with_weights(states, params, steps, variant, stimulate, plastic,
                                       record_every, weights_every, block)
    states = eqx.tree_at(shared, states,
                         tuple(jnp.broadcast_to(x, (B,)) for x in shared(states)))
    rec = jnp.swapaxes(rec, 0, 1)
    return states, rec, None if ws is None else jnp.swapaxes(ws, 0, 1)


def check_run_args(config, steps, periods, record_every, weights_every):
    """Validate the shared run arguments; returns `(steps, record_every, weights_every)`."""
    check_config(config)
    record_every = check_positive_int("record_every", record_every)
    if weights_every is not None:
        weights_every = check_positive_int("record_weights_every", weights_every)
        if weights_every % record_every:
            raise ValueError(f"`record_weights_every` ({weights_every}) must be a multiple of "
                             f"`record_every` ({record_every})")
    if (steps is None) == (periods is None):
        raise ValueError("give exactly one of `steps` and `periods`")
    if steps is None:
        steps = config.steps_for(periods) - 1  # steps 1..len(t)-1, as the seed's loops
    return check_positive_int("steps", steps, allow_zero=True), record_every, weights_every


def simulate(
    config: RingConfig,
    w0=None,
    steps: int | None = None,
    *,
    periods: int | None = None,
    variant: Variant = "circulant",
    stimulate: bool = True,
    plastic: bool = True,
    record_every: int = 1,
    record_weights_every: int | None = None,
    state: RingState | None = None,
    block: int | None = None,
) -> SimulationResult:
    r"""Run the seed-001 Euler scheme for `steps` steps (or `periods` drive periods) from step 1.

    $r_i = r_{i-1} + \frac{dt}{\tau_r}\bigl(-r_{i-1} + \varphi(s\,u(t_i) + I_i)\bigr)$,
    $u = A\sin(2\pi(t + \theta_x)/T)$, $I_i = w\,r_{i-d}$ (matrix product for `full`, circular
    convolution $\sum_k w[(n-k) \bmod N]\,r_k$ for `circulant` and `single`). Plasticity
    $w \mathrel{+}= \frac{dt}{\tau_w}(-\lambda w + \dot r\,r_{i-d}^\top)$ for `full` (seed
    `get_dw`); for `circulant` its average over all translations (seed `get_dw_prime_mean`, an FFT
    cross-correlation) — so with plasticity on, circulant and full differ by design; for `single`
    the column of presynaptic neuron 0 (seed `get_dw_prime`). The first `config.init_steps` steps
    are the seed's warm-up: drive on, no recurrent input, no plasticity.

    Memory is O(N·delay) for the state and O(N·steps/record_every) for the record. Returns a
    :class:`SimulationResult` (`state`, `rates`, and `weights` when `record_weights_every` is given).
    Pass `state` back to continue exactly where a run stopped (chunked runs equal one run bitwise).

    `block` (full variant): steps per block of the blocked formulation (`neurojax/ring/_blocked.py`:
    the delayed inputs of up to `delay` steps are known when a block starts, so a block is two
    GEMMs with `w`); an int in [1, delay], default `default_block(config)`; 1 is the per-step path.
    A run that stops inside a block leaves it open in the state; resuming with the same `block`
    finishes it (bitwise equal to one run), with another `block` starts afresh from `state.w`
    (equal to rounding).
    """
    check_choice("variant", variant, VARIANTS)
    steps, record_every, weights_every = check_run_args(config, steps, periods, record_every,
                                                          record_weights_every)
    if state is None:
        if w0 is None:
            raise ValueError("`w0` is required when no `state` is given")
        state = initial_state(config, w0, variant=variant)
    elif w0 is not None:
        raise ValueError("give `w0` or `state`, not both")
    else:
        check_state(state, config, variant)
    block = resolve_block(block, config, variant)
    p = RingParams.from_config(config, state.buffer.dtype)
    add = lambda x: x[None]  # noqa: E731
    out = run_batch(jax.tree.map(add, state), jax.tree.map(add, p), steps, variant,
                    bool(stimulate), bool(plastic), record_every, weights_every, block)
    state, rec, ws = jax.tree.map(lambda x: x[0], out)
    ws = None if weights_every is None else ws
    finite = jnp.all(jnp.isfinite(state.w)) & jnp.all(jnp.isfinite(state.buffer)) & jnp.all(
        jnp.isfinite(rec))
    if ws is not None:
        finite = finite & jnp.all(jnp.isfinite(ws))
    return SimulationResult(state=state, rates=rec, weights=ws, finite=finite)
