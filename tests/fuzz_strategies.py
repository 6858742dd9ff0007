"""The fuzz suite's building blocks: strategies of bad values, the `Spec` of one public callable,
and the valid inputs (`fixtures`) that the tables (fuzz_specs.py, fuzz_specs_data.py) use: for
every public callable, one valid call and, per argument, a hypothesis strategy of bad values
(tests/test_fuzz.py draws from them).

A bad value must give a ValueError/TypeError whose message names the argument, or — for functions
that cannot check values (pure, jittable, traced) — a result whose status is False (`status`), or
for bare elementwise functions a non-finite output (`propagates`: "non-finite in, non-finite out",
docs/errors.md). Shapes are tiny: the point is the checks, not the numbers."""

import functools
import math
from dataclasses import dataclass, field

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np

NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
FINITE = dict(allow_nan=False, allow_infinity=False)


def positive():
    """Bad values of a parameter that must be finite and > 0."""
    return st.one_of(NONFINITE, st.floats(max_value=0.0, min_value=-1e6, **FINITE))


def nonneg():
    """Bad values of a parameter that must be finite and >= 0."""
    return st.one_of(NONFINITE, st.floats(max_value=-1e-3, min_value=-1e6, **FINITE))


def unit(closed_low=True):
    """Bad values of a parameter in [0, 1] ((0, 1] with `closed_low=False`)."""
    low = st.floats(max_value=-1e-3, min_value=-1e3, **FINITE) if closed_low else \
        st.floats(max_value=0.0, min_value=-1e3, **FINITE)
    return st.one_of(NONFINITE, low, st.floats(min_value=1.001, max_value=1e3, **FINITE))


def count(minimum=1):
    """Bad values of an integer count >= `minimum`: smaller ints, floats, bools, strings."""
    return st.one_of(st.integers(max_value=minimum - 1, min_value=-10**6),
                     st.floats(min_value=-10, max_value=10, **FINITE), st.booleans(), st.just("3"))


def choice(valid):
    """Strings that are not among `valid`."""
    return st.text(min_size=0, max_size=8).filter(lambda s: s not in valid)


def nonfinite(a):
    """`a` with one entry (drawn) replaced by NaN or ±inf."""
    a = np.array(a, dtype=np.result_type(np.asarray(a).dtype, np.float32))

    def put(t):
        b = a.copy()
        b.flat[t[0]] = t[1]
        return b

    return st.tuples(st.integers(0, a.size - 1), NONFINITE).map(put)


def reshaped(*shapes):
    """Arrays of the given (wrong) shapes, entries drawn finite."""
    return st.sampled_from(shapes).flatmap(
        lambda s: st.builds(lambda v: np.full(s, v, np.float32), st.floats(-2, 2, **FINITE)))


def bad_array(a, *shapes):
    """Non-finite entries in `a`, or any of the wrong `shapes`."""
    return st.one_of(nonfinite(a), reshaped(*shapes)) if shapes else nonfinite(a)


@dataclass
class Spec:
    """`call(**kwargs)` with `kwargs` valid; `bad[name]`: strategy of bad values of `name`;
    `status(result) -> bool` (False = flagged) where a bad value may be accepted but flagged;
    `propagates`: a non-finite input may give a non-finite output instead of an error;
    `names`: other words an error may use for an argument."""

    call: object
    kwargs: dict
    bad: dict
    status: object = None
    propagates: tuple = ()
    names: dict = field(default_factory=dict)


def flag(attr):
    return lambda r: bool(np.all(np.asarray(getattr(r, attr))))



def fixtures() -> dict:
    """The valid inputs the tables build their calls from (tiny, NumPy-made: no compiled
    programs just to build the tables), as a dict of names."""
    import neurojax.info as ni
    import neurojax.infomax as nim
    import neurojax.parallel as npar
    import neurojax.ring as nr

    key = jax.random.key(0)
    rng = np.random.default_rng(0)  # NumPy data: no compiled programs just to build the table
    f32 = lambda a: jnp.asarray(np.asarray(a, np.float32))  # noqa: E731
    m = nim.RecurrentInfoMax.tonotopic(4, 6)
    x4, xs = jnp.full(4, 0.5), f32(rng.uniform(0, 1, (8, 4)))
    K6 = jnp.zeros((6, 6))
    # the ensemble members' W: well conditioned in float32. (The tonotopic 4 → 6 W has entries
    # from 1e-38 to 1e-11; its χ's QR then works on subnormal numbers, and whether the cost came
    # out finite depended on whether the compiled kernel flushed them: -O0 did.)
    w = np.random.default_rng(1).normal(0.0, 0.5, (6, 5))
    W, Ke = f32(np.stack([w, w])), jnp.zeros((2, 6, 6))
    xt = f32(np.concatenate([np.asarray(xs[:2]), -np.ones((2, 1))], axis=1))
    rates = nim.OnlineRates(ff_eta=jnp.full(2, 0.1), ff_l1=jnp.zeros(2), rec_eta=jnp.full(2, 0.01),
                            rec_l2=jnp.full(2, 0.1))
    opt = nim.infomax_optimizer()
    state = opt.init(m)
    D = rng.normal(size=(8, 16))
    D = f32(D / np.linalg.norm(D, axis=0))
    X = f32(rng.normal(size=(5, 8)))
    s1 = f32(rng.normal(size=(60, 1)))
    s2 = f32(np.asarray(s1) + 0.5 * rng.normal(size=(60, 1)))
    s3 = f32(rng.normal(size=(60, 1)))
    labels = jnp.asarray(np.arange(60) % 3)
    p = jnp.array([0.25, 0.25, 0.5])
    joint = jnp.array([[0.2, 0.1], [0.3, 0.4]])
    scores = f32(rng.normal(size=(6, 6)))
    cov2 = jnp.array([[1.0, 0.3], [0.3, 1.0]])
    img = f32(rng.normal(size=(2, 16, 16)))
    cfg = nr.RingConfig(N=16, tau_d=1e-3)
    w16 = jnp.zeros((16, 16))
    mesh = npar.data_mesh(1)
    encoder = functools.cache(lambda: ni.DIMEncoder((8, 8), 4, key=key))
    mi_est = lambda a, b: ni.gcmi(a, b)  # noqa: E731
    conv = flag("converged")

    return dict(locals())
