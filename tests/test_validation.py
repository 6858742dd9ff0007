"""Bad hyperparameters are rejected by name (issue 24 items), and solvers accept traced ones."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sparse_problems import random_problem

import neurojax.infomax as nim
import neurojax.ring as nr
import neurojax.sparse as ns


@pytest.mark.parametrize("field", ["lam", "dt", "tau_w", "amplitude", "gain"])
def test_ring_config_rejects_non_finite(field):
    with pytest.raises(ValueError, match=f"`{field}`"):
        nr.RingConfig(N=10, **{field: float("nan")})
    with pytest.raises(ValueError, match="`lam`"):
        nr.RingConfig(N=10, lam=-1.0)


@pytest.mark.parametrize("name", ["ff_eta", "rec_eta", "ff_l1", "rec_l2"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.1])
def test_optimizer_rejects_bad_rates(name, value):
    with pytest.raises(ValueError, match=f"`{name}`"):
        nim.infomax_optimizer(**{name: value})


@pytest.mark.parametrize("alpha", [float("inf"), float("nan"), -1.0])
def test_lasso_solvers_reject_bad_alpha(alpha):
    D, X = random_problem(n=4, f=6, k=8)
    for solve in (ns.fista, ns.ista, ns.lasso_lars):
        with pytest.raises(ValueError, match="`alpha`"):
            solve(D, X, alpha)
    with pytest.raises(ValueError, match="`alpha`"):
        ns.learn_dictionary(X, 3, alpha, key=jax.random.key(0))


def test_fista_vmaps_over_alpha(x64):
    D, X = random_problem(n=6, f=8, k=12)
    alphas = jnp.array([0.05, 0.2, 0.6])
    batched = jax.vmap(lambda a: ns.fista(D, X, a).codes)(alphas)
    for i, a in enumerate(np.asarray(alphas)):
        np.testing.assert_allclose(batched[i], ns.fista(D, X, float(a)).codes, rtol=0, atol=1e-9)


def test_lipschitz_of_atoms_summing_to_zero(x64):
    # [B, -B]: the vector of ones is orthogonal to every eigenvector with nonzero eigenvalue
    rng = np.random.default_rng(0)
    B = rng.standard_normal((6, 4))
    D = np.concatenate([B, -B], axis=1)
    D /= np.linalg.norm(D, axis=0)
    L = float(ns.lipschitz(D))
    np.testing.assert_allclose(L, 1.001 * np.linalg.eigvalsh(D.T @ D)[-1], rtol=1e-9)
    r = ns.fista(D, rng.standard_normal((5, 6)), 0.1)
    assert bool(jnp.all(r.converged)) and float(jnp.abs(r.codes).max()) > 0
    assert float(ns.lipschitz(np.zeros((3, 4)))) == 0.0


def test_omp_degenerate_dictionaries_stay_finite(x64):
    rng = np.random.default_rng(1)
    B = rng.standard_normal((8, 5))
    X = rng.standard_normal((4, 8))
    for D in (np.concatenate([B, B[:, :1]], axis=1),  # a duplicate atom
              np.concatenate([B, np.zeros((8, 1))], axis=1)):  # a zero atom
        r = ns.omp(D, X, 6)
        assert np.all(np.isfinite(np.asarray(r.codes)))
        assert np.all(np.asarray(r.support)[:, -1] == -1)  # the sixth slot stays empty
        ls = np.linalg.lstsq(B, X.T, rcond=None)[0].T  # five atoms span what B spans
        np.testing.assert_allclose(np.asarray(r.codes) @ D.T, ls @ B.T, atol=1e-10)
    # centred atoms have rank n_features - 1: the intercept case with n_nonzero = n_features
    D = rng.standard_normal((6, 10))
    r = ns.omp(D, rng.standard_normal((3, 6)), 6, fit_intercept=True)
    assert np.all(np.isfinite(np.asarray(r.codes))) and np.all(np.isfinite(np.asarray(r.intercept)))


def test_discrete_measures_under_jit_give_nan_for_non_distributions():
    import neurojax.info as ni

    bad = jnp.array([-0.5, 1.5])
    assert np.isnan(float(jax.jit(ni.entropy)(bad)))  # was -0.61
    assert np.isnan(float(jax.jit(ni.kl)(bad, jnp.array([0.5, 0.5]))))
    assert np.isnan(float(jax.jit(ni.mutual_information)(jnp.array([[0.5, 0.5], [0.5, 0.5]]))))
    good = jnp.array([0.25, 0.75])
    assert float(jax.jit(ni.entropy)(good)) == float(ni.entropy(good))
    with pytest.raises(ValueError, match="`p`"):
        ni.entropy(bad)


def test_zero_sample_inputs_are_named_or_give_empty_results():
    import neurojax.info as ni

    model = nim.RecurrentInfoMax.tonotopic(8, 16)
    for f in (nim.objective_and_grads, nim.infomax_grads):
        with pytest.raises(ValueError, match="`xs`"):
            f(model, jnp.zeros((0, 8)))
    with pytest.raises(ValueError, match="`x` and `y`"):
        ni.plugin_mi(np.zeros(0, int), np.zeros(0, int), n_x=2, n_y=2)
    with pytest.raises(ValueError, match="`X`"):
        ns.learn_dictionary(np.zeros((0, 4)), 2, 0.1, key=jax.random.key(0))
    # the batched solvers: an empty batch has an empty result (was a raw error for lasso_lars)
    for solve in (ns.lasso_lars, ns.fista):
        r = solve(np.eye(4), np.zeros((0, 4)), 0.1)
        assert r.codes.shape == (0, 4) and r.converged.shape == (0,)


# solvers with a status flag whose array input can be traced (the others run stages from Python
# or validate on the host: they raise eagerly, as tests/test_fuzz.py checks)
TRACEABLE = {
    "neurojax.infomax.equilibrium": "x", "neurojax.infomax.batch_roots": "xs",
    "neurojax.infomax.learn_chunk": "pool", "neurojax.infomax.objective_and_grads": "xs",
    "neurojax.sparse.fista": "X", "neurojax.sparse.ista": "X",
}


@pytest.mark.parametrize("qual", sorted(TRACEABLE))
def test_no_solver_is_converged_with_non_finite_output_under_jit(qual):
    """A NaN in the solver's data, traced (no eager check can see it): the status is False."""
    spec, arg = _specs()[qual], TRACEABLE[qual]
    bad = np.array(spec.kwargs[arg], dtype=np.float32)
    bad.flat[0] = np.nan
    rest = {k: v for k, v in spec.kwargs.items() if k != arg}
    out = jax.jit(lambda a: spec.call(**rest, **{arg: a}))(bad)
    assert spec.status is not None and not spec.status(out), f"{qual}: NaN input, status True"
    good = jax.jit(lambda a: spec.call(**rest, **{arg: a}))(np.asarray(spec.kwargs[arg]))
    assert all(bool(np.all(np.isfinite(np.asarray(x)))) for x in jax.tree.leaves(good)
               if np.issubdtype(np.asarray(x).dtype, np.inexact))


