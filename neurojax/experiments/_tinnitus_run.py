"""`neurojax tinnitus`: the protocol, its measures and figures (seed 000; Dotan & Shriki 2021)."""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import _plotting as plot, infomax as nim
from ._crossing import RHO_CRITICAL, crossing
from ._serialise import fields, jsonable
from ._tinnitus_protocol import LearningDiverged, TinnitusConfig, run_protocol

SCALES = np.linspace(0.0, 4.0, 17)


def output_channels(gain, n_out):
    """Input gain resampled onto the output channels (tonotopic: output i ~ input i·n_in/n_out)."""
    g = np.asarray(gain)
    pos = (np.arange(n_out) + 0.5) * len(g) / n_out - 0.5
    return np.interp(pos, np.arange(len(g)), g)


def tinnitus_measures(run, config: TinnitusConfig, *, key, sweep_steps=None) -> dict:
    """The measures of a finished :func:`run_protocol` run (a `ProtocolResult`): silence responses
    before/after phase 3, the ρ(K)-vs-λ_K sweep, critical slowing and audiograms, as a dict of
    NumPy arrays and numbers per profile (`profiles`) and before phase 3."""
    m2, m3 = nim.take(run.models[2], 0), run.models[3]
    x, gains = run.pool, run.gains
    x_att = jax.vmap(nim.attenuate, (None, 0))(x, gains)
    s_before = nim.silence_response(m2)
    silence_before = np.asarray(s_before.g)
    mean_before = np.asarray(jnp.mean(jax.vmap(m2)(x[:500]), axis=0))
    res = {"silence_before": silence_before, "mean_response_before": mean_before, "profiles": {},
           "silence_converged_before": bool(s_before.converged)}
    a_before = nim.audiogram(m2)
    audio_before = np.asarray(a_before.thresholds)
    res["audiogram_converged_before"] = bool(np.all(a_before.converged))
    lam = (np.geomspace(config.rec_l2 / 16, config.rec_l2 * 2, 8) if config.penalties is None
           else np.asarray(config.penalties, float))
    s_norm, s_att = sweep_steps or (config.steps_K, config.steps_attenuated)
    # one sweep for all profiles: phase 2 once per λ_K, phase 3 per profile and λ_K
    sweeps = nim.penalty_sweep(nim.take(run.models[1], 0), x, x_att, lam, key=key,
                               steps_normal=s_norm, steps_attenuated=s_att,
                               batch_size=config.batch_size, ff_eta=config.ff_eta,
                               rec_eta=config.rec_eta, ff_l1=config.ff_l1,
                               learn_W=config.learn_W_attenuated)
    for i, name in enumerate(run.profiles):
        m = nim.take(m3, i)
        s_after = nim.silence_response(m)
        after = np.asarray(s_after.g)
        lost = output_channels(gains[i], config.n_out) < 0.5
        a_after = nim.audiogram(m, gain=gains[i])
        audio_after = np.asarray(a_after.thresholds)
        sweep = {"penalty": sweeps.penalty, "rho_before": sweeps.rho_before,
                 "rho_after": sweeps.rho_after[i]}
        res["profiles"][name] = {
            "gain": np.asarray(gains[i]), "silence_after": after,
            "silence_converged_after": bool(s_after.converged),
            "audiogram_converged_after": bool(np.all(a_after.converged)),
            "mean_response_after": np.asarray(jnp.mean(jax.vmap(m)(x_att[i][:500]),
                                                        axis=0)),
            "lost_outputs": lost,
            "n_rising": int(np.sum(after > silence_before)),
            "silence_ratio_lost": float(after[lost].mean() / silence_before[lost].mean())
            if lost.any() else float("nan"),
            "silence_ratio_intact": float(after[~lost].mean() / silence_before[~lost].mean())
            if (~lost).any() else float("nan"),
            "rho_K_after": float(nim.rho(m.K)),
            "sweep": sweep | {f"crossing_{when}": crossing(sweep["penalty"], sweep[f"rho_{when}"],
                                                           log=True)["crossing"]
                              for when in ("before", "after")},
            "slowing": fields(nim.critical_slowing(m, SCALES)),
            "audiogram_after": audio_after,
            "audiogram_db": 20 * np.log10(audio_after / audio_before),
        }
    res["rho_K_before"] = float(nim.rho(m2.K))
    res["audiogram_before"] = audio_before
    return res


