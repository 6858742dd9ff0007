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