def _specs():
    """The fuzz table (tests/fuzz_specs.py) keyed by qualified name."""
    from test_fuzz import API, SPECS

    return {q: SPECS[o] for q, o in API.items() if o in SPECS}


# --- issue 37: hostile calls that gave numbers or raw errors -------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(tau_w=1e-30), "tau_w"), (dict(dt=1.0), "tau_r"), (dict(tau_d=1e-5), "tau_d")])
def test_ring_config_rejects_unstable_euler_and_sub_step_delay(kwargs, name):
    with pytest.raises(ValueError, match=name):
        nr.RingConfig(N=10, **kwargs)


@pytest.mark.badinput
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16, jnp.complex64])
def test_half_precision_and_complex_are_a_type_error_naming_the_argument(dtype):
    D, X = map(jnp.asarray, random_problem(n=3, f=8, k=12))
    with pytest.raises(TypeError, match="`D` must be float32 or float64"):
        ns.omp(D.astype(dtype), X, 2)
    with pytest.raises(TypeError, match="`D` must be float32 or float64"):
        ns.fista(D.astype(dtype), X, 0.1)
    with pytest.raises(TypeError, match="`W`"):
        nim.RecurrentInfoMax(jnp.ones((4, 3), dtype))
    m = nim.RecurrentInfoMax.tonotopic(3, 4)
    half = jax.tree.map(lambda a: a.astype(dtype), m)  # bypasses __init__, as a user might
    with pytest.raises(TypeError, match="model.W"):
        nim.equilibrium(half, jnp.ones(3))
    with pytest.raises(TypeError, match="`atoms`"):
        ns.gabor_fit(jnp.ones((6, 6), dtype), key=jax.random.key(0))
    with pytest.raises(TypeError, match="`w0`"):
        nr.simulate(nr.RingConfig(N=16), jnp.zeros(16, dtype), steps=4)


