"""Euler simulation of the delayed plastic ring (seed 001) as one `lax.scan` with a ring-buffer delay."""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._checks import check_choice, check_finite, check_positive_int
from ._config import RingConfig

Variant = Literal["full", "circulant"]


class RingState(eqx.Module):
    """Simulation state: the last `delay+1` rate vectors (ring buffer), the weights, the step index."""

    buffer: Float[Array, "d n"]
    w: Float[Array, "..."]
    step: Int[Array, ""]


def phi(v, gain=10.0):
    r"""Rate nonlinearity $\varphi(v) = 1/(1 + e^{-\mathrm{gain}\,v})$, exponent clipped to ±250 (seed)."""
    return 1.0 / (1.0 + jnp.exp(jnp.clip(-gain * v, -250.0, 250.0)))


def _recurrent(w, r, variant):
    if variant == "full":
        return w @ r
    # circulant: (w ⊛ r)[n] = Σ_k w[(n − k) mod N] r[k], by FFT as the seed
    return jnp.real(jnp.fft.ifft(jnp.fft.fft(w) * jnp.fft.fft(r)))


def _dw(w, dx, r_del, cfg, variant):
    if variant == "full":
        return (-cfg.lam * w + jnp.outer(dx / cfg.dt, r_del)) * cfg.dt * cfg.beta
    # seed's translation-averaged rule: mean_i dx[(i+j) mod N] r_del[i], an FFT cross-correlation
    xcorr = jnp.real(jnp.fft.ifft(jnp.conj(jnp.fft.fft(r_del)) * jnp.fft.fft(dx))) / cfg.N
    return (-cfg.lam * w * cfg.dt + xcorr) * cfg.beta


def initial_state(config: RingConfig, w0, *, variant: Variant = "circulant") -> RingState:
    """Rates 0, weights `w0` ((N, N) for `full`, (N,) for `circulant`), step 0."""
    check_choice("variant", variant, {"full", "circulant"})
    w0 = jnp.asarray(w0)
    want = (config.N, config.N) if variant == "full" else (config.N,)
    if w0.shape != want:
        raise ValueError(f"`w0` must have shape {want} for variant={variant!r}, got {w0.shape}")
    check_finite("w0", w0)
    buffer = jnp.zeros((config.delay_steps + 1, config.N), w0.dtype)
    return RingState(buffer=buffer, w=w0, step=jnp.array(0, jnp.int32))


def _step_fn(cfg, variant, stimulate, plastic):
    d = cfg.delay_steps + 1
    theta = jnp.linspace(0.0, cfg.T, cfg.N, endpoint=False)

    def step(state):
        i = state.step
        r_prev = state.buffer[(i - 1) % d]
        r_del = state.buffer[(i - cfg.delay_steps) % d]
        t = i * cfg.dt
        warm = i < cfg.init_steps  # the seed's warm-up: drive on, no recurrent input, no plasticity
        drive = cfg.amplitude * jnp.sin(2 * jnp.pi * (t + theta) / cfg.T)
        drive = jnp.where(warm | stimulate, drive, 0.0)
        rec = jnp.where(warm, 0.0, _recurrent(state.w, r_del, variant))
        dx = (-r_prev + phi(drive + rec, cfg.gain)) * cfg.dt * cfg.alpha
        r = r_prev + dx
        w = state.w
        if plastic:
            w = jnp.where(warm, w, w + _dw(w, dx, r_del, cfg, variant))
        return RingState(buffer=state.buffer.at[i % d].set(r), w=w, step=i + 1), r

    return step


@eqx.filter_jit
def _run(state, cfg, n_steps, variant, stimulate, plastic, record_every):
    step = _step_fn(cfg, variant, stimulate, plastic)

    def block(st, _):
        def inner(s, _):
            s, r = step(s)
            return s, r

        st, rs = jax.lax.scan(inner, st, None, length=record_every)
        return st, rs[-1]

    n_blocks, rest = divmod(n_steps, record_every)
    state, rec = jax.lax.scan(block, state, None, length=n_blocks)
    if rest:
        state, _ = jax.lax.scan(lambda s, _: (step(s)[0], None), state, None, length=rest)
    return state, rec


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
    state: RingState | None = None,
):
    r"""Run the seed-001 Euler scheme for `n_steps` steps (or `periods` drive periods) from step 1.

    $r_i = r_{i-1} + \frac{dt}{\tau_r}\bigl(-r_{i-1} + \varphi(s\,u(t_i) + I_i)\bigr)$,
    $u = A\sin(2\pi(t + \theta_x)/T)$, $I_i = w\,r_{i-d}$ (matrix product for `full`, circular
    convolution for `circulant`); plasticity $w \mathrel{+}= \frac{dt}{\tau_w}(-\lambda w +
    \dot r\,r_{i-d}^\top)$ (`full`) or its average over all translations (`circulant`, the seed's
    `get_dw_prime_mean`). The first `config.init_steps` steps are the seed's warm-up: drive on, no
    recurrent input, no plasticity. Step 0 is the zero state, as in the seed.

    Memory is O(N·delay) for the state and O(N·n_steps/record_every) for the record (the rate vector
    after every `record_every`-th step). Returns `(state, record)`; pass `state` back to continue
    exactly where a run stopped (chunked runs equal one run bitwise).
    """
    check_choice("variant", variant, {"full", "circulant"})
    record_every = check_positive_int("record_every", record_every)
    if state is None:
        if w0 is None:
            raise ValueError("`w0` is required when no `state` is given")
        state = initial_state(config, w0, variant=variant)
        state = eqx.tree_at(lambda s: s.step, state, jnp.array(1, jnp.int32))
    if (n_steps is None) == (periods is None):
        raise ValueError("give exactly one of `n_steps` and `periods`")
    if n_steps is None:
        n_steps = config.steps_for(periods) - 1  # steps 1..len(t)-1, as the seed's loops
    n_steps = check_positive_int("n_steps", n_steps, allow_zero=True)
    return _run(state, config, n_steps, variant, bool(stimulate), bool(plastic), record_every)
