"""Result Modules and arrays as JSON-ready Python values (the experiment layer writes JSON)."""

import dataclasses

import jax.numpy as jnp
import numpy as np


def fields(module) -> dict:
    """The fields of a result Module (or any dataclass) as a dict."""
    return {f.name: getattr(module, f.name) for f in dataclasses.fields(module)}


def jsonable(v):
    if dataclasses.is_dataclass(v):
        return jsonable(fields(v))
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (np.ndarray, jnp.ndarray)):
        a = np.asarray(v)
        if a.dtype == bool:
            return a.astype(int).tolist()
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            # inf/nan (a channel never heard) -> null, which JSON can hold
            return [float(e) if np.isfinite(e) else None for e in a.ravel()]
        return a.tolist()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v