def _figures(out, run, meas, config):
    names = run.profiles
    figs = []
    fig, ax = plot.figure(3, 2, size=3.6)
    for p, (ph, label) in enumerate(((1, "W only"), (2, "K only"), (3, "K, attenuated"))):
        m = nim.take(run.models[ph], 0)
        plot.heatmap(ax[p], m.W, f"W after phase {ph} ({label})", symmetric=False,
                     xlabel="input channel (last: threshold)", ylabel="output unit")
        plot.heatmap(ax[3 + p], m.K, f"K after phase {ph}", xlabel="presynaptic output unit",
                     ylabel="output unit")
    figs.append(plot.save(fig, Path(out) / "tinnitus_weights.png").name)

    fig, ax = plot.figure(2, size=4.5)
    hist = run.history
    obj = np.concatenate([hist[p]["objective"].reshape(-1, len(names)) if p == 3
                          else hist[p]["objective"].reshape(-1, 1).repeat(len(names), 1)
                          for p in (1, 2, 3)])
    ends = np.cumsum([config.steps_W, config.steps_K])
    plot.curve(ax[0], np.arange(len(obj)), {n: obj[:, i] for i, n in enumerate(names)},
               "InfoMax objective (batch mean)", xlabel="step", ylabel="J = ½ log det χᵀχ",
               vlines=ends)
    rs = [(hist[p]["rho_step"] + off, hist[p]["rho"])
          for p, off in ((1, 0), (2, ends[0]), (3, ends[1])) if hist[p]["rho_step"].size]
    steps_r = np.concatenate([s for s, _ in rs])
    rho_r = np.concatenate([r if r.shape[1] == len(names) else r.repeat(len(names), 1)
                            for _, r in rs])
    plot.curve(ax[1], steps_r, {n: rho_r[:, i] for i, n in enumerate(names)}, "ρ(K) over training",
               xlabel="step", ylabel="spectral radius ρ(K)", vlines=ends)
    figs.append(plot.save(fig, Path(out) / "tinnitus_training.png").name)

    # one row of four panels per profile (a 2 × 2 grid for a single profile)
    fig, ax = plot.figure(2, 2, size=3.6) if len(names) == 1 else plot.figure(4, len(names),
                                                                              size=3.6)
    for i, n in enumerate(names):
        pm = meas["profiles"][n]
        a, b, c, d = ax[4 * i:4 * i + 4]
        a.plot(meas["silence_before"], label="silence, before phase 3")
        a.plot(pm["silence_after"], label="silence, after")
        a.plot(meas["mean_response_before"], ":", label="mean response to tones")
        a.plot(output_channels(pm["gain"], config.n_out), "k--", alpha=0.5, label="hearing (gain)")
        a.set(title=f"{n}: silence response", xlabel="output channel", ylabel="output g")
        a.legend(fontsize=6)
        sw = pm["sweep"]
        b.plot(sw["penalty"], sw["rho_before"], "o-", label="before attenuation")
        b.plot(sw["penalty"], sw["rho_after"], "s-", label="after")
        plot.log_axis(b)
        b.axhline(RHO_CRITICAL, color="r", linestyle="--", label="ρ = 4 (max σ' = 1/4)")
        b.axvline(config.rec_l2, color="gray", linestyle=":")
        b.set(title=f"{n}: ρ(K) vs λ_K", xlabel="λ_K", ylabel="ρ(K)")
        b.legend(fontsize=6)
        sl = pm["slowing"]
        c.plot(sl["scale"], sl["newton_steps"], "o-", label="Newton")
        c.plot(sl["scale"], sl["picard_steps"], "s-", label="fixed-point iteration")
        c.set(title=f"{n}: steps to equilibrium (silence)", xlabel="K scale s",
              ylabel="solver steps")
        plot.log_axis(c, "y")
        c.legend(fontsize=6)
        d.plot(np.arange(1, config.n_in + 1), pm["audiogram_db"], "o-")
        d.set(title=f"{n}: audiogram (dB re before)", xlabel="input channel", ylabel="dB")
        d.invert_yaxis()
    figs.append(plot.save(fig, Path(out) / "tinnitus_measures.png").name)
    if len(names) > 1:  # comparison of the profiles: where does silence activity appear?
        fig, ax = plot.figure(2, size=4.5)
        plot.curve(ax[0], np.arange(config.n_out),
                   {n: meas["profiles"][n]["silence_after"] - meas["silence_before"] for n in names},
                   "silence response change (after - before phase 3)", xlabel="output channel")
        ax[1].bar(range(len(names)), [meas["profiles"][n]["silence_ratio_lost"] for n in names])
        ax[1].axhline(1.0, color="gray", linestyle="--")
        ax[1].set_xticks(range(len(names)), names)
        ax[1].set(title="silence response ratio, deprived channels")
        figs.append(plot.save(fig, Path(out) / "tinnitus_profiles.png").name)
    return figs


