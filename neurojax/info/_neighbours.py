r"""Nearest-neighbour queries of the KSG-type estimators, in the max-norm, on two backends.

- `"brute"`: pairwise distances in JAX, `chunk` query rows at a time (`lax.map` over row blocks;
  memory O(chunk · n)); jit- and vmap-able, so a permutation test runs all its permutations as one
  program. The path for accelerators and for traced calls.
- `"kdtree"`: k-d trees on the host, O(n log n) per query set — the fast path on a CPU; under
  `jit`/`vmap` through `jax.pure_callback` (a vmapped call, e.g. the surrogates of a permutation
  test, runs the trees once per element): the k-th neighbour by :class:`scipy.spatial.cKDTree` (all cores, `workers=-1`), the
  counts by scikit-learn's `KDTree.query_radius(count_only=True)` (measured 2–6× faster than
  cKDTree's `query_ball_point` for these counts at n = 10⁴, d = 1–8).
- `"auto"` (default): the backend policy's choice (`neurojax._policy.knn_method`): `"kdtree"` on
  a CPU up to a joint dimension of 20, `"brute"` above it and on an accelerator.

Both give the same numbers: the distance to the k-th nearest *other* point (ties counted with
multiplicity) and, per point, the number of other points strictly closer than a radius (a radius
of 0 counts none).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from .. import _policy
from .._checks import check_choice, check_positive_int

METHODS = ("auto", "brute", "kdtree")


def resolve_method(method: str, *arrays) -> str:
    """The backend a call runs on (see the module docstring)."""
    check_choice("method", method, METHODS)
    if method != "auto":
        return method
    return _policy.knn_method(sum(a.shape[-1] for a in arrays) if arrays else 1)


def chunk_rows(chunk, n):
    """Rows per distance block: small blocks stay in cache on CPU (64 measured fastest on 2 cores
    at n = 10,000); accelerators prefer large ones."""
    if chunk is None:
        chunk = _policy.knn_chunk_rows()
    return min(check_positive_int("chunk", chunk), n)


def chunked_rows(fn, n, chunk):
    """Apply `fn(rows)` to row-index blocks of size `chunk` (padded), concatenating the results."""
    n_blocks = -(-n // chunk)
    idx = jnp.minimum(jnp.arange(n_blocks * chunk), n - 1).reshape(n_blocks, chunk)
    out = jax.lax.map(fn, idx)
    return jax.tree.map(lambda a: a.reshape(n_blocks * chunk, *a.shape[2:])[:n], out)


def cheb(a, rows):
    """Max-norm distances from the points `a[rows]` to every point of `a`: (chunk, n)."""
    return jnp.max(jnp.abs(a[rows][:, None, :] - a[None, :, :]), axis=-1)


def euclid(a, rows):
    d2 = jnp.sum((a[rows][:, None, :] - a[None, :, :]) ** 2, axis=-1)
    return jnp.sqrt(d2)


def kth_distance(dist, rows, k):
    """Distance to the k-th nearest *other* point (self excluded by index; ties counted with
    multiplicity). k passes of a row minimum: for the small k of these estimators far faster on
    CPU than `lax.top_k`, which sorts."""
    n = dist.shape[1]
    dist = jnp.where(rows[:, None] == jnp.arange(n)[None, :], jnp.inf, dist)

    def body(_, carry):
        d, kth, seen = carry
        m = jnp.min(d, axis=1)
        at_min = d == m[:, None]
        now = seen + jnp.sum(at_min, axis=1, dtype=seen.dtype)
        kth = jnp.where((seen < k) & (now >= k), m, kth)
        return jnp.where(at_min, jnp.inf, d), kth, now

    init = (dist, jnp.full(dist.shape[:1], jnp.inf, dist.dtype), jnp.zeros(dist.shape[:1], jnp.int32))
    return jax.lax.fori_loop(0, k, body, init)[1]


def closer(dist, rows, eps):
    """Other points strictly closer than `eps` per row of `dist` (self excluded by index)."""
    n = dist.shape[1]
    other = rows[:, None] != jnp.arange(n)[None, :]
    return jnp.sum((dist < eps[:, None]) & other, axis=1)


def brute_counts(joint, marginals, k, chunk):
    """`(eps, counts)`: the k-th neighbour distance in `joint` and, for each array of `marginals`,
    the counts of other points closer than `eps` there — one pass over the row blocks (traceable)."""
    def block(rows):
        eps = kth_distance(cheb(joint, rows), rows, k)
        return eps, tuple(closer(cheb(m, rows), rows, eps) for m in marginals)

    return chunked_rows(block, joint.shape[0], chunk)


def traced_kdtree_counts(joint, marginals, k):
    """:func:`kdtree_counts` for traced arrays: a `jax.pure_callback` to the host. Under `vmap`
    the host receives the whole batch in one call (`vmap_method="expand_dims"`) and searches its
    elements one after the other. Non-finite rows (flagged NaN by the callers) are searched as
    zeros."""
    count_dtype = jax.dtypes.canonicalize_dtype(jnp.int64)
    n = joint.shape[0]

    def host(joint, *marginals):
        batch = np.broadcast_shapes(*(a.shape[:-2] for a in (joint, *marginals)))
        arrays = [np.broadcast_to(np.where(np.isfinite(a), a, 0), batch + a.shape[-2:])
                  .reshape((-1,) + a.shape[-2:]) for a in (joint, *marginals)]
        eps = np.empty((arrays[0].shape[0], n), joint.dtype)
        counts = [np.empty((arrays[0].shape[0], n), count_dtype) for _ in marginals]
        for b in range(arrays[0].shape[0]):
            e, c = kdtree_counts(arrays[0][b], [a[b] for a in arrays[1:]], k)
            eps[b] = e
            for out, v in zip(counts, c):
                out[b] = v
        return eps.reshape(batch + (n,)), tuple(c.reshape(batch + (n,)) for c in counts)

    shapes = (jax.ShapeDtypeStruct((n,), joint.dtype),
              tuple(jax.ShapeDtypeStruct((n,), count_dtype) for _ in marginals))
    return jax.pure_callback(host, shapes, joint, *marginals, vmap_method="expand_dims")


def sorted_counts(m, eps):
    """Other points strictly closer than `eps` to each point of the 1-D sample `m` (n,), by
    sorting: exactly the count of `fl(|m_j − m_i|) < eps_i` that a tree or the brute tiles make.
    For a fixed `m_i` the rounded distance is monotone in `m_j`, so the points inside form an
    interval of the sorted sample; its ends are found by binary search on `m_i ± eps_i` and then
    moved past the few values where that rounding disagrees with the rounded distance."""
    s = np.sort(m)
    n = s.shape[0]

    def inside(idx):
        return np.abs(s[np.clip(idx, 0, n - 1)] - m) < eps

    hi = np.searchsorted(s, m + eps, "left")  # one past the last inside point
    lo = np.searchsorted(s, m - eps, "right")  # the first inside point
    while True:  # each pass moves an end past one distinct value
        right = (hi < n) & inside(hi)
        left_in = (hi > 0) & ~inside(hi - 1)
        low_out = (lo < n) & ~inside(lo)
        low_in = (lo > 0) & inside(lo - 1)
        if not (right.any() or left_in.any() or low_out.any() or low_in.any()):
            break
        hi = np.where(right, np.searchsorted(s, s[np.clip(hi, 0, n - 1)], "right"), hi)
        hi = np.where(left_in & ~right, np.searchsorted(s, s[np.clip(hi - 1, 0, n - 1)], "left"), hi)
        lo = np.where(low_out, np.searchsorted(s, s[np.clip(lo, 0, n - 1)], "right"), lo)
        lo = np.where(low_in & ~low_out, np.searchsorted(s, s[np.clip(lo - 1, 0, n - 1)], "left"),
                      lo)
    return np.where(eps > 0, hi - lo - 1, 0)  # minus the point itself


# below this many samples one thread answers the queries faster than a pool (thread start-up):
# measured n = 1,000, d = 1: cKDTree query 0.82 ms with one worker, 1.24 ms with all
_THREADS_FROM = 5000


def kdtree_counts(joint, marginals, k):
    """:func:`brute_counts` with k-d trees on the host (NumPy arrays in, NumPy out); 1-D
    marginals by sorting (:func:`sorted_counts`, 30× faster than a tree at n = 1,000)."""
    from scipy.spatial import cKDTree
    from sklearn.neighbors import KDTree

    joint = np.asarray(joint)
    n = joint.shape[0]
    if joint.shape[1] >= 12 and n <= 5000:
        # high-dimensional, small n: scikit-learn's tree answers the k-NN query faster (measured
        # at D = 16: n = 2,000 0.037 s vs cKDTree 0.060 s; n = 10,000 0.74 s vs 0.50 s)
        dist = KDTree(joint, metric="chebyshev").query(joint, k=k + 1)[0]
    else:
        dist, _ = cKDTree(joint).query(joint, k=k + 1, p=np.inf,
                                       workers=-1 if n >= _THREADS_FROM else 1)
    eps = dist[:, k]  # column 0 is a zero distance (the point itself or a duplicate)
    radius = np.nextafter(eps, 0)  # "<= radius" is "< eps"

    def count(m):
        m = np.asarray(m)
        if m.shape[1] == 1:
            return sorted_counts(m[:, 0], eps)
        c = KDTree(m, metric="chebyshev").query_radius(m, radius, count_only=True)
        return np.where(eps > 0, c - 1, 0)  # minus the point itself

    # one thread per subspace: the radius queries release the GIL for much of their time
    # (measured d = 8, n = 2,000, 2 cores: both marginals 0.047 s one after the other, 0.036 s)
    workers = min(len(marginals), os.cpu_count() or 1)
    if workers < 2 or all(np.shape(m)[1] == 1 for m in marginals) or n < 2000:
        return eps, tuple(count(m) for m in marginals)
    with ThreadPoolExecutor(workers) as pool:
        return eps, tuple(pool.map(count, marginals))
