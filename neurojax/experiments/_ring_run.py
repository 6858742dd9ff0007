"""A circulant ring run and a drive-off run from the learned kernel (used by `neurojax demo`)."""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import _plotting as plot, ring as nr


def _chunked(cfg, w0, n_steps, *, chunks, progress, desc, **kwargs):
    from tqdm.auto import tqdm

    state, recs = None, []
    sizes = [n_steps // chunks + (i < n_steps % chunks) for i in range(chunks)]
    with tqdm(total=n_steps, desc=desc, disable=not progress, leave=False) as bar:
        for n in sizes:
            state, rec = nr.simulate(cfg, w0 if state is None else None, n_steps=n, state=state, **kwargs)
            recs.append(np.asarray(rec))
            bar.update(n)
    return state, np.concatenate(recs)


def ring_demo(out: Path, *, seed: int = 0, progress: bool = True, N: int = 500, periods: int = 150,
              replay_periods: int = 6, record_every: int = 10) -> dict:
    """Learn a circulant kernel for `periods` drive periods (seed 001 defaults), then run from the
    learned kernel with the drive off. Writes `ring_raster.png`, `ring_kernel.png`; returns numbers."""
    cfg = nr.RingConfig(N=N)
    w0 = 0.05 * jax.random.normal(jax.random.key(seed), (N,))
    t0 = time.perf_counter()
    n_steps = cfg.steps_for(periods) - 1
    state, rec = _chunked(cfg, w0, n_steps, chunks=10, progress=progress, desc="ring learning",
                          variant="circulant", record_every=record_every)
    w = state.w
    replay_steps = cfg.steps_for(replay_periods) - 1
    _, replay = _chunked(cfg, w, replay_steps, chunks=1, progress=progress, desc="ring drive-off",
                         variant="circulant", record_every=record_every, stimulate=False, plastic=False)
    wall = time.perf_counter() - t0
    per = N // record_every  # records per drive period
    fig, ax = plot.figure(3)
    for a, data, title in ((ax[0], rec[: 3 * per], "activity, first periods"),
                           (ax[1], rec[-3 * per:], "activity, last periods"),
                           (ax[2], replay[-3 * per:], "drive off, learned kernel")):
        plot.heatmap(a, data.T, title, symmetric=False, xlabel=f"time (×{record_every} dt)",
                     ylabel="neuron")
    plot.save(fig, Path(out) / "ring_raster.png")
    fig, ax = plot.figure(1)
    plot.curve(ax[0], np.arange(N), {"w0": np.asarray(w0), "learned": np.asarray(w)},
               "circulant kernel w[(n - k) mod N]", xlabel="offset n - k")
    plot.save(fig, Path(out) / "ring_kernel.png")
    w_np = np.asarray(w)
    odd = 0.5 * (w_np - np.roll(w_np[::-1], 1))
    return {
        "N": N, "periods": periods, "steps": n_steps, "record_every": record_every,
        "kernel_max_abs": float(np.abs(w_np).max()),
        "kernel_odd_fraction": float(np.linalg.norm(odd) / np.linalg.norm(w_np)),
        "drive_off_rate_std": float(np.std(replay[-3 * per:])),
        "sim_wall_s": wall, "steps_per_s": (n_steps + replay_steps) / wall,
        "figures": ["ring_raster.png", "ring_kernel.png"],
        "finite": bool(jnp.all(jnp.isfinite(w))),
    }
