"""A short InfoMax learning run with figures (used by `neurojax infomax` and `neurojax demo`)."""

import time
from pathlib import Path

import jax
import numpy as np

from .. import _plotting as plot, infomax as nim
from ._progress import progress_bar


def infomax_demo(
    out: Path,
    *,
    seed: int = 0,
    progress: bool = True,
    n_in: int = 32,
    n_out: int = 64,
    steps: int = 220,
    batch_size: int = 16,
    n_samples: int = 2000,
    attenuate_at: float = 140 / 220,
    data_parallel: bool = False,
) -> dict:
    """Seed 000's demo: learn W and K on tones, attenuate high channels after `attenuate_at` of the
    steps, keep learning. Writes `infomax_objective.png` and `infomax_weights.png`; returns numbers."""
    key = jax.random.key(seed)
    k_data, k_train1, k_train2 = jax.random.split(key, 3)
    x = nim.tones(n_in, n_samples, key=k_data)
    profile = nim.attenuation(n_in, f0=n_in // 2, beta=10.0, minval=0.2)
    model = nim.RecurrentInfoMax.tonotopic(n_in, n_out, dtype=x.dtype)
    mesh = None
    if data_parallel:
        from ..parallel import data_mesh

        mesh = data_mesh()
    n1 = int(round(steps * attenuate_at))
    t0 = time.perf_counter()
    log_every = max(1, min(50, steps // 4))
    with progress_bar(n1, "infomax normal", progress) as report:
        h1 = nim.train(model, x, key=k_train1, steps=n1, batch_size=batch_size,
                       log_every=log_every, progress=report, mesh=mesh)
    with progress_bar(steps - n1, "infomax attenuated", progress) as report:
        h2 = nim.train(h1.model, nim.attenuate(x, profile), key=k_train2, steps=steps - n1,
                       batch_size=batch_size, log_every=log_every, progress=report, mesh=mesh)
    model = h2.model
    wall = time.perf_counter() - t0
    objective = np.concatenate([h1.stats.objective, h2.stats.objective])

    fig, ax = plot.figure(3)
    plot.curve(ax[0], np.arange(n_in), {"gain": profile}, "Attenuation profile",
               xlabel="input channel", ylabel="gain")
    plot.curve(ax[1], np.arange(steps), {"J": objective}, "InfoMax objective (batch mean)",
               xlabel="learning step", ylabel="J = ½ log det χᵀχ", vlines=[n1])
    rho = np.concatenate([h1.rho_K, h2.rho_K])
    plot.curve(ax[2], np.concatenate([h1.log_step, n1 + h2.log_step]), {"ρ(K)": rho},
               "Spectral radius of K", xlabel="learning step", vlines=[n1])
    plot.save(fig, Path(out) / "infomax_objective.png")
    fig, ax = plot.figure(2)
    plot.heatmap(ax[0], model.W, "W (feed-forward)", xlabel="input", ylabel="output")
    plot.heatmap(ax[1], model.K, "K (lateral)", xlabel="output", ylabel="output")
    plot.save(fig, Path(out) / "infomax_weights.png")
    return {
        "n_in": n_in, "n_out": n_out, "steps": steps, "batch_size": batch_size,
        "objective_first": float(objective[0]), "objective_last": float(objective[-1]),
        "objective_before_attenuation": float(h1.stats.objective[-1]),
        "rho_K_final": float(rho[-1]) if rho.size else 0.0,
        "max_fixed_point_steps": int(max(h1.stats.fp_steps.max(initial=0), h2.stats.fp_steps.max(initial=0))),
        "all_converged": bool(h1.stats.converged.all() and h2.stats.converged.all()),
        "train_wall_s": wall,
        "figures": ["infomax_objective.png", "infomax_weights.png"],
    }
