"""Long protocols that write files and figures; they import the model subpackages, never the reverse."""

from ._checkpoint import RunDirectory as RunDirectory
from ._demo import DEMOS as DEMOS, run_demo as run_demo
from ._env import environment as environment
from ._info_run import info_demo as info_demo, info_experiment as info_experiment
from ._infomax_run import infomax_demo as infomax_demo
from ._ring_run import ring_demo as ring_demo, ring_experiment as ring_experiment
from ._sparse_run import sparse_demo as sparse_demo, sparse_experiment as sparse_experiment
from ._tinnitus_run import (
    tinnitus_demo as tinnitus_demo,
    tinnitus_experiment as tinnitus_experiment,
)
from .paper import (
    PAPER_PENALTIES as PAPER_PENALTIES,
    PAPER_PROFILES as PAPER_PROFILES,
    PaperConfig as PaperConfig,
    run_paper as run_paper,
)
from .tinnitus import TinnitusConfig as TinnitusConfig, run_protocol as run_protocol
