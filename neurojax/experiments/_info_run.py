"""MI estimator comparison on correlated Gaussians (`neurojax info`; a short version in the demo)."""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import _plotting as plot, info as ni, sparse as ns

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


def _probe(train, y_train, test, y_test, seed):
    """Held-out accuracy of a logistic-regression probe on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed))
    return float(clf.fit(np.asarray(train), y_train).score(np.asarray(test), y_test))


def dim_experiment(out: Path, *, seed: int = 0, features: int = 32, steps: int = 3000,
                   bound: str = "jsd", batch_size: int = 128, probe_at: tuple[int, ...] = (),
                   local_probe: bool = False, progress: bool = True) -> dict:
    """Deep InfoMax on scikit-learn's digits (8×8): train the encoder on 70 % of the images, then
    a linear probe (logistic regression) on held-out digits of the learned `features` vs raw pixels
    (64), PCA with the same number of components, and the same encoder untrained; with
    `local_probe`, also of the local feature map (flattened, `*_local`: the paper's "conv"
    evaluation) trained and untrained (two more probes on 1,024 features: slower).

    `probe_at`: step counts (< `steps`) at which training pauses to probe the features and to
    evaluate the bound on 128 held-out digits (`probe_curve`); training then continues (same
    encoder and Adam state). Writes `dim_probe.png`; returns the four accuracies, the objective
    and the curve."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images / 16.0
    tr, te, y_tr, y_te = train_test_split(images, digits.target, test_size=0.3,
                                          random_state=seed, stratify=digits.target)
    key = jax.random.key(seed)
    k_enc, k_train = jax.random.split(key)
    encoder0 = ni.DIMEncoder(images.shape[1:], features, key=k_enc)
    enc = lambda e, x: jax.vmap(e)(jnp.asarray(x, jnp.result_type(float)))  # noqa: E731
    probe = lambda e: _probe(enc(e, tr), y_tr, enc(e, te), y_te, seed)  # noqa: E731

    def local(e, x):  # the local feature map, flattened (Hjelm et al.'s "conv" evaluation)
        x = jnp.asarray(x, jnp.result_type(float))
        return jax.vmap(e.local)(x).reshape(len(x), -1)

    probe_local = lambda e: _probe(local(e, tr), y_tr, local(e, te), y_te, seed)  # noqa: E731
    held_out = jnp.asarray(te[:128], jnp.result_type(float))
    stops = sorted({int(s) for s in probe_at if 0 < s < steps}) + [steps]
    if progress:
        print(f"  Deep InfoMax: {steps} steps on {len(tr)} digits ({bound}) ...", flush=True)
    random_accuracy = probe(encoder0)
    t0, encoder, state, done, history = time.perf_counter(), encoder0, None, 0, []
    curve = [{"steps": 0, "heldout_objective": float(ni.dim_objective(encoder0, held_out, bound)),
              "accuracy": random_accuracy}] if len(stops) > 1 else []
    for stop in stops:
        res = ni.train_dim(tr, key=jax.random.fold_in(k_train, done) if done else k_train,
                           steps=stop - done, batch_size=batch_size, bound=bound,
                           encoder=encoder, opt_state=state)
        encoder, state, done = res.encoder, res.opt_state, stop
        history.append(np.asarray(res.history))
        if len(stops) > 1:
            curve.append({"steps": stop, "accuracy": probe(encoder),
                          "heldout_objective": float(ni.dim_objective(encoder, held_out, bound))})
    wall = time.perf_counter() - t0
    history = np.concatenate(history)
    flat_tr, flat_te = tr.reshape(len(tr), -1), te.reshape(len(te), -1)
    p = ns.pca(flat_tr, features)
    acc = {
        "raw_pixels": _probe(flat_tr, y_tr, flat_te, y_te, seed),
        f"pca_{features}": _probe((flat_tr - p.mean) @ p.components, y_tr,
                                  (flat_te - p.mean) @ p.components, y_te, seed),
        "random_encoder": random_accuracy,
        "deep_infomax": curve[-1]["accuracy"] if curve else probe(encoder),
    }
    if local_probe:
        acc |= {"random_encoder_local": probe_local(encoder0),
                "deep_infomax_local": probe_local(encoder)}
    fig, ax = plot.figure(3 if curve else 2, size=4.5)
    ax[0].plot(history)
    ax[0].set(title=f"Deep InfoMax objective ({bound})", xlabel="step", ylabel="bound (nats)")
    names = list(acc)
    ax[1].bar(range(len(names)), [acc[n] for n in names])
    ax[1].set_xticks(range(len(names)), [n.replace("_", "\n") for n in names])
    ax[1].set(title="linear probe, held-out digits", ylabel="accuracy",
              ylim=(min(acc.values()) - 0.05, 1.0))
    if curve:
        ax[2].plot([c["steps"] for c in curve], [c["accuracy"] for c in curve], "o-",
                   label="Deep InfoMax")
        for name, style in ((f"pca_{features}", "--"), ("raw_pixels", ":")):
            ax[2].axhline(acc[name], ls=style, color="gray", label=name.replace("_", " "))
        ax[2].set(title="probe accuracy during training", xlabel="step", ylabel="accuracy")
        ax[2].legend()
    plot.save(fig, Path(out) / "dim_probe.png")
    return {"features": features, "steps": steps, "bound": bound, "train_wall_s": wall,
            "objective_last": float(np.mean(history[-100:])), "probe_accuracy": acc,
            "probe_curve": curve, "n_train": len(tr), "n_test": len(te),
            "figures": ["dim_probe.png"]}
