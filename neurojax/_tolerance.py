"""The package's one table of dtype-aware default tolerances, each with the measurement behind it.

Every solver that stops on a tolerance and takes `tol=None` reads its default here, by kind:
(float64 value, value for float32 and narrower).
"""

import jax.numpy as jnp

from ._checks import check_choice, check_number

TOLERANCES = {
    # FISTA / ISTA: relative duality gap (gap <= tol * objective). Float32 gaps floor near 3e-6
    # relative (the residual is only float32-accurate): a tighter float32 tol never stops.
    "lasso": (1e-7, 1e-5),
    # lasso_lars: the certificate of a path's end point. In float32 the end points' gaps reach
    # ~1e-4 relative on natural patches (the path is exact, its residual float32-rounded).
    "lasso_path": (1e-7, 1e-4),
    # learn_dictionary: the codes of each round (they change with the dictionary every round).
    "dictionary": (1e-6, 1e-5),
    # the damped fixed point of the paper's measures: the authors' scripts use 1e-8, below
    # float32's resolution near g = 0.5 (6e-8).
    "fixed_point": (1e-8, 1e-6),
}


def default_tol(dtype, kind: str = "lasso") -> float:
    """The default tolerance of solver `kind` (a key of `TOLERANCES`: "lasso", "lasso_path",
    "dictionary", "fixed_point") for data of `dtype`: its float64 value in double precision,
    else its float32 value."""
    check_choice("kind", kind, TOLERANCES)
    try:
        eps = jnp.finfo(dtype).eps
    except (TypeError, ValueError) as err:
        raise TypeError(f"`dtype` must be a real floating dtype, got {dtype!r}") from err
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"`dtype` must be a real floating dtype, got {dtype!r}")
    float64, float32 = TOLERANCES[kind]
    return float64 if eps < 1e-10 else float32


def check_tol(tol, dtype, kind: str = "lasso") -> float:
    """`tol`, or the default of `kind` for `dtype` when None; ValueError unless finite >= 0."""
    return float(check_number("tol", default_tol(dtype, kind) if tol is None else tol, low=0.0))
