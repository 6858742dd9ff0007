"""MI estimator comparison on correlated Gaussians (`neurojax info`; a short version in the demo)."""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import _plotting as plot, info as ni

ESTIMATORS = ("plug-in", "KSG", "InfoNCE", "NWJ", "JSD", "DV")


def _pairs(key, n, rho):
    kx, kn = jax.random.split(key)
    x = jax.random.normal(kx, (n, 1))
    return x, rho * x + jnp.sqrt(1 - rho**2) * jax.random.normal(kn, (n, 1))


def info_experiment(out: Path, *, mis=(0.25, 0.5, 1.0, 1.5, 2.0), n_seeds: int = 3,
                    n: int = 4096, steps: int = 2000, batch_size: int = 256, n_bins: int = 16,
                    seed: int = 0, progress: bool = True) -> dict:
    """True vs estimated MI of 1-D correlated Gaussians for every estimator, over `n_seeds` data
    sets per MI value. The critic-based estimators train one critic per (MI, seed) as a single
    vmapped, jitted computation per bound. Writes `info_estimators.png`; returns the numbers."""
    mis = np.asarray(mis, float)
    rhos = jnp.asarray(ni.rho_for_mi(mis))
    keys = jax.random.split(jax.random.key(seed), (len(mis), n_seeds))
    data = jax.vmap(jax.vmap(lambda k, r: _pairs(k, n, r), in_axes=(0, None)))(keys, rhos)
    xs, ys = data  # (n_mi, n_seeds, n, 1)
    est, wall = {}, {}

    def flat(f):
        return jax.vmap(jax.vmap(f))

    t0 = time.perf_counter()
    est["plug-in"] = flat(lambda x, y: ni.plugin_mi(ni.quantize(x[:, 0], n_bins),
                                                    ni.quantize(y[:, 0], n_bins),
                                                    n_x=n_bins, n_y=n_bins,
                                                    correction="miller_madow"))(xs, ys)
    wall["plug-in"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    est["KSG"] = jnp.array([[ni.ksg_mi(xs[i, s], ys[i, s]) for s in range(n_seeds)]
                            for i in range(len(mis))])
    wall["KSG"] = time.perf_counter() - t0
    tkeys = jax.random.split(jax.random.key(seed + 1), (len(mis), n_seeds))
    for name, bound in (("InfoNCE", "infonce"), ("NWJ", "nwj"), ("JSD", "jsd"), ("DV", "dv")):
        if progress:
            print(f"  training {len(mis) * n_seeds} {name} critics ({steps} steps each) ...",
                  flush=True)
        t0 = time.perf_counter()
        train = lambda x, y, k, bound=bound: ni.train_critic(  # noqa: E731
            x, y, key=k, bound=bound, steps=steps, batch_size=batch_size).estimate
        est[name] = jax.block_until_ready(flat(train)(xs, ys, tkeys))
        wall[name] = time.perf_counter() - t0
    est = {k: np.asarray(v, np.float64) for k, v in est.items()}

    fig, ax = plot.figure(1, size=5.0)
    lim = float(mis.max()) * 1.25
    ax[0].plot([0, lim], [0, lim], color="k", linestyle=":", label="truth")
    if np.log(batch_size) < lim:
        ax[0].axhline(np.log(batch_size), color="gray", linestyle="--", label="log B (InfoNCE cap)")
    for i, name in enumerate(ESTIMATORS):
        m, s = est[name].mean(1), est[name].std(1)
        ax[0].errorbar(mis + 0.015 * (i - 2.5), m, yerr=s, marker="o", capsize=3, label=name)
    ax[0].set(xlabel="true MI (nats)", ylabel="estimate (nats)", ylim=(-0.5, lim),
              title=f"MI estimators, 1-D Gaussians, n = {n}, {n_seeds} seeds")
    ax[0].legend(fontsize=8)
    plot.save(fig, Path(out) / "info_estimators.png")
    return {
        "true_mi": mis.tolist(), "n": n, "n_seeds": n_seeds, "critic_steps": steps,
        "batch_size": batch_size,
        "mean": {k: v.mean(1).tolist() for k, v in est.items()},
        "std": {k: v.std(1).tolist() for k, v in est.items()},
        "max_abs_error": {k: float(np.max(np.abs(v.mean(1) - mis))) for k, v in est.items()},
        "wall_s": wall, "figures": ["info_estimators.png"],
    }


def info_demo(out: Path, *, seed: int = 0, progress: bool = True) -> dict:
    """`neurojax demo`'s part: 4 MI values x 2 seeds, short critic training."""
    return info_experiment(out, mis=(0.25, 0.5, 1.0, 2.0), n_seeds=2, n=2048, steps=400,
                           batch_size=128, seed=seed, progress=progress)
