"""`neurojax paper`: run the paper's protocol (checkpointed), then its measures, figures and summary."""

import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import _plotting as plot, infomax as nim
from ._checkpoint import write_json_atomic
from ._crossing import RHO_CRITICAL, crossing
from ._engine import spectral_radii
from ._paper_protocol import PaperConfig, run_paper
from ._tinnitus_run import output_channels

PAPER_CROSSINGS = {"before": 0.183, "after": 0.228}  # the values the authors' figure scripts mark


def _rho_table(models, config):
    L, P = len(config.penalties), len(config.profiles)
    return spectral_radii(models[2].K), spectral_radii(models[3].K).reshape(P, L)


def _drift(history, phase, members):
    """ρ(K) over the last 10 % of a phase: (max − min) / mean per member (K's convergence)."""
    r, s = np.asarray(history[phase]["rho"]), np.asarray(history[phase]["rho_step"])
    if r.size == 0:
        return [None] * members
    tail = r[s >= 0.9 * s[-1]].reshape(-1, members)
    mean = tail.mean(axis=0)
    return [float(v) for v in np.where(mean > 0, (tail.max(0) - tail.min(0)) / mean, 0.0)]


def _stopped_at(actives, member, eval_every):
    """Phase-3 step at which `member` stopped learning (early stop), None if it never did."""
    if actives is None:
        return None
    off = np.flatnonzero(~actives[:, member])
    return int((off[0] + 1) * eval_every) if off.size else None


def _representative(config, rho_before, rho_after):
    """λ_K of the other figures: the paper's 0.226 if swept; else the λ_K with ρ(K) < 4 before
    whose ρ(K) after (mean over profiles) is closest to 4 (the paper's choice: subcritical before,
    near-critical after); else the λ_K with ρ before closest to 4."""
    lam = np.asarray(config.penalties)
    if 0.226 in config.penalties:
        return int(np.flatnonzero(lam == 0.226)[0])
    sub = np.flatnonzero(rho_before < 4)
    if sub.size:
        return int(sub[np.argmin(np.abs(rho_after[:, sub].mean(0) - 4))])
    return int(np.argmin(np.abs(rho_before - 4)))