def tinnitus_experiment(out: Path, *, preset: str = "small", profile: str = "baseline",
                        seed: int = 0, resume: bool = False, overwrite: bool = False,
                        progress: bool = True,
                        config: TinnitusConfig | None = None, sweep_steps=None) -> dict:
    """Run the protocol (checkpoints in `out/checkpoint`), then the measures; write
    `tinnitus_weights.png`, `tinnitus_training.png`, `tinnitus_measures.png`; return numbers."""
    config = TinnitusConfig.preset(preset) if config is None else config
    key = jax.random.key(seed)
    t0 = time.perf_counter()

    def report(info):
        if progress:
            print(f"  phase {info['phase']}: step {info['step']}/{info['total']}  J = "
                  f"{np.mean(info['objective']):.3f}  rho(K) = "
                  f"{', '.join(f'{r:.2f}' for r in info['rho'])}", flush=True)

    run = run_protocol(config, profile, key=key, checkpoint_dir=Path(out) / "checkpoint",
                       resume=resume, overwrite=overwrite, progress=report)
    if run.diverged is not None:
        d = run.diverged
        raise LearningDiverged(f"learning diverged in phase {d['phase']} between steps {d['step']} "
                               f"and {d['to']} (non-finite weights); {Path(out) / 'checkpoint'} "
                               f"holds the state at step {d['step']} and the history")
    t_train = time.perf_counter() - t0
    if progress:
        print("  measures: silence, λ_K sweep, critical slowing, audiograms ...", flush=True)
    t0 = time.perf_counter()
    meas = tinnitus_measures(run, config, key=jax.random.fold_in(key, 9), sweep_steps=sweep_steps)
    t_meas = time.perf_counter() - t0
    figs = _figures(out, run, meas, config)
    per = {n: {k: jsonable(v) for k, v in pm.items() if k not in ("gain",)}
           for n, pm in meas["profiles"].items()}
    return {"config": config.to_json(), "profiles": list(run.profiles),
            "rho_K_before_attenuation": meas["rho_K_before"],
            "silence_before": jsonable(meas["silence_before"]),
            "audiogram_before": jsonable(meas["audiogram_before"]), "per_profile": per,
            "wall_s": {"training": t_train, "measures": t_meas}, "figures": figs}


def tinnitus_demo(out: Path, *, seed: int = 0, progress: bool = True) -> dict:
    """`neurojax demo`'s part: the small baseline experiment with a shorter λ_K sweep; the summary
    keeps the headline numbers."""
    res = tinnitus_experiment(out, seed=seed, progress=progress, sweep_steps=(500, 500))
    b = res["per_profile"]["baseline"]
    return {"silence_ratio_lost": b["silence_ratio_lost"],
            "silence_ratio_intact": b["silence_ratio_intact"], "n_rising": b["n_rising"],
            "rho_K_before": res["rho_K_before_attenuation"], "rho_K_after": b["rho_K_after"],
            "figures": res["figures"], "wall_s_parts": res["wall_s"]}
