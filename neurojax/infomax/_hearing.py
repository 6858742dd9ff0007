r"""Hearing loss and hearing (seed 000; Dotan & Shriki 2021): hearing-loss profiles (per-channel
gains in front of the network), tones, the response to silence, and audiograms by vmapped bisection.

After "hearing loss" (attenuated input channels) the lateral weights K keep maximising the output
entropy and amplify what is left, so the network can respond to silence (tinnitus) and its
thresholds change.
"""

from types import MappingProxyType

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import check_choice, check_finite, check_number, check_positive_int, check_shape
from .._numerics import sigmoid
from ._equilibrium import EquilibriumResult, check_model, equilibrium
from ._inputs import attenuation


def _edge(f0: float, *, soft: bool = False, low: bool = False):
    """A profile that loses the channels above (`low`: below) `f0 · n_in` (`soft`: β = 1)."""
    def gain(n_in, minval, beta):
        return attenuation(n_in, f0=f0 * n_in, beta=1.0 if soft else beta, minval=minval, low=low)
    return gain


def _notch(soft: bool):
    """A profile that loses the band between n_in/4 and 3 n_in/4 (`soft`: β = 1)."""
    def gain(n_in, minval, beta):
        beta = 1.0 if soft else beta
        j = jnp.arange(1, n_in + 1, dtype=jnp.zeros(0).dtype)
        band = sigmoid(beta * (j - n_in / 4)) * sigmoid(beta * (0.75 * n_in - j))
        return 1 - (1 - minval) * band
    return gain


# THE registry of named hearing-loss profiles: name -> gain(n_in, minval, beta). A profile added
# here is known to `hearing_loss`, the configs and the CLI (`--profile`, `--profiles`).
PROFILES = MappingProxyType({
    "baseline": _edge(0.5), "shifted": _edge(0.75), "soft": _edge(0.5, soft=True),
    "low": _edge(0.5, low=True), "notch": _notch(False), "band": _notch(True),
})


def hearing_loss(profile, n_in: int, *, minval: float = 0.0, beta: float = 10.0):
    r"""Per-channel gain (1 = intact, `minval` = lost) of a named profile, channels $j = 1..n_{in}$:

    - `baseline`: high channels lost, $m + (1-m)\,\sigma(\beta(f_0 - j))$, $f_0 = n_{in}/2$ (seed 000);
    - `shifted`: the same with $f_0 = \tfrac34 n_{in}$; `soft`: $\beta = 1$;
    - `low`: the mirror image (low channels lost);
    - `notch`: a band lost, $1 - (1-m)\,\sigma(\beta(j - n_{in}/4))\,\sigma(\beta(\tfrac34 n_{in} - j))$;
    - `band`: the paper's notch, $1 - (1 - \sigma(10 - j))(1 - \sigma(j - 30))$ at $n_{in} = 40$,
      i.e. `notch` with $\beta = 1$ whatever `beta` says (docs/paper.md, "The protocol").

    At $n_{in} = 40$, `minval = 0` and the default β these are the paper's five profiles
    (`baseline`, `shifted`, `soft`, `band`, `low`).

    A 1-D array of length `n_in` is returned as given (validated: finite, in [0, 1])."""
    n_in = check_positive_int("n_in", n_in)
    if not isinstance(profile, str):
        return gain_vector("profile", profile, n_in)
    check_choice("profile", profile, set(PROFILES))
    beta = check_number("beta", beta, low=0.0)
    return PROFILES[profile](n_in, minval, beta)


def gain_vector(name: str, gain, n_in: int):
    """`gain` as a per-channel gain vector: ValueError naming `name` unless it is finite, of shape
    (n_in,) and in [0, 1]."""
    gain = jnp.asarray(gain)
    if gain.shape != (n_in,):
        raise ValueError(f"`{name}` gain vector must have shape ({n_in},), got {gain.shape}")
    check_finite(name, gain)
    if bool(jnp.any((gain < 0) | (gain > 1))):
        raise ValueError(f"`{name}` gains must lie in [0, 1]")
    return gain


def silence_response(model, **solver_kwargs) -> EquilibriumResult:
    r"""The equilibrium for silence, $x = 0$ (only the threshold input drives the network), as an
    :class:`EquilibriumResult`: the response `g`, `num_steps` and `converged` (False when the
    fixed-point solve failed — then `g` is the last iterate, not a response). `solver_kwargs` as
    :func:`equilibrium` (`throw=True` raises instead)."""
    return equilibrium(model, jnp.zeros(model.n_in, model.W.dtype), **solver_kwargs)


class Audiogram(eqx.Module):
    """Result of :func:`audiogram`: `thresholds` per input channel and `converged` per channel
    (every fixed point that the channel's bisection solved, and the silence response, converged;
    where False the channel's threshold is not to be trusted)."""

    thresholds: Float[Array, " n_in"]
    converged: Bool[Array, " n_in"]


