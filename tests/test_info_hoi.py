"""Total correlation, dual total correlation and O-information: identities, invariances, traced
calls, and parity with the JAX library hoi (method "gc")."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurojax.info as ni


def _data(n=400, seed=0):
    """Columns 0-2: noisy copies of one latent (redundancy); 3 = 4 + 5 with 4, 5 independent
    (synergy); 6: independent noise."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    red = z[:, None] + 0.5 * rng.standard_normal((n, 3))
    ab = rng.standard_normal((n, 2))
    s = ab.sum(axis=1, keepdims=True) + 0.1 * rng.standard_normal((n, 1))
    return np.concatenate([red, s, ab, rng.standard_normal((n, 1))], axis=1)


@pytest.mark.filterwarnings("ignore:scatter inputs:FutureWarning")  # inside hoi (float32 store)
@pytest.mark.parametrize("order", [3, 4, 7])
def test_equals_hoi(x64, order):
    hoi = pytest.importorskip("hoi.metrics")
    x = _data()
    ours = ni.higher_order(x, order)
    assert bool(jnp.all(ours.valid))
    np.testing.assert_array_equal(ours.multiplets,
                                  list(itertools.combinations(range(x.shape[1]), order)))
    for field, cls in (("oinfo", hoi.Oinfo), ("tc", hoi.TC), ("dtc", hoi.DTC)):
        ref = cls(x, verbose=False).fit(minsize=order, maxsize=order, method="gc")[:, 0]
        # hoi stores its results in float32: agreement to one float32 ulp
        np.testing.assert_allclose(getattr(ours, field), ref, rtol=2 * np.finfo(np.float32).eps,
                                   atol=1e-9)


def test_identities_and_signs(x64):
    x = _data(n=2000)
    r = ni.higher_order(x, 3)
    np.testing.assert_allclose(r.oinfo, r.tc - r.dtc, rtol=0, atol=1e-14)
    by = {tuple(m): i for i, m in enumerate(np.asarray(r.multiplets).tolist())}
    assert float(r.oinfo[by[(0, 1, 2)]]) > 0.1   # redundant copies: redundancy
    assert float(r.oinfo[by[(3, 4, 5)]]) < -0.1  # a sum of two independent ones: synergy
    assert abs(float(r.tc[by[(0, 4, 6)]])) < 0.01  # independent columns: no total correlation
    whole = x[:, :4]
    np.testing.assert_allclose(ni.o_information(whole), ni.higher_order(whole, 4).oinfo[0])
    np.testing.assert_allclose(ni.total_correlation(whole), ni.higher_order(whole, 4).tc[0])
    np.testing.assert_allclose(ni.dual_total_correlation(whole), ni.higher_order(whole, 4).dtc[0])
    # nats vs bits
    np.testing.assert_allclose(ni.o_information(whole, base=np.e),
                               np.log(2) * ni.o_information(whole), rtol=1e-12)


def test_gaussian_total_correlation_without_copula_bias(x64):
    # for Gaussian data the copula changes little: TC → ½(Σ log C_jj − log det C) for large n
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=20_000)
    true = 0.5 * (np.sum(np.log(np.diag(cov))) - np.log(np.linalg.det(cov)))
    assert float(ni.total_correlation(x, base=np.e)) == pytest.approx(true, abs=0.01)


def test_invariant_to_monotone_maps_and_variable_order(x64):
    x = _data()
    warped = np.concatenate([np.exp(x[:, :1]), 3 * x[:, 1:2] - 7, x[:, 2:] ** 3], axis=1)
    a, b = ni.higher_order(x, 3), ni.higher_order(warped, 3)
    np.testing.assert_allclose(a.oinfo, b.oinfo, rtol=0, atol=1e-12)
    perm = ni.higher_order(x, 3, multiplets=[[2, 0, 1], [1, 2, 0]]).oinfo
    np.testing.assert_allclose(perm, a.oinfo[0], rtol=0, atol=1e-12)


def test_jit_and_vmap_over_an_extra_axis(x64):
    x = np.stack([_data(seed=s) for s in range(3)], axis=-1)  # (n, 7, 3): hoi's "variables"
    batched = jax.jit(jax.vmap(lambda v: ni.higher_order(v, 3).oinfo, in_axes=2))(x)
    for s in range(3):
        np.testing.assert_allclose(batched[s], ni.higher_order(x[..., s], 3).oinfo, atol=1e-12)


def test_bad_input_named():
    x = _data()
    with pytest.raises(ValueError, match="order"):
        ni.higher_order(x, 8)
    with pytest.raises(ValueError, match="order"):
        ni.higher_order(x, 1)
    with pytest.raises(ValueError, match="multiplets"):
        ni.higher_order(x, 3, multiplets=[[0, 1, 9]])
    with pytest.raises(ValueError, match="multiplets"):
        ni.higher_order(x, 3, multiplets=[[0, 1, 1]])
    with pytest.raises(ValueError, match="samples"):
        ni.higher_order(x[:4], 3)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="`x`"):
        ni.higher_order(bad, 3)
    with pytest.raises(ValueError, match="base"):
        ni.o_information(x, base=1.0)
    # a duplicated column: its covariance blocks are singular, flagged and NaN, never a number
    dup = np.concatenate([x[:, :2], x[:, :1]], axis=1)
    r = ni.higher_order(dup, 3)
    assert not bool(r.valid[0]) and bool(jnp.isnan(r.dtc[0]))


@pytest.mark.filterwarnings("ignore:scatter inputs:FutureWarning")
def test_knn_estimator_equals_hoi_where_hoi_does_not_clip(x64):
    """hoi's KNN entropy clips negative entropies to 0 (ours does not): on data scaled so that
    every entropy is positive the two agree to hoi's float32 storage."""
    hoi = pytest.importorskip("hoi.metrics")
    x = 10 * _data(n=300)
    for order in (3, 4):
        ours = ni.higher_order(x, order, estimator="knn")
        assert bool(jnp.all(ours.valid))
        for field, cls in (("oinfo", hoi.Oinfo), ("tc", hoi.TC), ("dtc", hoi.DTC)):
            ref = cls(x, verbose=False).fit(minsize=order, maxsize=order, method="knn")[:, 0]
            np.testing.assert_allclose(getattr(ours, field), ref, rtol=4e-7, atol=1e-7)


def test_knn_estimator_identities_and_truth(x64):
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=2000)
    r = ni.higher_order(x, 3, estimator="knn", base=np.e)
    np.testing.assert_allclose(r.oinfo, r.tc - r.dtc, rtol=0, atol=1e-12)
    true_tc = 0.5 * (np.sum(np.log(np.diag(cov))) - np.log(np.linalg.det(cov)))
    assert float(r.tc[0]) == pytest.approx(true_tc, abs=0.05)  # KL's sampling error at n = 2,000
    # k + 1 copies of a sample put a zero k-th distance in every entropy: flagged, never a number
    dup = np.concatenate([x[:200], x[:1], x[:1], x[:1]])
    bad = ni.higher_order(dup, 3, estimator="knn")
    assert not bool(bad.valid[0]) and not bool(jnp.isfinite(bad.oinfo[0]))
    with pytest.raises(ValueError, match="estimator"):
        ni.higher_order(x, 3, estimator="kde")
    with pytest.raises(ValueError, match="`k`"):
        ni.higher_order(x[:10], 3, estimator="knn", k=10)
