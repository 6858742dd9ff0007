"""Shared argument validation: errors that name the argument and say what was expected."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x) -> bool:
    """True when `x` holds values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def check_rows(name: str, idx, n_rows: int, what: str) -> None:
    """Raise ValueError naming `name` unless `idx` is an integer array of row numbers of `what`
    (`n_rows` rows); the range is checked where `idx` is concrete (JAX clamps an out-of-range
    gather index silently)."""
    if not jnp.issubdtype(jnp.result_type(idx), jnp.integer):
        raise ValueError(f"`{name}` must be an integer array, got dtype {jnp.result_type(idx)}")
    if is_concrete(idx) and np.size(idx):
        lo, hi = int(np.min(np.asarray(idx))), int(np.max(np.asarray(idx)))
        if lo < 0 or hi >= n_rows:
            raise ValueError(f"`{name}` must lie in [0, {n_rows}) (rows of `{what}`), got "
                             f"[{lo}, {hi}]")


def check_shape(name: str, x, shape: tuple) -> None:
    """Raise ValueError unless `x.shape == shape` (``None`` in `shape` matches any size)."""
    got = tuple(np.shape(x))
    if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"`{name}` must have shape {want}, got {got}")


def check_float_dtype(name: str, x) -> None:
    """TypeError for half precision (float16, bfloat16) and complex `x`: the LAPACK and FFT
    kernels behind the linear algebra have none (their errors name XLA internals), and a float16
    lasso or fixed point would be far less accurate than its tolerances. Integers and bools are
    promoted to the default float dtype by the callers."""
    dt = np.dtype(x.dtype if hasattr(x, "dtype") else np.result_type(x))
    if np.issubdtype(dt, np.complexfloating) or (np.issubdtype(dt, np.floating) or
                                                  dt.name == "bfloat16") and dt.itemsize < 4:
        raise TypeError(f"`{name}` must be float32 or float64 (or integer), got {dt.name}: "
                        f"cast it first, e.g. `{name}.astype(jnp.float32)`")


def check_finite(name: str, x) -> None:
    """Raise ValueError if concrete `x` holds NaN or inf (skipped for tracers)."""
    if is_concrete(x) and not bool(np.all(np.isfinite(np.asarray(x)))):
        raise ValueError(f"`{name}` must be finite, got NaN or inf entries")


def check_positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    """Return `value` as int, or raise TypeError/ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be {bound}, got {value}")
    return int(value)


def check_number(name: str, value, *, low: float | None = None, strict: bool = False):
    """Return concrete scalar `value` as a float, or raise ValueError naming `name` unless it is
    finite and (if `low` is given) >= `low` (> `low` with `strict`); tracers pass unchecked."""
    if not is_concrete(value):
        return value
    if isinstance(value, bool) or np.ndim(value) != 0:
        raise TypeError(f"`{name}` must be a real scalar, got {value!r}")
    v = float(value)
    bad = not np.isfinite(v) or (low is not None and (v <= low if strict else v < low))
    if bad:
        bound = "" if low is None else f" and {'>' if strict else '>='} {low:g}"
        raise ValueError(f"`{name}` must be finite{bound}, got {value}")
    return v


def check_choice(name: str, value, choices) -> None:
    """Raise ValueError unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {sorted(choices, key=repr)}, got {value!r}")


def check_square(name: str, m, what: str = "matrix"):
    """Return `m` as an array; ValueError unless it is a finite square (n, n) `what`."""
    m = jnp.asarray(m)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"`{name}` must be a square (n, n) {what}, got shape {m.shape}")
    check_finite(name, m)
    return m


def check_samples(name: str, a, *, finite: bool = True):
    """Return samples `a` as a float (n, d) array ((n,) becomes (n, 1)); ValueError if another
    rank or (with `finite`) not finite."""
    a = jnp.asarray(a)
    a = a[:, None] if a.ndim == 1 else a
    if a.ndim != 2:
        raise ValueError(f"`{name}` must be (n,) or (n, d), got shape {a.shape}")
    if not jnp.issubdtype(a.dtype, jnp.floating):
        a = a.astype(jnp.result_type(float))
    if finite:
        check_finite(name, a)
    return a


def check_paired(names: tuple[str, ...], *arrays, finite: bool = True) -> tuple:
    """Paired samples: each array through :func:`check_samples` (named by `names`; `finite` as
    there), the same number of samples in all (ValueError naming the two that differ), cast to
    one dtype."""
    arrays = [check_samples(name, a, finite=finite) for name, a in zip(names, arrays, strict=True)]
    for name, a in zip(names[1:], arrays[1:]):
        if a.shape[0] != arrays[0].shape[0]:
            raise ValueError(f"`{names[0]}` and `{name}` must have the same number of samples, "
                             f"got {arrays[0].shape[0]} and {a.shape[0]}")
    dtype = jnp.result_type(*arrays)
    return tuple(a.astype(dtype) for a in arrays)


def raise_unless_converged(result, converged, what: str):
    """`result` with its arrays guarded by :func:`equinox.error_if`: raises (also inside `jit`) with
    `what` if any entry of `converged` is False — the `throw=True` of the package's solvers."""
    bad = ~jnp.all(converged)
    return jax.tree.map(lambda a: eqx.error_if(a, bad, f"{what} did not converge")
                        if isinstance(a, jax.Array) else a, result)
