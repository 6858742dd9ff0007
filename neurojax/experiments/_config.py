"""THE config base of the protocols: static fields that declare their own check, presets, JSON.

A field is declared with :func:`setting` and one of the checks below; `Config.__check_init__` runs
every field's check (a ValueError or TypeError naming `Config.field`), then the subclass's
`_check_together` for the rules that relate fields. A config is hashable and never traced.
"""

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import numpy as np


def setting(default, check: Callable | None = None, **kwargs):
    """A static config field with a `check(where, value)` (None: unchecked)."""
    return eqx.field(static=True, default=default, metadata={"check": check}, **kwargs)


def count(allow_zero: bool = False):
    def check(where, v):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (0 if allow_zero else 1):
            raise ValueError(f"{where} must be an integer {'>= 0' if allow_zero else '> 0'}, got {v!r}")
    return check


def number(*, positive: bool):
    """A finite number, > 0 (`positive`: a learning rate) or >= 0."""
    def check(where, v):
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
                and (v > 0 if positive else v >= 0)):
            what = "> 0 (a learning rate)" if positive else ">= 0"
            raise ValueError(f"{where} must be a finite number {what}, got {v!r}")
    return check


def unit(where, v):
    if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1):
        raise ValueError(f"{where} must be in [0, 1], got {v!r}")


def flag(where, v):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{where} must be a bool, got {v!r}")


def one_of(*choices):
    def check(where, v):
        if v not in choices:
            raise ValueError(f"{where} must be one of {list(choices)}, got {v!r}")
    return check


class Config(eqx.Module):
    """Base of :class:`PaperConfig` and :class:`TinnitusConfig` (module docstring)."""

    PRESETS: ClassVar[dict] = {}

    def __check_init__(self):
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            if check is not None:
                check(f"{type(self).__name__}.{f.name}", getattr(self, f.name))
        self._check_together()

    def _check_together(self):
        """Rules that relate several fields (ValueError naming them)."""

    @classmethod
    def preset(cls, name: str, **overrides):
        """The preset `name` (:attr:`PRESETS`), with `overrides` of its fields."""
        if name not in cls.PRESETS:
            raise ValueError(f"`preset` must be one of {sorted(cls.PRESETS)}, got {name!r}")
        return cls(**(cls.PRESETS[name] | overrides))

    def to_json(self) -> dict:
        return {f.name: (list(v) if isinstance(v, tuple) else v)
                for f in dataclasses.fields(self) for v in (getattr(self, f.name),)}
