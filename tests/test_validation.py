"""Bad hyperparameters are rejected by name (issue 24 items), and solvers accept traced ones."""

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
    "neurojax.infomax.ensemble_roots": "xt", "neurojax.infomax.ensemble_objective": "xt",
    "neurojax.infomax.ensemble_cost": "eval_x", "neurojax.infomax.online_step": "xt",
    "neurojax.infomax.online_run": "pool", "neurojax.infomax.objective_and_grads": "xs",
    "neurojax.infomax.learn_steps": "data", "neurojax.infomax.ensemble_learn": "data",
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
