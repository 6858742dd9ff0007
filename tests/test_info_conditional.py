"""Conditional MI, neighbour backends, Gaussian-copula MI, transfer entropy, resampling tests."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import kstest

import neurojax.info as ni


def _brute_cmi(x, y, z, k):
    """Frenzel–Pompe CMI by explicit loops over all pairs (NumPy, float64)."""
    joint, xz, yz = np.hstack([x, y, z]), np.hstack([x, z]), np.hstack([y, z])
    n = len(x)
    total = 0.0
    for i in range(n):
        d = np.max(np.abs(joint - joint[i]), axis=1)
        d[i] = np.inf
        eps = np.sort(d)[k - 1]
        c = [int(np.sum(np.max(np.abs(m - m[i]), axis=1) < eps)) - 1 for m in (xz, yz, z)]
        total += digamma(c[0] + 1) + digamma(c[1] + 1) - digamma(c[2] + 1)
    return digamma(k) - total / n


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 1))
    x = z + 0.5 * rng.standard_normal((n, 2))
    y = x[:, :1] - z + 0.7 * rng.standard_normal((n, 1))
    return x, y, z


def test_ksg_cmi_equals_brute_force_and_npeet(x64):
    x, y, z = _data(300)
    ref = _brute_cmi(x, y, z, 3)
    for method in ("brute", "kdtree"):
        assert float(ni.ksg_cmi(x, y, z, 3, method=method, rescale=None)) == pytest.approx(
            ref, abs=1e-12)
    npeet = pytest.importorskip("npeet_plus")
    # NPEET adds noise of 1e-10 to break ties and subtracts 1e-15 from radii: same counts here
    diff = abs(float(ni.ksg_cmi(x, y, z, 3, rescale=None)) - npeet.cmi(x, y, z, k=3, base=np.e))
    print("ksg_cmi - NPEET cmi:", diff)
    assert diff < 1e-6


@pytest.mark.parametrize("d", [1, 3])
def test_neighbour_backends_agree_exactly(x64, d):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((700, d))
    y = 0.6 * x + rng.standard_normal((700, d))
    a = float(ni.ksg_mi(x, y, method="brute", rescale=None))
    b = float(ni.ksg_mi(x, y, method="kdtree", rescale=None))
    assert a == b and float(ni.ksg_mi(x, y, rescale=None)) == b
    # rescaled (the default): the same counts, the mean rounded differently
    assert float(ni.ksg_mi(x, y, method="brute")) == pytest.approx(
        float(ni.ksg_mi(x, y, method="kdtree")), abs=1e-13)
    a = float(ni.ksg_mi(x, y, method="brute"))
    # inside jit both backends run (the trees through a host callback) and agree
    # (the same counts; the final mean may round differently inside a larger program)
    for how in ("auto", "brute", "kdtree"):
        traced = jax.jit(lambda u, v, how=how: ni.ksg_mi(u, v, method=how))(x, y)
        assert float(traced) == pytest.approx(a, abs=1e-13)
    # vmapped (one callback per element): each element as its eager value
    ys = jnp.stack([y, y[::-1], 2 * y])
    got = jax.vmap(lambda v: ni.ksg_mi(x, v, method="kdtree"))(ys)
    want = [float(ni.ksg_mi(x, v, method="brute")) for v in ys]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)


def test_gcmi_matches_frites(x64):
    frites = pytest.importorskip("frites.core")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 2))
    y = np.tanh(x[:, :1]) + rng.standard_normal((400, 1))
    z = x[:, 1:] + rng.standard_normal((400, 1))
    labels = rng.integers(0, 3, 400)
    xl = x + 0.4 * labels[:, None]
    assert float(ni.gcmi(x, y, base=2)) == pytest.approx(frites.gcmi_1d_cc(x.T, y.T), abs=1e-10)
    assert float(ni.gccmi(x, y, z, base=2)) == pytest.approx(frites.gccmi_1d_ccc(x.T, y.T, z.T),
                                                             abs=1e-10)
    assert float(ni.gcmi_mixed(xl, labels, base=2)) == pytest.approx(
        frites.gcmi_model_1d_cd(xl.T, labels), abs=1e-10)
    np.testing.assert_allclose(ni.copnorm(x), frites.copnorm_nd(x.T, axis=-1).T, rtol=0,
                               atol=1e-12)


def test_gcmi_closed_form_for_gaussians(x64):
    """I = -d/2 log(1 - rho^2) for d independent pairs with correlation rho (copula exact)."""
    rho, d, n = 0.6, 2, 20000
    key = jax.random.key(0)
    x = jax.random.normal(key, (n, d))
    y = rho * x + np.sqrt(1 - rho**2) * jax.random.normal(jax.random.fold_in(key, 1), (n, d))
    true = -d / 2 * np.log(1 - rho**2)
    assert float(ni.gcmi(x, y)) == pytest.approx(true, abs=0.02)
    assert float(ni.gaussian_mi_samples(x, y)) == pytest.approx(true, abs=0.02)
    # conditional: x and y share only z -> I(x; y | z) = 0, while I(x; y) = 1/2 log 2 > 0
    zc = x[:, :1]
    xc = zc + jax.random.normal(jax.random.fold_in(key, 2), (n, 1))
    yc = zc + jax.random.normal(jax.random.fold_in(key, 3), (n, 1))
    assert abs(float(ni.gccmi(xc, yc, zc))) < 0.005
    assert float(ni.gcmi(xc, yc)) == pytest.approx(-0.5 * np.log(1 - 0.25), abs=0.02)
    # vmapped over "time points": equals a loop
    xs, ys = jnp.stack([x[:500], 2 * x[:500]]), jnp.stack([y[:500], y[:500] ** 3])
    v = jax.jit(jax.vmap(ni.gcmi))(xs, ys)
    assert np.allclose(v, [float(ni.gcmi(a, b)) for a, b in zip(xs, ys)], rtol=1e-12)
    # float32 in, float32 out (the bias terms and the log base were float64 under x64)
    x32, y32 = np.float32(x[:300]), np.float32(y[:300])
    for v in (ni.gcmi(x32, y32), ni.gccmi(x32, y32, x32[:, :1]), ni.gaussian_mi_samples(x32, y32),
              ni.gcmi(x32, y32, base=2), ni.gcmi_mixed(x32, np.arange(300) % 3)):
        assert v.dtype == np.float32


def _ar_pair(T, a=0.5, b=0.6, c=0.4, seed=0):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((2, T))
    x, y = np.zeros(T), np.zeros(T)
    for t in range(1, T):
        x[t] = b * x[t - 1] + e[0, t]
        y[t] = a * y[t - 1] + c * x[t - 1] + e[1, t]
    A = np.array([[b, 0.0], [c, a]])
    cov = np.eye(2)
    for _ in range(500):  # stationary covariance: cov = A cov A^T + I
        cov = A @ cov @ A.T + np.eye(2)
    lag1 = A @ cov  # cov(s_t, s_{t-1})
    var_y_given_past = cov[1, 1] - lag1[1, 1] ** 2 / cov[1, 1]
    return x, y, 0.5 * np.log(var_y_given_past)  # residual variance given both pasts: 1


def test_transfer_entropy_of_a_coupled_ar_pair(x64):
    x, y, true = _ar_pair(6000)
    g = float(ni.transfer_entropy(x, y, estimator="gaussian"))
    assert g == pytest.approx(true, abs=0.01)
    assert abs(float(ni.transfer_entropy(y, x, estimator="gaussian"))) < 0.005
    k = float(ni.transfer_entropy(x, y))  # KSG
    assert k == pytest.approx(true, abs=0.03)
    assert abs(float(ni.transfer_entropy(y, x))) < 0.03
    assert float(ni.transfer_entropy(x, y, estimator="gcmi")) == pytest.approx(true, abs=0.015)
    # channel pairs at once: (2, T) x (2, T) -> (2, 2), equal to the single-pair calls
    src, tgt = np.stack([x[:1500], y[:1500]]), np.stack([y[:1500], x[:1500]])
    te = ni.transfer_entropy(src, tgt, estimator="gcmi", history=2)
    assert te.shape == (2, 2)
    assert float(te[0, 0]) == pytest.approx(
        float(ni.transfer_entropy(x[:1500], y[:1500], estimator="gcmi", history=2)), abs=1e-12)


def test_permutation_p_values_uniform_under_independence_small_under_dependence(x64):
    keys = jax.random.split(jax.random.key(0), 200)
    n = 60

    def one(k):
        kx, ky, kp = jax.random.split(k, 3)
        x, y = jax.random.normal(kx, (n, 1)), jax.random.normal(ky, (n, 1))
        return ni.permutation_test(ni.gcmi, x, y, n_permutations=99, key=kp).p_value

    p = np.asarray(jax.jit(jax.vmap(one))(keys))
    ks = kstest(p, "uniform")
    print("KS under independence:", ks.statistic, ks.pvalue)
    assert ks.pvalue > 0.01
    x = jax.random.normal(jax.random.key(1), (n, 1))
    y = x + 0.5 * jax.random.normal(jax.random.key(2), (n, 1))
    r = ni.permutation_test(ni.gcmi, x, y, n_permutations=199, key=jax.random.key(3))
    assert float(r.p_value) == pytest.approx(1 / 200) and r.null.shape == (199,)
    b = ni.bootstrap_ci(ni.gcmi, x, y, n_resamples=300, key=jax.random.key(4))
    assert float(b.low) < float(b.value) < float(b.high) and b.samples.shape == (300,)


def test_bad_input():
    x = np.random.default_rng(0).standard_normal((50, 1))
    with pytest.raises(ValueError, match="same number of samples"):
        ni.ksg_cmi(x, x, x[:40])
    with pytest.raises(ValueError, match="`k`"):
        ni.ksg_cmi(x, x, x, k=50)
    with pytest.raises(ValueError, match="`x` must be finite"):
        ni.gcmi(np.full((50, 1), np.nan), x)
    with pytest.raises(ValueError, match="`lag`"):
        ni.transfer_entropy(x[:, 0], x[:, 0], lag=0)
    with pytest.raises(ValueError, match="`history`"):
        ni.transfer_entropy(x[:, 0], x[:, 0], history=0)
    with pytest.raises(ValueError, match="`n_permutations`"):
        ni.permutation_test(ni.gcmi, x, x, n_permutations=0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="two classes"):
        ni.gcmi_mixed(x, np.zeros(50, int))
    with pytest.raises(ValueError, match="`labels`"):
        ni.gcmi_mixed(x, np.zeros(49, int))
    with pytest.raises(ValueError, match="`method`"):
        ni.ksg_mi(x, x, method="balltree")
    with pytest.raises(ValueError, match="`base`"):
        ni.gcmi(x, x, base=1.0)


def _coupled_ar(T, seed=0):
    """A coupled AR(1) pair x -> y (coefficient 0.5), T samples each."""
    rng = np.random.default_rng(seed)
    x, y = np.zeros(T), np.zeros(T)
    for t in range(1, T):
        x[t] = 0.6 * x[t - 1] + rng.standard_normal()
        y[t] = 0.6 * y[t - 1] + 0.5 * x[t - 1] + rng.standard_normal()
    return x, y


def test_permutation_test_of_transfer_entropy_with_circular_surrogates():
    """Time series need surrogates that keep each series' dynamics: circular shifts of the
    target. (Row permutations made `permutation_test(transfer_entropy, x, y)` fail: 1-D series
    became (T, 1) samples, "T = 1".) Coupled AR(1) pair x -> y: the coupling is detected, the
    reverse direction is not."""
    T = 2000
    x, y = _coupled_ar(T)
    te = lambda a, b: ni.transfer_entropy(a, b, estimator="gcmi")  # noqa: E731
    fwd = ni.permutation_test(te, x, y, n_permutations=99, key=jax.random.key(0),
                              surrogate="circular")
    back = ni.permutation_test(te, y, x, n_permutations=99, key=jax.random.key(0),
                               surrogate="circular")
    # (the reverse p-value is 0.06 with 200 surrogates on these data: no coupling detected)
    assert float(fwd.p_value) == pytest.approx(0.01) and float(back.p_value) > 0.03
    with pytest.raises(ValueError, match="`surrogate`"):
        ni.permutation_test(te, x, y, key=jax.random.key(0), surrogate="blockwise")
    with pytest.raises(ValueError, match="`min_shift`"):
        ni.permutation_test(te, x, y, key=jax.random.key(0), surrogate="circular", min_shift=T)


def test_block_surrogates():
    """Block surrogates: each is a permutation of the samples made of a circular shift and
    permuted blocks (consecutive within a block); transfer entropy is tested with them."""
    from neurojax.info._resampling import block_surrogate

    n, b = 103, 10
    for s in range(5):
        idx = np.asarray(block_surrogate(jax.random.key(s), n, b))
        assert sorted(idx.tolist()) == list(range(n))
        blocks = idx[: (n // b) * b].reshape(-1, b)
        assert np.all(np.diff(blocks, axis=1) % n == 1)  # consecutive (circularly) within blocks
    T = 2000
    x, y = _coupled_ar(T)
    te = lambda a, b: ni.transfer_entropy(a, b, estimator="gcmi")  # noqa: E731
    fwd = ni.permutation_test(te, x, y, n_permutations=99, key=jax.random.key(0),
                              surrogate="block", block_size=50)
    assert float(fwd.p_value) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="`block_size`"):
        ni.permutation_test(te, x, y, key=jax.random.key(0), surrogate="block", block_size=T)
