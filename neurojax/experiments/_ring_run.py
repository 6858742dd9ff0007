"""The ring experiment: learn with the travelling-wave drive, then replay with the drive off
(`neurojax ring`; a circulant run is part of `neurojax demo`)."""

import time
from pathlib import Path

import jax
import numpy as np

from .. import _plotting as plot, ring as nr
from ._progress import progress_bar
from ._serialise import fields


def _chunked(cfg, w0, steps, *, chunks, progress, desc, **kwargs):
    """`nr.simulate` in `chunks` resumed pieces, so a progress bar can advance between them."""
    state, recs, done = None, [], 0
    sizes = [steps // chunks + (i < steps % chunks) for i in range(chunks)]
    with progress_bar(steps, desc, progress) as report:
        for n in sizes:
            if n == 0:
                continue
            r = nr.simulate(cfg, w0 if state is None else None, steps=n, state=state, **kwargs)
            state, done = r.state, done + n
            recs.append(np.asarray(r.rates))
            if report is not None:
                report({"step": done, "total": steps})
    return state, np.concatenate(recs)


def _kernel_of(w, variant):
    return np.asarray(nr.circulant_kernel(w) if variant == "full" else w)


def ring_experiment(out: Path, *, variant: str = "circulant", periods: int = 150, N: int = 500,
                    replay_periods: int = 6, record_every: int = 10, seed: int = 0,
                    progress: bool = True) -> dict:
    """Learn for `periods` drive periods from w0 = 0.05·N(0, 1) (seed 001 defaults), then run from
    the learned weights with the drive off and with it on, and measure the waves.

    Figures: `ring_raster.png` (activity at the start and end of learning, and the replay),
    `ring_kernel.png` (learned kernel; for `full` also the row-aligned matrix). Returns numbers."""
    cfg = nr.RingConfig(N=N)
    shape = (N, N) if variant == "full" else (N,)
    w0 = 0.05 * jax.random.normal(jax.random.key(seed), shape)
    t0 = time.perf_counter()
    steps = cfg.steps_for(periods) - 1
    state, rec = _chunked(cfg, w0, steps, chunks=min(10, steps), progress=progress,
                          desc=f"ring {variant} learning", variant=variant,
                          record_every=record_every)
    jax.block_until_ready(state)
    learn_wall = time.perf_counter() - t0
    w = state.w
    replay_steps = cfg.steps_for(replay_periods) - 1
    runs = {}
    for name, stim in (("replay", False), ("driven", True)):
        _, runs[name] = _chunked(cfg, w, replay_steps, chunks=1, progress=progress,
                                 desc=f"ring {name}", variant=variant, record_every=1,
                                 stimulate=stim, plastic=False)
    tail = min(1000, replay_steps // 2)
    waves = {k: fields(nr.wave_speed(v[-tail:], cfg.dt)) for k, v in runs.items()}

    per = max(1, N // record_every)  # records per drive period
    fig, ax = plot.figure(3)
    panels = ((rec[: 3 * per], "activity, first periods", record_every),
              (rec[-3 * per:], "activity, last periods", record_every),
              (runs["replay"][-3 * N:], "drive off, learned weights", 1))
    for a, (data, title, k) in zip(ax, panels):
        plot.heatmap(a, data.T, title, symmetric=False, xlabel=f"time (×{k} dt)", ylabel="neuron")
    plot.save(fig, Path(out) / "ring_raster.png")
    kernel, kernel0 = _kernel_of(w, variant), _kernel_of(w0, variant)
    offsets = np.arange(-(N // 2), N - N // 2)
    fig, ax = plot.figure(2 if variant == "full" else 1)
    plot.curve(ax[0], offsets, {"w0": kernel0[offsets % N], "learned": kernel[offsets % N]},
               f"{variant} kernel w[Δ], Δ = n − k", xlabel="offset Δ (neurons)", ylabel="weight w[Δ]")
    if variant == "full":
        plot.heatmap(ax[1], nr.align_rows(w), "rows aligned to the diagonal (seed symmetrize)",
                     xlabel="presynaptic offset", ylabel="postsynaptic neuron")
    plot.save(fig, Path(out) / "ring_kernel.png")

    summary = {
        "variant": variant, "N": N, "periods": periods, "steps": steps,
        "record_every": record_every, "learn_wall_s": learn_wall,
        "steps_per_s": steps / learn_wall,
        "kernel": fields(nr.kernel_stats(kernel)),
        "drive_speed": -N / cfg.T,
        "replay_wave": waves["replay"], "driven_wave": waves["driven"],
        "finite": bool(np.all(np.isfinite(np.asarray(w)))),
        "figures": ["ring_raster.png", "ring_kernel.png"],
    }
    if variant == "full":
        summary["translation_invariance"] = float(nr.translation_invariance(w))
        summary["translation_invariance_w0"] = float(nr.translation_invariance(w0))
    return summary


def ring_demo(out: Path, *, seed: int = 0, progress: bool = True) -> dict:
    """`neurojax demo`'s ring part: the 150-period circulant run (a few seconds) and its replay."""
    return ring_experiment(out, variant="circulant", periods=150, seed=seed, progress=progress)
