"""Fuzz suite (issue 24): generated bad inputs for every public function (tests/fuzz_specs.py).

Each bad value gives a ValueError/TypeError whose message names the argument, or a result whose
status flag is False, or — for bare elementwise functions — a non-finite output (the traced-call
policy, docs/errors.md). `test_every_public_callable_has_an_entry` walks the public API, so a new
function without a fuzz entry fails. Default run: 2 examples per (function, argument); under
`-m slow`, 25."""

import inspect
import warnings

import equinox as eqx
import jax
import numpy as np
import pytest
from fuzz_specs import specs
from hypothesis import HealthCheck, given, settings

import neurojax
import neurojax.parallel

MODULES = {"neurojax": neurojax, "neurojax.infomax": neurojax.infomax,
           "neurojax.info": neurojax.info, "neurojax.ring": neurojax.ring,
           "neurojax.sparse": neurojax.sparse, "neurojax.parallel": neurojax.parallel}

# public callables that take no user input worth fuzzing, with the reason
EXEMPT = {
    "neurojax.parallel.initialize": "starts jax.distributed (cannot run twice in one process); its "
                                    "argument errors are tested in tests/test_parallel.py",
    "neurojax.ring.RingParams": "built by RingParams.from_config from a validated RingConfig",
    "neurojax.ring.RingState": "checked against the configuration by simulate (check_state)",
    "neurojax.infomax.OnlineRates": "a PyTree of rates; learn_chunk is fuzzed with it",
    "neurojax.infomax.LearnerState": "built by a learner's init (learn_chunk is fuzzed with it)",
}


def _is_result(obj) -> bool:
    """Result and statistics Modules: outputs of the package, not inputs."""
    return (inspect.isclass(obj) and issubclass(obj, eqx.Module)
            and obj.__name__.endswith(("Result", "Stats", "Step", "Chunk", "Roots", "Value",
                                       "Sweep", "Fit", "Code", "Curves", "Slowing", "Speed",
                                       "Audiogram")))


def public_api() -> dict:
    """{qualified name: object} of every public function and class (constants and result
    Modules left out)."""
    out = {}
    for mod_name, mod in MODULES.items():
        for name in dir(mod):
            obj = getattr(mod, name)
            if name.startswith("_") or inspect.ismodule(obj) or not callable(obj):
                continue
            if _is_result(obj) or (inspect.isclass(obj) and not issubclass(obj, eqx.Module)
                                   and not hasattr(obj, "fit") and obj.__module__ == "builtins"):
                continue
            out[f"{mod_name}.{name}"] = obj
    return out


SPECS = specs()
API = public_api()
CASES = sorted((qual, arg) for qual, obj in API.items() if obj in SPECS
               for arg in SPECS[obj].bad)


def test_every_public_callable_has_an_entry():
    missing = [q for q, obj in API.items() if obj not in SPECS and q not in EXEMPT]
    assert not missing, f"public callables without a fuzz entry (tests/fuzz_specs.py): {missing}"
    stale = [q for q in EXEMPT if q not in API]
    assert not stale, f"EXEMPT names that are not public: {stale}"


def _finite(out) -> bool:
    leaves = [x for x in jax.tree.leaves(out) if isinstance(x, (jax.Array, np.ndarray, float))]
    return all(bool(np.all(np.isfinite(np.asarray(x)))) for x in leaves
               if np.issubdtype(np.asarray(x).dtype, np.inexact))


