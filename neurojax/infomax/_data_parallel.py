r"""Data-parallel InfoMax learning: the batch of per-sample gradients is split over a device mesh.

Each device computes $\frac1{B_d}\sum_{b \in d} \nabla J(x_b)$ on its shard of the batch (vmapped,
with the fixed point differentiated implicitly as on one device), and the shards are averaged with
`lax.pmean` — equal shard sizes make this the full-batch mean. The gradient is taken *inside* the
per-device function of the local batch (`check_vma=False`), so no cotangent of the replicated
parameters is summed implicitly (which would make gradients `n_devices` times too large).
Results equal the single-device ones up to summation order (~1e-15 relative in float64).
"""

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from ..parallel import check_divisible, mesh_axis
from ._equilibrium import check_batch
from ._objective import ObjectiveResult, objective_and_grads


def sharded_objective_and_grads(model, xs, mesh, **solver_kwargs) -> ObjectiveResult:
    """:func:`objective_and_grads` with the batch `xs` (B, n_in) split over `mesh` (a 1-D mesh
    with any axis name, or `(mesh, axis_name)`; B divisible by the devices along that axis);
    returns the same :class:`ObjectiveResult`."""
    check_batch(model, xs)
    check_divisible("batch size", xs.shape[0], mesh)
    mesh, axis = mesh_axis(mesh)

    def local(m, x):
        r = objective_and_grads(m, x, **solver_kwargs)
        mean = lambda t: jax.lax.pmean(t, axis)  # noqa: E731
        every = lambda flag: jax.lax.pmin(flag.astype(jnp.int32), axis) > 0  # noqa: E731
        # each shard picks its own linear-solve path; `neumann`: every shard took the Neumann path
        return ObjectiveResult(value=mean(r.value), grads=jax.tree.map(mean, r.grads),
                               num_steps=jax.lax.pmax(r.num_steps, axis),
                               converged=every(r.converged), neumann=every(r.neumann))

    return jax.shard_map(local, mesh=mesh, in_specs=(P(), P(axis)), out_specs=P(),
                         check_vma=False)(model, xs)
