"""Scale-out plumbing, model-free: device meshes, placement on them, multi-host setup."""

from ._distributed import initialize as initialize
from ._mesh import (
    AXIS as AXIS,
    axis_size as axis_size,
    batch_sharding as batch_sharding,
    check_divisible as check_divisible,
    data_mesh as data_mesh,
    mesh_axis as mesh_axis,
    put_global as put_global,
    replicate as replicate,
    replicated as replicated,
)