def test_empty_dictionary_names_d():
    _, X = map(jnp.asarray, random_problem(n=3, f=8, k=12))
    with pytest.raises(ValueError, match="`D` must be .* at least one"):
        ns.fista(jnp.zeros((8, 0)), X, 0.1)


def test_encode_under_jit_runs_fista_and_refuses_the_homotopy():
    D, X = map(jnp.asarray, random_problem(n=3, f=8, k=12))
    traced = jax.jit(lambda X: ns.encode(X, D, 0.1))(X)
    exact = ns.encode(X, D, 0.1, method="lasso_lars")
    assert traced.method == "fista" and bool(jnp.all(traced.converged))
    # FISTA stops at a float32 duality gap: the same lasso optimum to its tolerance
    np.testing.assert_allclose(traced.objective, exact.objective, rtol=1e-4)
    with pytest.raises(ValueError, match="method='fista'"):
        jax.jit(lambda X: ns.encode(X, D, 0.1, method="lasso_lars").codes)(X)


def test_inputs_and_configs_refuse_nonsense():
    from neurojax.experiments import TinnitusConfig
    from neurojax.parallel import data_mesh

    with pytest.raises(ValueError, match="a_min"):
        nim.tones(8, 10, a_min=10, a_max=-10, key=jax.random.key(0))
    with pytest.raises(TypeError, match="learn_W_attenuated"):
        TinnitusConfig(learn_W_attenuated="no")
    with pytest.raises(TypeError, match="devices"):
        data_mesh(devices="cpu")


def test_gaussian_closed_forms_need_a_symmetric_covariance():
    import neurojax.info as ni

    bad = jnp.array([[1.0, 0.9], [0.0, 1.0]])
    for call in (lambda c: ni.gaussian_entropy(c), lambda c: ni.gaussian_mi(c, 1),
                 lambda c: ni.gaussian_kl(jnp.zeros(2), c, jnp.zeros(2), jnp.eye(2))):
        with pytest.raises(ValueError, match="symmetric"):
            call(bad)
        assert bool(jnp.isnan(jax.jit(call)(bad)))
        assert bool(jnp.all(jnp.isnan(jax.vmap(call)(jnp.stack([bad, bad])))))
        assert bool(jnp.isfinite(jax.jit(call)(jnp.eye(2) + 0.3 * (1 - jnp.eye(2)))))


def test_constant_data_gives_an_error_or_a_documented_status():
    with pytest.raises(ValueError, match="images"):
        ns.whiten(jnp.ones((2, 8, 8)))
    ims = jnp.stack([jnp.ones((8, 8)), jax.random.normal(jax.random.key(0), (8, 8))])
    out = jax.jit(ns.whiten)(ims)
    assert bool(jnp.all(jnp.isnan(out[0]))) and bool(jnp.all(jnp.isfinite(out[1])))
    fit = ns.gabor_fit(jnp.full((6, 6), 0.5), key=jax.random.key(0), n_starts=2, max_steps=20)
    assert not bool(fit.converged)  # R² is NaN: no variance to explain
    assert bool(jnp.all(jnp.isnan(ns.kurtosis(jnp.ones((3, 5))))))  # scipy's NaN, documented


def test_ring_result_flags_non_finite_runs_and_states():
    cfg = nr.RingConfig(N=16)
    ok = nr.simulate(cfg, jnp.zeros(16), steps=20)
    assert bool(ok.finite)
    w0 = jnp.zeros(16).at[3].set(jnp.nan)
    traced = jax.jit(lambda w: nr.simulate(cfg, w, steps=20).finite)(w0)
    assert not bool(traced)  # NaN weights under jit: flagged, not finite rates beside NaN weights
    bad = eqx.tree_at(lambda s: s.w, ok.state, ok.state.w.at[0].set(jnp.nan))
    with pytest.raises(ValueError, match="state.w"):
        nr.simulate(cfg, state=bad, steps=5)


def test_lipschitz_of_a_large_dictionary_does_not_overflow_early():
    D = jnp.asarray(np.random.default_rng(0).standard_normal((16, 32)), jnp.float32)
    L = float(ns.lipschitz(D))
    assert float(ns.lipschitz(D * 1e15)) == pytest.approx(L * 1e30, rel=1e-5)  # was NaN
    assert float(ns.lipschitz(D * 1e20)) == float("inf")  # L itself overflows float32
    assert not bool(jnp.any(ns.fista(D * 1e20, jnp.ones((2, 16)), 0.1).converged))
