import jax.numpy as jnp
import numpy as np
import pytest
from reference import reference

import neurojax.infomax as nim


def test_tonotopic_matches_seed(x64):
    for n_in, n_out in [(32, 64), (40, 400), (64, 32)]:
        m = nim.RecurrentInfoMax.tonotopic(n_in, n_out)
        ref = reference(f"tonotopic_{n_in}x{n_out}", lambda s, n_in=n_in, n_out=n_out: {
            "W": (net := s.infomax_seed.Infomax(n_in, n_out)).W, "K": net.K})
        assert m.W.shape == ref["W"].shape and m.K.shape == ref["K"].shape
        # identical up to the documented subnormal entries (raised to the smallest normal, < 2.3e-308)
        np.testing.assert_allclose(np.asarray(m.W), ref["W"], rtol=1e-13, atol=3e-308)
        assert np.array_equal(np.sign(np.asarray(m.W)), np.sign(ref["W"]))
        assert not np.any(np.asarray(m.K))


def test_no_threshold(x64):
    m = nim.RecurrentInfoMax.tonotopic(8, 16, threshold=False)
    assert m.W.shape == (16, 8) and m.n_in == 8 and not m.threshold
    assert m(jnp.ones(8)).shape == (16,)


def test_call_is_equilibrium(x64):
    m = nim.RecurrentInfoMax.tonotopic(8, 16)
    x = jnp.linspace(0, 0.5, 8)
    np.testing.assert_allclose(m(x), nim.equilibrium(m, x).g)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: nim.RecurrentInfoMax(jnp.full((4, 3), jnp.nan)), "W"),
        (lambda: nim.RecurrentInfoMax(jnp.ones((4, 3)), jnp.ones((4, 3))), "K"),
        (lambda: nim.RecurrentInfoMax(jnp.ones((4, 3)), jnp.full((4, 4), jnp.inf)), "K"),
        (lambda: nim.RecurrentInfoMax(jnp.ones(4)), "W"),
        (lambda: nim.RecurrentInfoMax.tonotopic(4, 0), "n_out"),
        (lambda: nim.RecurrentInfoMax.tonotopic(-1, 4), "n_in"),
    ],
)
def test_bad_construction(make, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        make()


def test_bad_x_length():
    m = nim.RecurrentInfoMax.tonotopic(8, 16)
    with pytest.raises(ValueError, match="`x`"):
        m(jnp.ones(7))


@pytest.mark.badinput
def test_non_int_size():
    with pytest.raises(TypeError, match="`n_in`"):
        nim.RecurrentInfoMax.tonotopic(8.0, 16)
