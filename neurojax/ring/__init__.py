"""Delayed rate network on a ring with differential-Hebbian plasticity (seed 001)."""

from ._analysis import (
    KernelStats as KernelStats,
    WaveSpeed as WaveSpeed,
    align_rows as align_rows,
    circulant_kernel as circulant_kernel,
    kernel_stats as kernel_stats,
    translation_invariance as translation_invariance,
    wave_speed as wave_speed,
)
from ._blocked import default_block as default_block
from ._config import RingConfig as RingConfig
from ._simulate import (
    RingParams as RingParams,
    RingState as RingState,
    SimulationResult as SimulationResult,
    initial_state as initial_state,
    phi as phi,
    simulate as simulate,
)
from ._sweep import SWEEPABLE as SWEEPABLE, SweepResult as SweepResult, sweep as sweep