def _short(value) -> str:
    """A short description of a drawn value for failure messages."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and np.size(value) > 4:
        a = np.asarray(value)
        bad = "" if not np.issubdtype(a.dtype, np.inexact) else \
            f", non-finite {int(np.sum(~np.isfinite(a)))}"
        return f"<array {a.shape} {a.dtype}{bad}>"
    return repr(value)[:80]


def check(qual, arg, value):
    spec = SPECS[API[qual]]
    kw = dict(spec.kwargs)
    kw[arg] = value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = spec.call(**kw)
    except (ValueError, TypeError, eqx.EquinoxRuntimeError) as err:
        names = (arg, *spec.names.get(arg, ()))
        assert any(n in str(err) for n in names), (
            f"{qual}({arg}={_short(value)}): {type(err).__name__} does not name `{arg}`: {err}")
        return
    if arg in spec.propagates:  # non-finite in, non-finite out (bare elementwise functions):
        has_nan = np.isnan(np.asarray(value, np.float64)).any()  # ±inf may have a finite limit
        assert not has_nan or not _finite(out), f"{qual}({arg}={_short(value)}): NaN in, finite out"
        return
    if spec.status is not None and not spec.status(out):
        return  # accepted, and flagged
    pytest.fail(f"{qual}({arg}={_short(value)}) was accepted silently: {str(out)[:200]}")


def _run(qual, arg, n):
    strategy = SPECS[API[qual]].bad[arg]

    @settings(max_examples=n, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value):
        check(qual, arg, value)

    run()


@pytest.mark.parametrize("qual, arg", CASES)
def test_bad_input_is_named_or_flagged(qual, arg):
    _run(qual, arg, 2)


@pytest.mark.slow
@pytest.mark.parametrize("qual, arg", CASES)
def test_bad_input_is_named_or_flagged_many(qual, arg):
    _run(qual, arg, 25)


def _issue_cases():
    """The cases listed in issue 24, each as (name, call, expected): "raises" (ValueError or
    TypeError, `match`), "flagged" (a False status: `status(result)`), "nan" (a NaN result), or
    "finite" (a handled degenerate problem: a finite result). The CLI cases are in
    tests/test_cli.py (`test_bad_arguments_exit_2_one_line`)."""
    import jax.numpy as jnp

    import neurojax.info as ni
    import neurojax.infomax as nim
    import neurojax.ring as nr
    import neurojax.sparse as ns

    rng = np.random.default_rng(0)
    B = jnp.asarray(rng.standard_normal((6, 4)), jnp.float32)
    D = jnp.concatenate([B, -B], axis=1)  # atoms summing to zero
    X = jnp.asarray(rng.standard_normal((3, 6)), jnp.float32)
    Xnan = X.at[1, 2].set(jnp.nan)
    m = nim.RecurrentInfoMax.tonotopic(4, 6)
    conv = lambda r: bool(np.all(np.asarray(r.converged)))  # noqa: E731
    short, long = nr.RingConfig(N=16, tau_d=1e-3), nr.RingConfig(N=16, tau_d=4e-3)
    return [
        ("fista L=0", lambda: ns.fista(D, X, 0.1, lipschitz_constant=0.0, max_steps=20),
         "raises", "`lipschitz_constant`"),
        ("fista L=0 under jit", lambda: jax.jit(lambda L: ns.fista(
            D, X, 0.1, lipschitz_constant=L, max_steps=20))(0.0), "flagged", conv),
        ("fista NaN rows under jit", lambda: jax.jit(lambda x: ns.fista(D, x, 0.1, max_steps=20))(
            Xnan), "flagged", conv),
        ("fista alpha=inf", lambda: ns.fista(D, X, jnp.inf), "raises", "alpha"),
        ("lipschitz of [B, -B]", lambda: ns.lipschitz(D), "finite", None),
        ("fista on [B, -B] leaves 0", lambda: float(jnp.abs(ns.fista(D, X, 0.01).codes).max())
         > 0 or np.nan, "finite", None),
        ("omp duplicate atom", lambda: ns.omp(jnp.concatenate([B, B[:, :1]], 1), X, 5).codes,
         "finite", None),
        ("omp zero atom", lambda: ns.omp(jnp.concatenate([B, 0 * B[:, :1]], 1), X, 5).codes,
         "finite", None),
        ("omp intercept, n_nonzero = n_features",
         lambda: ns.omp(jnp.asarray(rng.standard_normal((6, 10)), jnp.float32), X, 6,
                        fit_intercept=True).codes, "finite", None),
        ("equilibrium rtol=-1", lambda: nim.equilibrium(m, jnp.ones(4), rtol=-1, atol=-1),
         "raises", "rtol"),
        ("equilibrium max_steps=0", lambda: nim.equilibrium(m, jnp.ones(4), max_steps=0),
         "raises", "max_steps"),
        ("equilibrium max_steps=-5", lambda: nim.equilibrium(m, jnp.ones(4), max_steps=-5),
         "raises", "max_steps"),
        ("gabor_fit rtol=-1", lambda: ns.gabor_fit(jnp.ones((6, 6)), key=jax.random.key(0),
                                                   rtol=-1), "raises", "rtol"),
        ("silence_response of an unconverged K",
         lambda: nim.silence_response(nim.RecurrentInfoMax(
             m.W, 100 * jax.random.normal(jax.random.key(1), (6, 6)))),
         "flagged", conv),
        ("model(x) of an unconverged K", lambda: nim.RecurrentInfoMax(
            m.W, 100 * jax.random.normal(jax.random.key(1), (6, 6)))(jnp.ones(4)), "nan", None),
        ("infomax_optimizer(ff_eta=nan)", lambda: nim.infomax_optimizer(ff_eta=np.nan),
         "raises", "ff_eta"),
        ("infomax_optimizer(rec_eta=-1)", lambda: nim.infomax_optimizer(rec_eta=-1.0),
         "raises", "rec_eta"),
        ("ring state with a short delay buffer",
         lambda: nr.simulate(long, steps=2, state=nr.simulate(short, jnp.zeros(16),
                                                              steps=2).state),
         "raises", "delay buffer"),
        ("RingConfig(lam=nan)", lambda: nr.RingConfig(lam=np.nan), "raises", "lam"),
        ("jit(entropy) of a non-distribution", lambda: jax.jit(ni.entropy)(jnp.array([-0.5, 1.5])),
         "nan", None),
        ("plugin_mi with n_x too small", lambda: ni.plugin_mi(jnp.arange(8) % 4, jnp.arange(8) % 2,
                                                              n_x=2), "raises", "n_x"),
        ("quantize n_bins=0", lambda: ni.quantize(jnp.linspace(0, 1, 10), n_bins=0), "raises",
         "n_bins"),
        ("entropy base=1", lambda: ni.entropy(jnp.array([0.5, 0.5]), base=1), "raises", "base"),
        ("0 samples: objective_and_grads", lambda: nim.objective_and_grads(m, jnp.zeros((0, 4))),
         "raises", "xs"),
        ("0 samples: plugin_mi", lambda: ni.plugin_mi(jnp.zeros(0, int), jnp.zeros(0, int)),
         "raises", "x"),
        ("0 samples: learn_dictionary", lambda: ns.learn_dictionary(
            jnp.zeros((0, 6)), 4, 0.1, key=jax.random.key(0)), "raises", "X"),
        ("fista vmapped over alpha", lambda: jax.vmap(lambda a: ns.fista(D, X, a, max_steps=50).codes)(
            jnp.array([0.1, 0.2])), "finite", None),
    ]


@pytest.mark.parametrize("case", range(len(_issue_cases())), ids=[c[0] for c in _issue_cases()])
def test_issue_24_cases(case):
    name, call, expected, arg = _issue_cases()[case]
    if expected == "raises":
        with pytest.raises((ValueError, TypeError), match=arg):
            call()
        return
    out = call()
    if expected == "flagged":
        assert not arg(out), f"{name}: not flagged"
    elif expected == "nan":
        assert not _finite(out), f"{name}: finite {out}"
    else:
        assert _finite(out), f"{name}: not finite {out}"

