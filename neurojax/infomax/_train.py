"""Training loops for the recurrent InfoMax network: jitted `lax.scan` chunks driven from Python."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._checks import check_finite, check_positive_int
from ._learning import infomax_optimizer
from ._objective import objective_and_grads


def spectral_radius(K) -> float:
    r"""$\rho(K) = \max_i |\lambda_i(K)|$, computed on the host (NumPy) for logging."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(K, dtype=np.float64)))))


def learn_steps(model, opt_state, data, idx, optimizer, *, mesh=None, **solver_kwargs):
    """Pure learning steps (no jit, no host side effects; vmappable, e.g. over penalties): step `s`
    learns on `data[idx[s]]`. With a `mesh` (see `neurojax.parallel.data_mesh`) each batch is
    split over its devices (data parallel). Returns `(model, opt_state, per-step stats)`."""
    params_of = lambda m: eqx.filter(m, eqx.is_array)  # noqa: E731
    if mesh is None:
        grad_fn = objective_and_grads
    else:
        from ..parallel import sharded_objective_and_grads

        grad_fn = lambda m, x, **kw: sharded_objective_and_grads(m, x, mesh, **kw)  # noqa: E731

    def body(carry, ix):
        m, state = carry
        value, grads, stats = grad_fn(m, data[ix], **solver_kwargs)
        loss_grads = jax.tree_util.tree_map(jnp.negative, params_of(grads))
        updates, state = optimizer.update(loss_grads, state, params_of(m))
        new = eqx.apply_updates(m, updates)
        out = {
            "objective": value,
            "dW_norm": jnp.linalg.norm(new.W - m.W),
            "dK_norm": jnp.linalg.norm(new.K - m.K),
            "fp_steps": stats["max_steps"],
            "converged": stats["all_converged"],
            "neumann": stats["neumann"],
        }
        return (new, state), out

    (model, opt_state), out = jax.lax.scan(body, (model, opt_state), idx)
    return model, opt_state, out


@eqx.filter_jit
def _run_chunk(model, opt_state, data, idx, optimizer, solver_items, mesh):
    return learn_steps(model, opt_state, data, idx, optimizer, mesh=mesh, **dict(solver_items))


def _check_data(model, data):
    data = jnp.asarray(data)
    if data.ndim != 2 or data.shape[1] != model.n_in:
        raise ValueError(f"`data` must have shape (n_samples, {model.n_in}), got {data.shape}")
    check_finite("data", data)
    return data


def train_on_batches(
    model,
    data: Float[Array, "n_samples n_in"],
    batch_indices: Int[Array, "steps batch"],
    *,
    optimizer=None,
    opt_state=None,
    mesh=None,
    **solver_kwargs,
):
    """Learn on explicit batches: step `s` uses `data[batch_indices[s]]` (one jitted `lax.scan`).
    With a `mesh`, every batch is split over its devices (data parallel; the batch size must be
    divisible by the number of devices); the result equals the one-device result up to summation
    order.

    This is how the seed's own batches are replayed for parity. `optimizer` defaults to
    :func:`infomax_optimizer` (the seed's rule). Returns `(model, history)`, `history` a dict of per-step
    NumPy arrays (`objective` before the step, `dW_norm`, `dK_norm`, `fp_steps`, `converged`,
    `neumann`: which linear-solve path the step took) plus `opt_state`. `solver_kwargs`:
    `linear_solver` (:func:`objective_and_grads`) and the equilibrium's `method`, `rtol`, `atol`,
    `max_steps`.
    """
    data = _check_data(model, data)
    idx = jnp.asarray(batch_indices)
    if idx.ndim != 2 or not jnp.issubdtype(idx.dtype, jnp.integer):
        raise ValueError(f"`batch_indices` must be a 2-d integer array (steps, batch), got {idx.shape}")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= data.shape[0]):
        raise ValueError(f"`batch_indices` must lie in [0, {data.shape[0]}) (rows of `data`)")
    optimizer = infomax_optimizer() if optimizer is None else optimizer
    if opt_state is None:
        opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    if mesh is not None:
        from ..parallel import replicate
        from ..parallel._mesh import check_divisible

        check_divisible("batch size", idx.shape[1], mesh)
        model, opt_state, data, idx = replicate((model, opt_state, data, idx), mesh)
    model, opt_state, out = _run_chunk(
        model, opt_state, data, idx, optimizer, tuple(sorted(solver_kwargs.items())), mesh
    )
    history = {k: np.asarray(v) for k, v in out.items()}
    history["opt_state"] = opt_state
    return model, history


def batch_indices(key: PRNGKeyArray, n_samples: int, batch_size: int, steps: range) -> Int[Array, "s b"]:
    """Batch indices for global steps `steps`: step `s` draws `batch_size` distinct rows with key
    `fold_in(key, s)`, so any slice of a run can be re-drawn exactly (chunking, resuming)."""
    draw = lambda s: jax.random.choice(  # noqa: E731
        jax.random.fold_in(key, s), n_samples, (batch_size,), replace=False
    )
    return jax.vmap(draw)(jnp.asarray(list(steps), dtype=jnp.int32))


def train(
    model,
    data: Float[Array, "n_samples n_in"],
    *,
    key: PRNGKeyArray,
    steps: int,
    batch_size: int = 16,
    optimizer=None,
    opt_state=None,
    start_step: int = 0,
    log_every: int = 100,
    progress: bool = True,
    desc: str = "infomax",
    mesh=None,
    **solver_kwargs,
):
    r"""Maximise the mean InfoMax objective by minibatch learning (seed 000's loop, jitted).

    Step `s` (counting from `start_step`) learns on `batch_size` distinct rows of `data` drawn with
    `fold_in(key, s)` — nothing but the data set is held in memory. Steps run in jitted `lax.scan`
    chunks of `log_every`; between chunks the spectral radius $\rho(K)$ is logged and a progress bar
    advances. Returns `(model, history)`: per-step arrays `objective`, `dW_norm`, `dK_norm`,
    `fp_steps`, `converged`, `neumann`; per-chunk `log_step`, `rho_K`; and the final `opt_state`.
    `solver_kwargs` as :func:`train_on_batches`.
    `mesh`: split each batch over the mesh's devices (`neurojax.parallel.data_mesh()`; data
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
    chunks, log_step, rho = [], [], []
    from tqdm.auto import tqdm

    with tqdm(total=steps, desc=desc, disable=not progress, leave=False) as bar:
        for lo in range(start_step, start_step + steps, log_every):
            hi = min(lo + log_every, start_step + steps)
            idx = batch_indices(key, data.shape[0], batch_size, range(lo, hi))
            model, hist = train_on_batches(model, data, idx, optimizer=optimizer, opt_state=opt_state,
                                           mesh=mesh, **solver_kwargs)
            opt_state = hist.pop("opt_state")
            chunks.append(hist)
            log_step.append(hi)
            rho.append(spectral_radius(model.K))
            bar.update(hi - lo)
            bar.set_postfix(J=f"{hist['objective'][-1]:.3f}", rho=f"{rho[-1]:.3f}")
    keys = ("objective", "dW_norm", "dK_norm", "fp_steps", "converged", "neumann")
    history = {k: np.concatenate([c[k] for c in chunks]) if chunks else np.zeros(0) for k in keys}
    history.update(log_step=np.asarray(log_step), rho_K=np.asarray(rho), opt_state=opt_state)
    return model, history
