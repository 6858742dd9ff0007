"""Training loops for the recurrent InfoMax network: jitted `lax.scan` chunks driven from Python."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .._checks import check_finite, check_positive_int, check_rows
from ..parallel import check_divisible, replicate
from ._data_parallel import sharded_objective_and_grads
from ._learners import batch_update
from ._learning import infomax_optimizer
from ._objective import objective_and_grads
from ._stability import spectral_radius


class StepStats(eqx.Module):
    """Per-step statistics of learning (a leading step axis on every field): `objective` $J$ of the
    batch before the step, `dW_norm`, `dK_norm` (Frobenius norms of the changes), `fp_steps` (the
    largest fixed-point step count of the batch), `converged` (every solve of the step converged)
    and `neumann` (the step's linear solves took the Neumann path)."""

    objective: Float[Array, "*steps"]
    dW_norm: Float[Array, "*steps"]
    dK_norm: Float[Array, "*steps"]
    fp_steps: Int[Array, "*steps"]
    converged: Bool[Array, "*steps"]
    neumann: Bool[Array, "*steps"]


class TrainResult(eqx.Module):
    r"""Result of :func:`learn_steps`, :func:`train_on_batches` and :func:`train`: the learned `model`,
    the optimizer state `opt_state` (pass both back to continue), the per-step `stats`
    (:class:`StepStats`; NumPy arrays except from the pure :func:`learn_steps`), and, from
    :func:`train` only (else None), `log_step` (the step after each logged chunk) and `rho_K`
    ($\rho(K)$ there), and `diverged_at`: None, or the first step whose weights were not finite —
    then `train` stopped after that chunk, `model` and `opt_state` are the last finite ones (from
    before the chunk) and `stats` include the chunk that diverged."""

    model: eqx.Module
    opt_state: object
    stats: StepStats
    log_step: np.ndarray | None = None
    rho_K: np.ndarray | None = None
    diverged_at: int | None = None


def learn_steps(model, opt_state, data, idx, optimizer, *, mesh=None, **solver_kwargs) -> TrainResult:
    """Pure learning steps (no jit, no host side effects; vmappable, e.g. over an ensemble of
    penalties): step `s` learns on `data[idx[s]]`. With a `mesh` (a 1-D mesh with any axis name,
    or `(mesh, axis_name)`; e.g. `neurojax.parallel.data_mesh()`) each batch is split over its
    devices (data parallel). Returns a :class:`TrainResult` (`stats` as JAX arrays)."""
    _check_batches("idx", idx, jnp.shape(data)[-2] if jnp.ndim(data) >= 2 else 0)
    check_finite("data", data)
    if mesh is None:
        grad_fn = objective_and_grads
    else:
        grad_fn = lambda m, x, **kw: sharded_objective_and_grads(m, x, mesh, **kw)  # noqa: E731

    def body(carry, ix):
        m, state = carry
        new, state, r = batch_update(optimizer, m, state, data[ix], grad_fn, **solver_kwargs)
        out = StepStats(objective=r.value, dW_norm=jnp.linalg.norm(new.W - m.W),
                        dK_norm=jnp.linalg.norm(new.K - m.K), fp_steps=r.num_steps,
                        converged=r.converged, neumann=r.neumann)
        return (new, state), out

    (model, opt_state), out = jax.lax.scan(body, (model, opt_state), idx)
    return TrainResult(model=model, opt_state=opt_state, stats=out)


@eqx.filter_jit
def _run_chunk(model, opt_state, data, idx, optimizer, solver_items, mesh):
    return learn_steps(model, opt_state, data, idx, optimizer, mesh=mesh, **dict(solver_items))


def _check_batches(name, idx, n_rows):
    """ValueError naming `name` unless `idx` is a 2-d integer array (steps, batch) of rows of the
    data (range checked where concrete)."""
    if jnp.ndim(idx) != 2 or not jnp.issubdtype(jnp.result_type(idx), jnp.integer):
        raise ValueError(f"`{name}` must be a 2-d integer array (steps, batch), got shape "
                         f"{jnp.shape(idx)}, dtype {jnp.result_type(idx)}")
    check_rows(name, idx, n_rows, "data")


def _check_data(model, data):
    data = jnp.asarray(data)
    if data.ndim != 2 or data.shape[1] != model.n_in:
        raise ValueError(f"`data` must have shape (n_samples, {model.n_in}), got {data.shape}")
    check_finite("data", data)
    return data


def train_on_batches(
    model,
    data: Float[ArrayLike, "n_samples n_in"],
    batch_indices: Int[ArrayLike, "steps batch"],
    *,
    optimizer=None,
    opt_state=None,
    mesh=None,
    **solver_kwargs,
) -> TrainResult:
    """Learn on explicit batches: step `s` uses `data[batch_indices[s]]` (one jitted `lax.scan`).
    With a `mesh`, every batch is split over its devices (data parallel; the batch size must be
    divisible by the number of devices); the result equals the one-device result up to summation
    order.

    This is how the seed's own batches are replayed for parity. `optimizer` defaults to
    :func:`infomax_optimizer` (the seed's rule). Returns a :class:`TrainResult` (`stats` as NumPy
    arrays). `solver_kwargs`:
    `linear_solver` (:func:`objective_and_grads`) and the equilibrium's `method`, `rtol`, `atol`,
    `max_steps`.
    """
    data = _check_data(model, data)
    idx = jnp.asarray(batch_indices)
    _check_batches("batch_indices", idx, data.shape[0])
    optimizer = infomax_optimizer() if optimizer is None else optimizer
    if opt_state is None:
        opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    if mesh is not None:
        check_divisible("batch size", idx.shape[1], mesh)
        model, opt_state, data, idx = replicate((model, opt_state, data, idx), mesh)
    r = _run_chunk(model, opt_state, data, idx, optimizer, tuple(sorted(solver_kwargs.items())), mesh)
    return TrainResult(model=r.model, opt_state=r.opt_state, stats=jax.tree.map(np.asarray, r.stats))


def batch_indices(n_samples: int, batch_size: int, steps: range, *,
                  key: PRNGKeyArray) -> Int[Array, "s b"]:
    """Batch indices for global steps `steps`: step `s` draws `batch_size` distinct rows with key
    `fold_in(key, s)`, so any slice of a run can be re-drawn exactly (chunking, resuming)."""
    n_samples = check_positive_int("n_samples", n_samples)
    batch_size = check_positive_int("batch_size", batch_size)
    if batch_size > n_samples:
        raise ValueError(f"`batch_size` ({batch_size}) must be <= `n_samples` ({n_samples})")
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
        raise TypeError(f"`steps` must be a range (or sequence) of step numbers, got "
                        f"{type(steps).__name__}")
    steps = [check_positive_int("steps", s, allow_zero=True) for s in steps]
    draw = lambda s: jax.random.choice(  # noqa: E731
        jax.random.fold_in(key, s), n_samples, (batch_size,), replace=False
    )
    return jax.vmap(draw)(jnp.asarray(list(steps), dtype=jnp.int32))


def train(
    model,
    data: Float[ArrayLike, "n_samples n_in"],
    *,
    key: PRNGKeyArray,
    steps: int,
    batch_size: int = 16,
    optimizer=None,
    opt_state=None,
    start_step: int = 0,
    log_every: int = 100,
    progress=None,
    mesh=None,
    **solver_kwargs,
) -> TrainResult:
    r"""Maximise the mean InfoMax objective by minibatch learning (seed 000's loop, jitted).

    Step `s` (counting from `start_step`) learns on `batch_size` distinct rows of `data` drawn with
    `fold_in(key, s)` — nothing but the data set is held in memory. Steps run in jitted `lax.scan`
    chunks of `log_every`; between chunks the spectral radius $\rho(K)$ is logged and `progress`, if
    given, is called on the host as `progress(dict(step=, total=, objective=, rho_K=))`. Returns a
    :class:`TrainResult` with per-step `stats` and per-chunk `log_step`, `rho_K`.
    If learning diverges (non-finite weights after a chunk), training stops there with a
    `RuntimeWarning`: the result holds the last finite model and the history up to the divergence
    (`diverged_at`, the first step with non-finite weight changes).
    `solver_kwargs` as :func:`train_on_batches`.
    `mesh`: split each batch over the mesh's devices (any 1-D mesh, or `(mesh, axis_name)`; data
    parallel, also across processes after `neurojax.parallel.initialize`).
    """
    data = _check_data(model, data)
    steps = check_positive_int("steps", steps, allow_zero=True)
    batch_size = check_positive_int("batch_size", batch_size)
    log_every = check_positive_int("log_every", log_every)
    if batch_size > data.shape[0]:
        raise ValueError(f"`batch_size` ({batch_size}) must be <= the number of samples ({data.shape[0]})")
    optimizer = infomax_optimizer() if optimizer is None else optimizer
    if opt_state is None:
        opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    if progress is not None and not callable(progress):
        raise TypeError(f"`progress` must be None or a callable, got {type(progress).__name__}")
    chunks, log_step, rho, diverged_at = [], [], [], None
    for lo in range(start_step, start_step + steps, log_every):
        hi = min(lo + log_every, start_step + steps)
        idx = batch_indices(data.shape[0], batch_size, range(lo, hi), key=key)
        r = train_on_batches(model, data, idx, optimizer=optimizer, opt_state=opt_state, mesh=mesh,
                             **solver_kwargs)
        chunks.append(r.stats)
        if not all(bool(jnp.all(jnp.isfinite(a))) for a in jax.tree.leaves(eqx.filter(
                r.model, eqx.is_inexact_array))):
            bad = ~(np.isfinite(r.stats.dW_norm) & np.isfinite(r.stats.dK_norm))
            diverged_at = lo + int(np.argmax(bad)) if bad.any() else hi - 1
            warnings.warn(f"train: learning diverged at step {diverged_at} (non-finite weights); "
                          f"stopped, returning the model of step {lo}", RuntimeWarning, stacklevel=2)
            break
        model, opt_state = r.model, r.opt_state
        log_step.append(hi)
        rho.append(spectral_radius(model.K))
        if progress is not None:
            progress({"step": hi - start_step, "total": steps,
                      "objective": float(r.stats.objective[-1]), "rho_K": rho[-1]})
    if chunks:
        stats = jax.tree.map(lambda *c: np.concatenate(c), *chunks)
    else:
        stats = StepStats(*(np.zeros(0, t) for t in (float, float, float, int, bool, bool)))
    return TrainResult(model=model, opt_state=opt_state, stats=stats,
                       log_step=np.asarray(log_step), rho_K=np.asarray(rho), diverged_at=diverged_at)
