"""Batch compaction helpers shared by FISTA and the homotopy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurojax.sparse._compaction import bucket_sizes, first_where


@pytest.mark.parametrize("n", [1, 100, 700, 3000])
@pytest.mark.parametrize("double", [False, True])
def test_first_where_is_a_stable_argsort(n, double, request):
    if double:
        request.getfixturevalue("x64")
    flag = jax.random.bernoulli(jax.random.key(n), 0.3, (n,))
    got, want = first_where(flag), jnp.argsort(~flag, stable=True)
    assert got.dtype == want.dtype  # a while_loop carries it next to argsort results
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_bucket_sizes_ladder():
    sizes = bucket_sizes(10240, 0.8)
    assert sizes[0] == 64 and sizes[-1] == 10240 and sizes == sorted(set(sizes))
    assert all(s % 1024 == 0 for s in sizes if s >= 2048)  # whole chunks above two chunks
    assert bucket_sizes(100) == [64, 100]
