import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import reference

import neurojax.infomax as nim


def test_attenuation_matches_seed(x64):
    ref = reference("attenuation_32", lambda s: {"profile": s.infomax_seed.attenuate_inputs(
        np.ones((32, 3)), beta=10.0, f_0=16, minval=0.2)[1]})["profile"]
    np.testing.assert_allclose(nim.attenuation(32, f0=16, beta=10.0, minval=0.2), ref, rtol=1e-14)
    low = nim.attenuation(32, f0=16, beta=10.0, minval=0.2, low=True)
    assert low[0] < 0.25 and low[-1] > 0.99
    np.testing.assert_allclose(nim.attenuate(jnp.ones((3, 32)), ref), np.tile(ref, (3, 1)))


def test_tones_distribution_matches_seed(x64):
    def compute(s):  # per-channel mean and spread of 3,000 seed tones
        s.infomax_seed.reseed(0)
        x = s.infomax_seed.generate_input(32, 3000).T
        return {"mean": x.mean(0), "std": x.std(0)}

    ref = reference("tones_32x3000", compute)
    ours = np.asarray(nim.tones(32, 3000, key=jax.random.key(0)))
    assert ours.shape == (3000, 32)
    assert np.isclose(np.abs(ours).max(), 0.5)
    # same distribution: per-channel means and spreads agree within sampling error
    np.testing.assert_allclose(ours.mean(0), ref["mean"], atol=0.02)
    np.testing.assert_allclose(ours.std(0), ref["std"], atol=0.02)


@pytest.mark.badinput
def test_bad_inputs():
    with pytest.raises(ValueError, match="`profile`"):
        nim.attenuate(jnp.ones((3, 8)), jnp.ones(7))
    with pytest.raises(ValueError, match="`minval`"):
        nim.attenuation(8, f0=4, minval=2.0)
    with pytest.raises(ValueError, match="`n_samples`"):
        nim.tones(8, 0, key=jax.random.key(0))
