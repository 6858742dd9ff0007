"""Device meshes for data parallelism: one named axis over all (global) devices."""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "data"


def data_mesh(n_devices: int | None = None, *, devices=None) -> Mesh:
    """A 1-D mesh with axis `"data"` over `devices` (default: the first `n_devices` of
    `jax.devices()`, i.e. all devices of all processes after `jax.distributed.initialize`)."""
    devs = list(jax.devices() if devices is None else devices)
    if n_devices is not None:
        if not isinstance(n_devices, int) or not 1 <= n_devices <= len(devs):
            raise ValueError(f"`n_devices` must be an integer in [1, {len(devs)}], got {n_devices}")
        devs = devs[:n_devices]
    return Mesh(np.asarray(devs), (AXIS,))


def batch_sharding(mesh: Mesh, axis: int = 0, ndim: int = 1) -> NamedSharding:
    """Shard array axis `axis` (of `ndim`) over the mesh's data axis; other axes replicated."""
    spec = [None] * ndim
    spec[axis] = AXIS
    return NamedSharding(mesh, P(*spec))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def check_divisible(name: str, size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if size % n:
        raise ValueError(f"`{name}` ({size}) must be divisible by the number of devices in the "
                         f"mesh ({n})")


def put_global(x, sharding: NamedSharding):
    """Place a host array (the same full array in every process) on a possibly multi-process
    sharding: each process supplies only its addressable shards."""
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def replicate(tree, mesh: Mesh):
    """Every array leaf of `tree` replicated on all devices of `mesh` (via `put_global`)."""
    rep = replicated(mesh)
    return jax.tree.map(lambda v: put_global(v, rep) if isinstance(v, (jax.Array, np.ndarray))
                        else v, tree)
