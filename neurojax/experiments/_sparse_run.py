"""The sparse-coding tutorial's story (seed 002) as figures and numbers (`neurojax sparse`)."""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import _plotting as plot, sparse as ns

TAUS = (1, 2, 4, 8, 16)
WINDOWS = (1, 2, 4, 8, 16)


def _kurtosis_story(out):
    """Figure 1: a panning pixel's signal, its ReLU, temporal and box differences, their kurtosis."""
    x = jnp.asarray(ns.panning_pixel())
    signals = {"signal": x, "relu": ns.relu(x - jnp.mean(x))}
    td = ns.temporal_diff(x, TAUS)
    bd = ns.box_diff(x, WINDOWS)
    signals |= {f"|Δ{t}|": td[i] for i, t in enumerate(TAUS)}
    signals |= {f"box{w}": bd[i] for i, w in enumerate(WINDOWS)}
    kurt = {k: float(ns.kurtosis(v)) for k, v in signals.items()}
    fig, ax = plot.figure(2, 2, size=4.5)
    n = min(2000, x.shape[0])
    plot.curve(ax[0], np.arange(n), {"pixel": x[:n]}, "a pixel while panning (sample image)",
               xlabel="frame", ylabel="intensity")
    plot.curve(ax[1], np.arange(n), {f"|Δ{TAUS[0]}|": td[0][:n], f"|Δ{TAUS[-1]}|": td[-1][:n]},
               "temporal differences", xlabel="frame")
    plot.curve(ax[2], np.arange(n), {f"box{WINDOWS[0]}": bd[0][:n], f"box{WINDOWS[-1]}": bd[-1][:n]},
               "signal minus causal box average", xlabel="frame")
    # kurtosis m4/m2^2 (excess + 3) is positive: a log axis with plain labels (symlog's labels of
    # the excess kurtosis were unreadable around 0)
    ax[3].bar(range(len(kurt)), [v + 3 for v in kurt.values()], color="tab:blue")
    ax[3].axhline(3, color="gray", ls="--", label="Gaussian (3)")
    ax[3].set_xticks(range(len(kurt)), list(kurt), rotation=60, fontsize=8)
    plot.log_axis(ax[3], "y")
    ax[3].set(title="kurtosis m4/m2²", ylabel="kurtosis (log axis)")
    ax[3].legend(fontsize=8)
    plot.save(fig, out / "sparse_kurtosis.png")
    return kurt


def _omp_story(out, key):
    """Figure 2: a sum of 4 sinusoids + noise, OMP on a sinusoid dictionary, error vs nonzeros."""
    T, F = 256, 40
    D = ns.sinusoid_dictionary(T, F)
    kc, kn = jax.random.split(key)
    true = jnp.zeros(2 * F).at[jnp.array([2, 9, F + 4, F + 17])].set(jnp.array([3.0, -2.0, 2.5, 1.5]))
    x = D @ true + 0.05 * jax.random.normal(kn, (T,))
    ks = list(range(1, 13))
    # OMP is greedy: its k-atom code is the least-squares fit on the first k atoms it selects
    # with 12 (one compiled OMP instead of one per k; -1 marks a slot left empty)
    support = np.asarray(ns.omp(D, x[None], ks[-1]).support[0])
    Dn, xn = np.asarray(D, np.float64), np.asarray(x, np.float64)
    errs, recon = [], {}
    for k in ks:
        s = support[:k][support[:k] >= 0]
        r = Dn[:, s] @ np.linalg.lstsq(Dn[:, s], xn, rcond=None)[0]
        errs.append(float(np.linalg.norm(xn - r) / np.linalg.norm(xn)))
        if k in (1, 4):
            recon[k] = r
    fig, ax = plot.figure(2, size=4.5)
    plot.curve(ax[0], np.arange(T), {"signal": x, "OMP k=1": recon[1], "OMP k=4": recon[4]},
               "sinusoid mixture and OMP reconstructions", xlabel="t (samples)",
               ylabel="amplitude")
    plot.curve(ax[1], ks, {"relative error": errs}, "reconstruction error vs nonzeros",
               xlabel="nonzero coefficients", ylabel="‖x − Da‖ / ‖x‖ (log axis)", logy=True,
               vlines=(4,))
    plot.save(fig, out / "sparse_omp.png")
    return {"n_nonzero": ks, "relative_error": errs}


def _codes_kurtosis(codes):
    return float(jnp.mean(ns.kurtosis(jnp.asarray(codes).T)))


def _digits_story(out, key, n_atoms, steps):
    """Figure 3: dictionary atoms vs PCA components on the digits video, and code kurtosis."""
    kv, kd = jax.random.split(key)
    X = jnp.asarray(ns.digits_video(60, 10, key=kv))
    res = ns.learn_dictionary(X, n_atoms, 0.5, key=kd, steps=steps)
    p = ns.pca(X, n_atoms)
    comps, mean = p.components, p.mean
    fig, ax = plot.figure(2, size=4.5)
    plot.atom_grid(ax[0], res.dictionary.T.reshape(-1, 8, 8), f"dictionary ({n_atoms} atoms)")
    plot.atom_grid(ax[1], comps.T.reshape(-1, 8, 8), f"PCA ({n_atoms} components)")
    plot.save(fig, out / "sparse_digits.png")
    return {"frames": int(X.shape[0]), "n_atoms": n_atoms,
            "kurtosis_dictionary_codes": _codes_kurtosis(res.codes),
            "kurtosis_pca_codes": _codes_kurtosis((X - mean) @ comps),
            "objective": float(res.objective[-1])}


