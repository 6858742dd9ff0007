"""Delayed rate network on a ring with differential-Hebbian plasticity (seed 001)."""

from ._config import RingConfig as RingConfig
from ._simulate import (
    RingState as RingState,
    initial_state as initial_state,
    phi as phi,
    simulate as simulate,
)
