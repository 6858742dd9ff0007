"""Device meshes for data parallelism: one named axis over all (global) devices.

Every function of the package that takes `mesh=` accepts a 1-D `jax.sharding.Mesh` with any axis
name (e.g. `jax.make_mesh((4,), ("batch",))` or :func:`data_mesh`), or a pair `(mesh, axis_name)`
naming the axis to split over in a multi-axis mesh (the other axes then hold replicas)."""

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

from .._checks import check_positive_int

AXIS = "data"


def data_mesh(n_devices: int | None = None, *, devices=None) -> Mesh:
    """A 1-D mesh with axis `"data"` over `devices` (default: the first `n_devices` of
    `jax.devices()`, i.e. all devices of all processes after `jax.distributed.initialize`)."""
    if devices is not None and (isinstance(devices, (str, bytes))
                                or not all(isinstance(d, jax.Device) for d in devices)):
        raise TypeError(f"`devices` must be a sequence of jax devices (e.g. jax.devices('cpu')), "
                        f"got {devices!r}")
    devs = list(jax.devices() if devices is None else devices)
    if n_devices is not None:
        if (isinstance(n_devices, bool) or not isinstance(n_devices, int)
                or not 1 <= n_devices <= len(devs)):
            raise ValueError(f"`n_devices` must be an integer in [1, {len(devs)}], got {n_devices}")
        devs = devs[:n_devices]
    return Mesh(np.asarray(devs), (AXIS,))


def mesh_axis(mesh) -> tuple[Mesh, str]:
    """`(mesh, axis_name)` of a `mesh=` argument: a 1-D `Mesh` (its one axis) or a `(Mesh, name)`
    pair. Anything else raises ValueError saying why.

    The returned mesh has the same devices and names with every axis of type `Auto`:
    `jax.make_mesh` builds `Explicit` axes, under which `shard_map` would demand inputs already
    sharded as its `in_specs`; the package places its arrays itself, so it uses the Auto view."""
    if isinstance(mesh, tuple) and len(mesh) == 2 and isinstance(mesh[0], Mesh):
        mesh, axis = mesh
        if axis not in mesh.axis_names:
            raise ValueError(f"`mesh`: axis {axis!r} is not one of the mesh's axes {mesh.axis_names}")
    elif not isinstance(mesh, Mesh):
        raise ValueError(f"`mesh` must be a jax.sharding.Mesh or a (Mesh, axis_name) pair, got "
                         f"{type(mesh).__name__}")
    elif len(mesh.axis_names) != 1:
        raise ValueError(f"`mesh` has axes {mesh.axis_names}: give a 1-D mesh or (mesh, axis_name) "
                         f"naming the axis to split the batch over")
    else:
        axis = mesh.axis_names[0]
    if any(t != AxisType.Auto for t in mesh.axis_types):
        mesh = Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * mesh.devices.ndim)
    return mesh, axis


def axis_size(mesh) -> int:
    """Number of devices along the split axis of a `mesh=` argument."""
    m, axis = mesh_axis(mesh)
    return m.shape[axis]


def batch_sharding(mesh, axis: int = 0, ndim: int = 1) -> NamedSharding:
    """Shard array axis `axis` (of `ndim`) over the mesh's split axis; other axes replicated."""
    m, name = mesh_axis(mesh)
    ndim = check_positive_int("ndim", ndim)
    if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < ndim:
        raise ValueError(f"`axis` must be an int in [0, ndim = {ndim}), got {axis!r}")
    spec = [None] * ndim
    spec[axis] = name
    return NamedSharding(m, P(*spec))


def replicated(mesh) -> NamedSharding:
    return NamedSharding(mesh_axis(mesh)[0], P())


def check_divisible(name: str, size: int, mesh) -> None:
    """ValueError naming `name` unless `size` is an int >= 1 divisible by the devices along the
    mesh's split axis."""
    size = check_positive_int(name, size)
    n = axis_size(mesh)
    if size % n:
        raise ValueError(f"`{name}` ({size}) must be divisible by the number of devices along the "
                         f"mesh's split axis ({n})")


def put_global(x, sharding: NamedSharding):
    """Place a host array (the same full array in every process) on a possibly multi-process
    sharding: each process supplies only its addressable shards."""
    if not isinstance(sharding, jax.sharding.Sharding):
        raise TypeError(f"`sharding` must be a jax.sharding.Sharding, got {type(sharding).__name__}")
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def replicate(tree, mesh):
    """Every array leaf of `tree` replicated on all devices of `mesh` (via `put_global`)."""
    rep = replicated(mesh)
    return jax.tree.map(lambda v: put_global(v, rep) if isinstance(v, (jax.Array, np.ndarray))
                        else v, tree)
