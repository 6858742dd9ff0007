"""Many ring configurations as one vmapped, jitted simulation (padded delay buffer)."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_choice, check_finite
from ..parallel import batch_sharding, check_divisible
from ._blocked import resolve_block
from ._config import RingConfig
from ._simulate import (
    VARIANTS,
    RingParams,
    RingState,
    check_run_args,
    initial_state,
    run_batch,
)


class SweepResult(eqx.Module):
    """Result of :func:`sweep`, a leading axis B (one per configuration) on every array: the final
    `states`, the recorded `rates`, the recorded `weights` (None unless `record_weights_every`), and
    the B `configs` (a tuple of `RingConfig`)."""

    states: RingState
    rates: Float[Array, "b frames n"]
    weights: Float[Array, "b wframes ..."] | None
    configs: tuple = eqx.field(static=True)


SWEEPABLE = ("tau_d", "lam", "tau_w", "tau_r", "drive_period", "amplitude", "gain")


def _batched_params(config, values, dtype):
    lengths = {k: np.size(v) for k, v in values.items()}
    sizes = set(lengths.values()) - {1}
    if len(sizes) > 1:
        raise ValueError(f"`values` must all have the same length (or length 1), got {lengths}")
    B = sizes.pop() if sizes else 1
    vals = {k: np.broadcast_to(np.asarray(v, float).ravel(), (B,)) for k, v in values.items()}
    for k, v in vals.items():
        if not np.all(np.isfinite(v)) or (k != "lam" and not np.all(v > 0)) or np.any(v < 0):
            raise ValueError(f"`values[{k!r}]` must be finite and {'>= 0' if k == 'lam' else '> 0'}")
    cfgs = []
    params = []
    for b in range(B):
        cfg = dataclasses.replace(config, **{k: float(v[b]) for k, v in vals.items()})
        cfgs.append(cfg)
        params.append(RingParams.from_config(cfg, dtype))
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *params)
    return stacked, cfgs


def sweep(
    config: RingConfig,
    w0,
    values: dict,
    steps: int | None = None,
    *,
    periods: int | None = None,
    variant: str = "circulant",
    stimulate: bool = True,
    plastic: bool = True,
    record_every: int = 1,
    record_weights_every: int | None = None,
    mesh=None,
    block: int | None = None,
) -> SweepResult:
    r"""Simulate one ring per configuration, all as ONE `jax.vmap`-ed, jitted `lax.scan`.

    `values` maps names in `SWEEPABLE` (`tau_d`, `lam`, `tau_w`, `tau_r`, `drive_period`,
    `amplitude`, `gain`) to 1-D arrays of equal length B (length-1 entries broadcast); every other
    constant comes from `config`. Shapes must be time-invariant, so every ring buffer is padded to
    the largest delay + 1 (the delay itself is a per-configuration index into it; results equal
    separate `simulate` runs; `block`, for the full variant, must not exceed the smallest delay).
    `periods` counts periods of `config`'s drive. `w0` is one initial
    weight array (shared) or a stack with leading axis B. `mesh` (any 1-D mesh, or
    `(mesh, axis_name)`, as for the InfoMax functions) splits the B configurations over its
    devices (B must be divisible by their number).

    Returns a :class:`SweepResult`.
    """
    check_choice("variant", variant, VARIANTS)
    if not isinstance(values, dict) or not values:
        raise ValueError("`values` must be a non-empty dict {name: array}")
    unknown = sorted(set(values) - set(SWEEPABLE))
    if unknown:
        raise ValueError(f"`values`: cannot sweep {unknown}; sweepable: {list(SWEEPABLE)}")
    steps, record_every, weights_every = check_run_args(config, steps, periods, record_every,
                                                          record_weights_every)
    w0 = jnp.asarray(w0)
    check_finite("w0", w0)
    dtype = w0.dtype if jnp.issubdtype(w0.dtype, jnp.floating) else jnp.result_type(float)
    params, cfgs = _batched_params(config, values, dtype)
    B = len(cfgs)
    d = max(c.delay_steps for c in cfgs) + 1
    block = resolve_block(block, min(cfgs, key=lambda c: c.delay_steps), variant)
    one = w0.ndim == (2 if variant == "full" else 1)
    ws = jnp.broadcast_to(w0, (B, *w0.shape)) if one else w0
    if ws.shape[0] != B:
        raise ValueError(f"`w0` must be one weight array or a stack of {B}, got shape {w0.shape}")
    states = jax.vmap(lambda w: initial_state(config, w, variant=variant, buffer_len=d))(ws)
    if mesh is not None:
        check_divisible("number of configurations", B, mesh)
        split = lambda x: jax.device_put(x, batch_sharding(mesh, 0, x.ndim))  # noqa: E731
        states, params = jax.tree.map(split, (states, params))
    states, rec, wrec = run_batch(states, params, steps, variant, bool(stimulate), bool(plastic),
                                  record_every, weights_every, block)
    return SweepResult(states=states, rates=rec, weights=None if weights_every is None else wrec,
                       configs=tuple(cfgs))