def natural_atoms(*, key, n_patches: int = 20000, n_atoms: int = 64, alpha: float = 1.0,
                  steps: int = 1000, progress=None) -> dict:
    """64 (by default) 8×8 atoms learned by minibatch dictionary learning from whitened patches of
    the scikit-learn sample images (`steps` minibatch rounds; `progress` as for
    `learn_dictionary`), their Gabor fits, and the PCA comparison. Returns a dict: `atoms`,
    `fit` (a `GaborFit`), `codes`, `pca_codes`, `objective`, `patches`, `dictionary`."""
    kp, kd, kg = jax.random.split(key, 3)
    w = ns.whiten(jnp.asarray(ns.sample_images(downsample=2)))
    X = ns.extract_patches(w, 8, n_patches, key=kp)
    X = X - X.mean(1, keepdims=True)
    res = ns.learn_dictionary(X, n_atoms, alpha, key=kd, method="minibatch", steps=steps,
                              batch_size=256, progress=progress)
    atoms = res.dictionary.T.reshape(-1, 8, 8)
    fit = ns.gabor_fit(atoms, key=kg)
    p = ns.pca(X, n_atoms)
    comps, mean = p.components, p.mean
    return {"atoms": atoms, "fit": fit, "codes": res.codes, "pca_codes": (X - mean) @ comps,
            "objective": res.objective, "patches": X, "dictionary": res.dictionary}


def _inference(D, X, alpha):
    """Lasso codes of all patches by FISTA and by the exact homotopy: wall time (second call, after
    compilation), mean iterations/steps and summed objectives."""
    out = {}
    for name, solve in (("fista", lambda: ns.fista(D, X, alpha, tol=1e-4)),
                        ("lasso_lars", lambda: ns.lasso_lars(D, X, alpha))):
        jax.block_until_ready(solve().codes)
        t0 = time.perf_counter()
        r = solve()
        jax.block_until_ready(r.codes)
        out[name] = {"wall_s": time.perf_counter() - t0, "iterations_mean": float(r.num_steps.mean()),
                     "objective": float(jnp.sum(ns.lasso_objective(D, X, r.codes, alpha)))}
    return out


def _natural_story(out, key, n_patches, steps, progress):
    nat = natural_atoms(key=key, n_patches=n_patches, steps=steps, progress=progress)
    r2 = np.asarray(nat["fit"].r2)
    fig, ax = plot.figure(1, size=6.0)
    plot.atom_grid(ax[0], nat["atoms"], "atoms from whitened natural patches",
                   scores=np.clip(r2, 0, 1), score_label="Gabor fit R²")
    plot.save(fig, out / "sparse_natural_atoms.png")
    return {"n_patches": n_patches, "rounds": steps, "gabor_r2_median": float(np.median(r2)),
            "fraction_r2_ge_0.7": float(np.mean(r2 >= 0.7)),
            "kurtosis_dictionary_codes": _codes_kurtosis(nat["codes"]),
            "kurtosis_pca_codes": _codes_kurtosis(nat["pca_codes"]),
            "inference": _inference(nat["dictionary"], nat["patches"], 1.0)}


def sparse_experiment(out: Path, *, n_patches: int = 20000, rounds: int = 1000,
                      digit_rounds: int = 100, seed: int = 0, progress: bool = True) -> dict:
    """Writes `sparse_kurtosis.png`, `sparse_omp.png`, `sparse_digits.png`,
    `sparse_natural_atoms.png`; returns the numbers behind them."""
    out = Path(out)
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    wall = {}
    t0 = time.perf_counter()
    kurt = _kurtosis_story(out)
    wall["kurtosis"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    omp = _omp_story(out, k1)
    wall["omp"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    digits = _digits_story(out, k2, 16, digit_rounds)
    wall["digits"] = time.perf_counter() - t0
    t0 = time.perf_counter()

    def report(info):
        if progress and info["step"] % max(1, rounds // 10) == 0:
            print(f"  natural patches: round {info['step']}/{rounds}, batch objective "
                  f"{info['objective']:.4g}", flush=True)

    natural = _natural_story(out, k3, n_patches, rounds, report)
    wall["natural"] = time.perf_counter() - t0
    return {"kurtosis": kurt, "omp": omp, "digits": digits, "natural": natural, "wall_s": wall,
            "figures": ["sparse_kurtosis.png", "sparse_omp.png", "sparse_digits.png",
                        "sparse_natural_atoms.png"]}


def sparse_demo(out: Path, *, seed: int = 0, progress: bool = True) -> dict:
    """`neurojax demo`'s part: the whole story with fewer patches and rounds."""
    return sparse_experiment(out, n_patches=5000, rounds=200, digit_rounds=30, seed=seed,
                             progress=progress)
