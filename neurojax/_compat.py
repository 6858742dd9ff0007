"""The one place that reaches into dependencies' private modules.

lineax and optimistix do not export what `neurojax._linalg` subclasses need: lineax's structure
packing of an operator (`pack_structures`, `unravel_solution`, used by :class:`lineax.LU` itself)
and optimistix's fixed-point solver state (`_FixedPointState`); also equinox's semi-public
`equinox.internal.Static` (what `lineax.LU` itself returns). They are wrapped here, for the versions in `TESTED` (pinned in `pyproject.toml`);
`check_versions()` (run by the test suite) fails loudly on any other version.
"""

import importlib.metadata

import equinox.internal as eqxi
from lineax._solver.misc import (
    pack_structures as pack_structures,
    unravel_solution as unravel_solution,
)
from optimistix._solver.fixed_point import _FixedPointState

# the versions whose private names above were read and tested; widen only after re-testing
TESTED = {"lineax": ("0.1.1",), "optimistix": ("0.1.0",)}

Static = eqxi.Static


def fixed_point_state(error):
    """optimistix's `FixedPointIteration` state holding the current error estimate."""
    return _FixedPointState(error)


def check_versions() -> dict:
    """The installed versions of the packages whose privates are used; raises RuntimeError naming
    the package when one is not a tested version."""
    found = {name: importlib.metadata.version(name) for name in TESTED}
    bad = {n: v for n, v in found.items() if v not in TESTED[n]}
    if bad:
        raise RuntimeError(f"neurojax uses private names of {sorted(bad)} and was tested with "
                           f"{ {n: TESTED[n] for n in bad} }, found {bad}: re-test "
                           f"neurojax/_compat.py and widen TESTED (and the pins in pyproject.toml)")
    return found
