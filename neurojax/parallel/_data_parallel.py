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

from ..infomax._objective import objective_and_grads
from ._mesh import AXIS, check_divisible


def sharded_objective_and_grads(model, xs, mesh, **solver_kwargs):
    """`neurojax.infomax.objective_and_grads` with the batch `xs` (B, n_in) split over `mesh`'s
    data axis (B divisible by the number of devices); returns the same `(J_mean, grads, stats)`."""
    check_divisible("batch size", xs.shape[0], mesh)

    def local(m, x):
        value, grads, stats = objective_and_grads(m, x, **solver_kwargs)
        mean = lambda t: jax.lax.pmean(t, AXIS)  # noqa: E731
        grads = jax.tree.map(mean, grads)
        every = lambda flag: jax.lax.pmin(flag.astype(jnp.int32), AXIS) > 0  # noqa: E731
        # each shard picks its own linear-solve path; `neumann`: every shard took the Neumann path
        stats = {"max_steps": jax.lax.pmax(stats["max_steps"], AXIS),
                 "all_converged": every(stats["all_converged"]), "neumann": every(stats["neumann"])}
        return mean(value), grads, stats

    return jax.shard_map(local, mesh=mesh, in_specs=(P(), P(AXIS)), out_specs=(P(), P(), P()),
                         check_vma=False)(model, xs)
