"""Scale-out: data-parallel InfoMax learning and sharded sweeps over a device mesh, multi-host setup."""

from ._data_parallel import sharded_objective_and_grads as sharded_objective_and_grads
from ._distributed import initialize as initialize
from ._mesh import (
    AXIS as AXIS,
    batch_sharding as batch_sharding,
    data_mesh as data_mesh,
    put_global as put_global,
    replicate as replicate,
    replicated as replicated,
)