def analyse(run, out: Path, *, scale_step: float, seed: int) -> dict:
    """The paper's measures on the representative λ_K, the ρ(K)-vs-λ_K table, figures."""
    config, models, hist = run.config, run.models, run.history
    L, P = len(config.penalties), len(config.profiles)
    rho_before, rho_after = _rho_table(models, config)
    lam = np.asarray(config.penalties)
    i = _representative(config, rho_before, rho_after)
    dt = models[2].W.dtype
    before = nim.take(models[2], i)
    xs = run.pool[:50]
    scales = np.round(np.arange(0, 4 + 1e-9, scale_step), 6)
    key = jax.random.fold_in(jax.random.key(seed), 99)
    curves = {"before": nim.paper_slowing(before, xs, scales, key=key)}
    s_before, a_before = nim.silence_response(before), nim.paper_audiogram(before)
    silence_before, audio_before = np.asarray(s_before.g), np.asarray(a_before.thresholds)
    ref_db = float(np.mean(10 * np.log10(audio_before)))
    stops = np.asarray(hist[3]["active"]) if np.size(hist[3]["active"]) else None
    profiles = {}
    for p, name in enumerate(config.profiles):
        k = p * L + i
        after = nim.take(models[3], k)
        gain = np.asarray(run.gains[p])
        lost = output_channels(gain, config.n_out) < 0.5
        curves[name] = nim.paper_slowing(after, xs, scales, key=key)
        a_after = nim.paper_audiogram(after, gain=jnp.asarray(gain, dt))
        audio = np.asarray(a_after.thresholds)
        s_after = nim.silence_response(after)
        span = max(1, config.n_out // 10)
        conn = {part: (nim.connectivity_profile(after.K, mask, max_offset=span).tolist()
                       if mask.any() else None) for part, mask in (("deprived", lost),
                                                                   ("intact", ~lost))}
        profiles[name] = {
            "rho_after": rho_after[p].tolist(),
            "crossings_before": crossing(lam, rho_before),
            "crossings_after": crossing(lam, rho_after[p]),
            "phase3_stopped_at": [_stopped_at(stops, p * L + j, config.eval_every)
                                  for j in range(L)],
            "rho_drift_last10pct_phase3": _drift(hist, 3, L * P)[p * L:(p + 1) * L],
            "representative": {
                "stopped_at": _stopped_at(stops, k, config.eval_every),
                "silence_after": np.asarray(s_after.g).tolist(),
                "silence_mean_after": float(np.mean(s_after.g)),
                "silence_converged_after": bool(s_after.converged),
                "audiogram_converged_after": bool(np.all(a_after.converged)),
                "lost_outputs": int(lost.sum()),
                "audiogram_after": audio.tolist(),
                "audiogram_db_after": (10 * np.log10(audio) - ref_db).tolist(),
                "s_c_after": float(curves[name].s_c),
                "connectivity": conn,
            },
        }
    summary = {
        "config": config.to_json(), "seed": seed, "penalties": lam.tolist(),
        "rho_before": rho_before.tolist(),
        "crossings_before": crossing(lam, rho_before),
        "paper_crossings": PAPER_CROSSINGS,
        "rho_drift_last10pct_phase2": _drift(hist, 2, L),
        "representative_lambda": float(lam[i]),
        "before": {"silence": silence_before.tolist(), "spontaneous": float(silence_before.mean()),
                   "audiogram": audio_before.tolist(), "audiogram_ref_db": ref_db,
                   "silence_converged": bool(s_before.converged),
                   "audiogram_converged": bool(np.all(a_before.converged)),
                   "s_c": float(curves["before"].s_c)},
        "profiles": profiles,
        "slowing": {name: {f: np.asarray(getattr(c, f)).tolist() for f in
                           ("scale", "objective", "steps", "capped", "population", "correlation")}
                    for name, c in curves.items()},
    }
    _figures(out, summary, hist, config)
    return summary


def _figures(out, s, hist, config):
    lam = np.asarray(s["penalties"])
    fig, ax = plot.figure(2, 1, size=5)
    ax[0].plot(lam, s["rho_before"], "k-o", label="before (end of phase 2)")
    for name, p in s["profiles"].items():
        ax[0].plot(lam, p["rho_after"], "-o", ms=3, label=f"after: {name}")
    ax[0].axhline(RHO_CRITICAL, color="r", ls="--", lw=1, label="ρ = 4 (1 / max σ')")
    for what, v in s["paper_crossings"].items():
        ax[0].axvline(v, color="gray", ls=":", lw=1)
        ax[0].text(v, ax[0].get_ylim()[1] * 0.95, f"paper {what}", rotation=90, fontsize=7,
                   va="top", ha="right", color="gray")
    ax[0].set(xlabel="λ_K", ylabel="ρ(K)", title=f"{config.n_in}→{config.n_out}: ρ(K) vs λ_K")
    ax[0].legend(fontsize=7)
    for phase, style in ((2, "-"), (3, ":")):
        r, st = np.asarray(hist[phase]["rho"]), np.asarray(hist[phase]["rho_step"])
        if r.size:
            off = config.steps[0] + (config.steps[1] if phase == 3 else 0)
            ax[1].plot(st + off, r, style, lw=0.8)
    ax[1].axhline(RHO_CRITICAL, color="r", ls="--", lw=1)
    ax[1].set(xlabel="step", ylabel="ρ(K)", title="ρ(K) during phase 2 (—) and phase 3 (⋯)")
    plot.save(fig, out / "rho_vs_lambda.png")

    fig, ax = plot.figure(2, 2, size=4)
    labels = {"objective": "objective J (mean)", "steps": "damped-map iterations",
              "population": "population vector |Σ g exp(iθ)| / N",
              "correlation": "mean r² (outputs)"}
    s_c = {"before": s["before"]["s_c"]} | {name: p["representative"]["s_c_after"]
                                             for name, p in s["profiles"].items()}
    for a, (field, label) in zip(ax, labels.items()):
        for name, c in s["slowing"].items():
            line, = a.plot(c["scale"], c[field], label=name, lw=1)
            if s_c[name] <= c["scale"][-1]:
                a.axvline(s_c[name], color=line.get_color(), ls="--", lw=0.8)
        a.axvline(1.0, color="gray", ls=":", lw=0.8)
        a.set(xlabel="scale s (K → sK)", title=label)
    ax[0].legend(fontsize=7)
    fig.suptitle(f"critical slowing down at λ_K = {s['representative_lambda']:g} "
                 "(dashed: s_c = 4/ρ(K) where ≤ 4; dotted: s = 1)")
    plot.save(fig, out / "critical_slowing.png")

    fig, ax = plot.figure(3, 1, size=4.5)
    ch = np.arange(1, config.n_in + 1)
    for name, p in s["profiles"].items():
        r = p["representative"]
        ax[0].plot(ch, r["audiogram_db_after"], label=name)
        ax[1].plot(r["silence_after"], label=name, lw=0.8)
        for part, style in (("deprived", "-"), ("intact", ":")):
            prof = r["connectivity"][part]
            if prof is not None:
                d = (len(prof) - 1) // 2
                ax[2].plot(np.arange(-d, d + 1), prof, style, lw=1, label=f"{name} {part}")
    ax[0].axhline(0, color="k", lw=0.5)
    ax[0].set(xlabel="input channel", ylabel="threshold (dB re mean before)", title="audiograms")
    ax[1].plot(s["before"]["silence"], "k", lw=1.5, label="before")
    ax[1].set(xlabel="output", ylabel="g(x = 0)", title="silence responses")
    ax[2].set(xlabel="offset k", ylabel="mean K[i, i+k]", title="K's diagonal profile")
    for a in ax:
        a.legend(fontsize=6)
    plot.save(fig, out / "measures.png")


def paper_experiment(out, *, preset: str, seed: int, resume: bool, overwrite: bool,
                     progress: bool, dtype: str, scale_step: float | None, penalties=None,
                     profiles=None, mesh=None) -> dict:
    overrides = {"dtype": dtype}
    if penalties is not None:
        overrides["penalties"] = tuple(penalties)
    if profiles is not None:
        overrides["profiles"] = tuple(profiles)
    config = PaperConfig.preset(preset, **overrides)
    run_dir = Path(out) / "run"
    t0 = time.perf_counter()

    def report(info):
        if progress:
            eta = info["eta_s"]
            sys.stderr.write(f"phase {info['phase']} step {info['step']}/{info['total']} "
                             f"members {info['members']} (learning {info['active']}) "
                             f"rho(K) {np.min(info['rho']):.3f}..{np.max(info['rho']):.3f} "
                             f"elapsed {info['elapsed_s'] / 60:.1f} min "
                             f"ETA {eta / 60:.1f} min\n")

    run = run_paper(config, seed=seed, out=run_dir, resume=resume, overwrite=overwrite,
                    progress=report, mesh=mesh)
    wall = time.perf_counter() - t0
    step = scale_step if scale_step is not None else (0.01 if config.n_out <= 100 else 0.05)
    summary = analyse(run, Path(out), scale_step=step, seed=seed)
    summary["wall_s_this_session"] = wall
    segments = run_dir / "segments.json"  # one entry per process: start, code commit, steps, wall
    if segments.exists():
        summary["segments"] = json.loads(segments.read_text())
        summary["wall_s_logged"] = sum(seg.get("wall_s", 0.0) for seg in summary["segments"])
    write_json_atomic(Path(out) / "paper_summary.json", summary)
    return {"paper_summary": str(Path(out) / "paper_summary.json"),
            "crossings_before": summary["crossings_before"],
            "crossings_after": {k: v["crossings_after"] for k, v in summary["profiles"].items()}}

