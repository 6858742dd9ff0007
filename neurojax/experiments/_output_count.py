r"""How the before-deprivation crossing of ρ(K) = 4 moves with the number of outputs (issue 34).

For each output count the paper's protocol runs phases 1 and 2 only (`run_paper` with
`steps=(50_000, phase2, 0)`, the `baseline` profile unused), every λ_K of the grid a member of
one ensemble, checkpointed in `out/output_count/n<N>/` (resumable). ρ(K) is logged every chunk; the
plateau criterion is the relative change of each member's ρ(K) over the last `plateau_frac` of
phase 2, and the crossing is interpolated where ρ(K) at the end of phase 2 passes 4
(`_crossing.crossing`). Results merge into `out/output_count.json` (entries already there for other
output counts are kept) and the figure `out/output_count.png`.
"""

import json
import time
from pathlib import Path

import numpy as np

from .. import _plotting
from ._crossing import RHO_CRITICAL, crossing
from ._paper_protocol import PaperConfig, run_paper


def _plateau(rho, frac):
    """Per member: |ρ_end − ρ at the start of the last `frac` of the log| / ρ_end."""
    rho = np.asarray(rho, float)
    start = rho[max(0, int(round(len(rho) * (1 - frac))) - 1)]
    return np.abs(rho[-1] - start) / np.maximum(np.abs(rho[-1]), 1e-12)


def output_count(out, n_outs, penalties, *, phase2: int = 100_000, seed: int = 0,
                 plateau_frac: float = 0.2, progress=None) -> dict:
    """Run (or resume) phase 1 + `phase2` steps of phase 2 at each output count of `n_outs` over
    the λ_K grid `penalties`; returns the merged summary {str(n_out): entry}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "output_count.json"
    summary = json.loads(path.read_text()) if path.exists() else {}
    for n in n_outs:
        config = PaperConfig(n_out=int(n), steps=(50_000, int(phase2), 0),
                             penalties=tuple(penalties), profiles=("baseline",))
        t0 = time.perf_counter()
        run_dir = out / "output_count" / f"n{n}"
        resume = (run_dir / "run.json").exists()  # run_paper writes it on its first save
        res = run_paper(config, seed=seed, out=run_dir, resume=resume, progress=progress)
        rho_log = np.asarray(res.history[2]["rho"])  # (chunks, members)
        rho_end = rho_log[-1]
        summary[str(n)] = {
            "penalties": list(config.penalties), "phase2_steps": int(phase2),
            "rho_before": rho_end.tolist(),
            "rho_step": np.asarray(res.history[2]["rho_step"]).tolist(),
            "rho_log": rho_log.tolist(),
            "plateau_change": _plateau(rho_log, plateau_frac).tolist(),
            "plateau_frac": plateau_frac,
            "crossing": crossing(config.penalties, rho_end),
            "shelf_end": crossing(config.penalties, rho_end, level=SHELF_LEVEL),
            "wall_s_this_call": time.perf_counter() - t0, "seed": seed,
        }
        path.write_text(json.dumps(summary, indent=1))
        figure(summary, out / "output_count.png")
    return summary


# ρ(K) sits at 3.1–3.8 over a wide λ_K range above the crossing of 4 and then falls to 0.8–1.7
# within one grid step; where it passes 3 locates that drop (a descriptor, not a fitted value)
SHELF_LEVEL = 3.0


def shelf_end(entry: dict):
    """λ_K where ρ(K) at the end of phase 2 falls below :data:`SHELF_LEVEL` (the last crossing of
    that level, linear in λ_K), or None."""
    rho = entry.get("rho_before", entry.get("rho_after_1e5_phase2"))
    if rho is None or "penalties" not in entry:
        return None
    found = crossing(entry["penalties"], rho, level=SHELF_LEVEL)["all"]
    return found[-1] if found else None


def figure(summary: dict, path, paper_400: float = 0.183):
    """Crossing vs output count (left) and ρ(K) vs phase-2 step per output count (right)."""
    import matplotlib.pyplot as plt

    fig, (a, b) = _plotting.figure(2, size=5.0)
    ns = sorted(int(k) for k in summary)
    xs = [n for n in ns if summary[str(n)]["crossing"]["crossing"] is not None]
    a.plot(xs, [summary[str(n)]["crossing"]["crossing"] for n in xs], "o-",
           label="neurojax: ρ(K) = 4")
    shelf = {n: shelf_end(summary[str(n)]) for n in ns}
    xs = [n for n in ns if shelf[n] is not None]
    a.plot(xs, [shelf[n] for n in xs], "s--", label=f"neurojax: ρ(K) = {SHELF_LEVEL:g} (end of the shelf)")
    a.plot([400], [paper_400], "r*", ms=12, label="paper, 40 → 400 (0.183)")
    a.set(title="before deprivation", xlabel="outputs (40 inputs)", ylabel="λ_K")
    a.legend()
    for i, n in enumerate(ns):
        e = summary[str(n)]
        if "rho_log" not in e:
            continue
        color = plt.cm.viridis(i / max(1, len(ns) - 1))
        b.plot(e["rho_step"], np.asarray(e["rho_log"]), lw=0.8, color=color)
        b.plot([], [], color=color, label=f"{n} outputs")
    b.axhline(RHO_CRITICAL, color="k", ls="--", lw=0.8)
    b.set(title="ρ(K) during phase 2 (one line per λ_K)", xlabel="phase-2 step",
          ylabel="ρ(K)")
    b.legend(fontsize=8)
    return _plotting.save(fig, path)
