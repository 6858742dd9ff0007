"""Multi-host setup: `jax.distributed.initialize` from arguments or environment variables."""

import os

ENV = ("NEUROJAX_COORDINATOR", "NEUROJAX_NUM_PROCESSES", "NEUROJAX_PROCESS_ID")


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> bool:
    """Join a multi-process JAX job (must run before any other JAX call). Missing arguments are
    read from `NEUROJAX_COORDINATOR` (host:port of process 0), `NEUROJAX_NUM_PROCESSES` and
    `NEUROJAX_PROCESS_ID`; with none of them set, nothing happens (returns False). On CPU, the
    processes exchange data with gloo collectives. After it, `jax.devices()` lists the devices of
    all processes and `neurojax.parallel.data_mesh()` spans them."""
    coordinator = coordinator or os.environ.get(ENV[0])
    num_processes = num_processes if num_processes is not None else os.environ.get(ENV[1])
    process_id = process_id if process_id is not None else os.environ.get(ENV[2])
    if coordinator is None and num_processes is None and process_id is None:
        return False
    if coordinator is None or num_processes is None or process_id is None:
        raise ValueError(f"multi-process run: give all of coordinator, num_processes and "
                         f"process_id (or the environment variables {', '.join(ENV)})")
    num_processes, process_id = int(num_processes), int(process_id)
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise ValueError(f"need num_processes >= 1 and 0 <= process_id < num_processes, got "
                         f"{num_processes}, {process_id}")
    import jax

    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id)
    return True