def tone(n_in: int, channel, amplitude, *, width: float = 1.0):
    r"""A pure tone at `channel` (1-based, may be fractional): $a\,e^{-(j-c)^2/2w^2}$, $j = 1..n_{in}$;
    `width=0` gives the unit impulse $a\,e_c$ of the paper's audiogram scripts."""
    n_in = check_positive_int("n_in", n_in)
    width = check_number("width", width, low=0.0)
    check_number("channel", channel)
    check_number("amplitude", amplitude)
    j = jnp.arange(1, n_in + 1, dtype=jnp.result_type(amplitude, float))
    if width == 0:
        return jnp.where(j == channel, amplitude, 0.0).astype(j.dtype)
    return amplitude * jnp.exp(-0.5 * ((j - channel) / width) ** 2)


def audiogram(model, *, gain=None, threshold: float = 0.05, a_max: float = 10.0,
              n_bisect: int = 40, width: float = 1.0, undetected: str = "inf",
              silence=None, **solver_kwargs) -> Audiogram:
    r"""Hearing threshold per input channel: the smallest tone amplitude $a$ (see `tone`) whose
    output differs from the silence response by more than `threshold` in some output,
    $\max_i |g_i(\text{gain}\cdot a\,\text{tone}_j) - g_i(0)| > \theta$, found by `n_bisect`
    bisection steps on $[0, a_{max}]$, vmapped over channels (assumes the response grows with $a$).
    `gain` (per channel) models the damaged ear in front of the network. Channels not detected
    even at `a_max` get `inf` (`undetected="inf"`) or `a_max` (`"a_max"`, the paper's scripts).
    Compare two audiograms in dB as $20\log_{10}(a/a_{ref})$ (amplitude) or, as the paper's
    scripts do, $10\log_{10} a$ minus the mean before deprivation.

    Two conventions: the default (a Gaussian tone of width 1, θ = 0.05, $a \le 10$) is this
    package's; the paper's scripts use a unit impulse `width=0`, θ = 1e-2, $a \le 100$, bisection
    to 1e-6 (`n_bisect=27`) and `undetected="a_max"` (:func:`paper_audiogram`). `silence`: the
    reference response (default: this model's :func:`silence_response`).

    Returns an :class:`Audiogram` (`thresholds`, and `converged` per channel). `solver_kwargs`:
    the equilibrium's `method`, `rtol`, `atol`, `max_steps` (:func:`equilibrium`)."""
    check_model(model)
    threshold = check_number("threshold", threshold, low=0.0, strict=True)
    a_max = check_number("a_max", a_max, low=0.0, strict=True)
    n_bisect = check_positive_int("n_bisect", n_bisect)
    check_choice("undetected", undetected, ("inf", "a_max"))
    width = check_number("width", width, low=0.0)
    dt = model.W.dtype
    g = jnp.ones(model.n_in, dt) if gain is None else (
        hearing_loss(gain, model.n_in) if isinstance(gain, str)
        else gain_vector("gain", gain, model.n_in)).astype(dt)
    if silence is None:
        s = silence_response(model, **solver_kwargs)
        g0, ok0 = s.g, s.converged
    else:
        g0, ok0 = jnp.asarray(silence, dt), jnp.array(True)
        check_shape("silence", g0, (model.n_out,))
        check_finite("silence", g0)
    thresholds, ok = _audiogram(model, g, g0, jnp.asarray(threshold, dt), jnp.asarray(a_max, dt),
                                n_bisect, width, undetected == "inf",
                                tuple(sorted(solver_kwargs.items())))
    return Audiogram(thresholds=thresholds, converged=ok & ok0)


def paper_audiogram(model, *, gain=None, silence=None) -> Audiogram:
    r""":func:`audiogram` with the paper scripts' convention: amplitude $a$ of a unit impulse
    $a\,e_j$ in [0, 100] at which the largest output change reaches 1e-2, bisection to 1e-6,
    100 where never reached."""
    n_bisect = int(np.ceil(np.log2(100 / 1e-6)))
    return audiogram(model, gain=gain, threshold=1e-2, a_max=100.0, n_bisect=n_bisect, width=0.0,
                     undetected="a_max", silence=silence)


@eqx.filter_jit
def _audiogram(model, gain, g0, threshold, a_max, n_bisect, width, inf_if_missing, solver_items):
    def heard(c, a):
        x = gain * tone(model.n_in, c, a, width=width)
        r = equilibrium(model, x, **dict(solver_items))
        return jnp.max(jnp.abs(r.g - g0)) > threshold, r.converged

    def one(c):
        def step(_, state):
            lo, hi, ok = state
            mid = 0.5 * (lo + hi)
            h, conv = heard(c, mid)
            return jnp.where(h, lo, mid), jnp.where(h, mid, hi), ok & conv

        top, ok = heard(c, a_max)
        lo, hi, ok = jax.lax.fori_loop(0, n_bisect, step, (jnp.zeros((), a_max.dtype), a_max, ok))
        missing = jnp.inf if inf_if_missing else a_max
        return jnp.where(top, hi, missing), ok

    return jax.lax.map(one, jnp.arange(1, model.n_in + 1, dtype=a_max.dtype))
