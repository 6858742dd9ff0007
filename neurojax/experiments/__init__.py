"""Long protocols that write files and figures; they import the model subpackages, never the reverse.

`plotting` is the one plotting helper (matplotlib, Agg) of the experiments and notebooks."""

from .. import _plotting as plotting  # noqa: F401 (a module re-exported)
from ._checkpoint import RunDirectory as RunDirectory
from ._demo import DEMOS as DEMOS, run_demo as run_demo
from ._engine import ProtocolResult as ProtocolResult
from ._env import environment as environment
from ._info_run import (
    dim_experiment as dim_experiment,
    info_demo as info_demo,
    info_experiment as info_experiment,
)
from ._infomax_run import infomax_demo as infomax_demo
from ._paper_protocol import (
    PAPER_PENALTIES as PAPER_PENALTIES,
    PAPER_PROFILES as PAPER_PROFILES,
    PaperConfig as PaperConfig,
    run_paper as run_paper,
)
from ._ring_run import ring_demo as ring_demo, ring_experiment as ring_experiment
from ._sparse_run import (
    natural_atoms as natural_atoms,
    sparse_demo as sparse_demo,
    sparse_experiment as sparse_experiment,
)
from ._tinnitus_protocol import (
    LearningDiverged as LearningDiverged,
    TinnitusConfig as TinnitusConfig,
    run_protocol as run_protocol,
)
from ._tinnitus_run import (
    tinnitus_demo as tinnitus_demo,
    tinnitus_experiment as tinnitus_experiment,
    tinnitus_measures as tinnitus_measures,
)
