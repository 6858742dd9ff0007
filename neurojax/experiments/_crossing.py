"""Where ρ(K) crosses the critical value 4 as the K-penalty λ_K grows: THE crossing of the
experiments (the tinnitus summary, the paper reproduction, the output-count study)."""

import numpy as np

# the fixed point g = σ(Wx + Kg) loses stability near ρ(K) = 1 / max σ' = 4
RHO_CRITICAL = 4.0


def crossing(lam, rho, level: float = RHO_CRITICAL, *, log: bool = False) -> dict:
    """Where ρ(K) passes `level` between swept λ_K values (sorted first), by interpolation
    linear in λ_K (`log=True`: in log λ_K). Returns `crossing` (the first, or None), `all`
    crossings, and `reason` (why there is none, with the range swept), JSON-ready."""
    lam, rho = np.asarray(lam, float), np.asarray(rho, float)
    if lam.shape != rho.shape or lam.ndim != 1:
        raise ValueError(f"`lam` and `rho` must be 1-D of one length, got {lam.shape}, {rho.shape}")
    order = np.argsort(lam)
    lam, rho = lam[order], rho[order]
    x = np.log(lam) if log else lam
    found = []
    for j in range(len(lam) - 1):
        if (rho[j] >= level) != (rho[j + 1] >= level):
            t = (level - rho[j]) / (rho[j + 1] - rho[j])
            v = x[j] + t * (x[j + 1] - x[j])
            found.append(float(np.exp(v) if log else v))
    reason = None
    if not found:
        side = "above" if rho.min() >= level else "below"
        reason = (f"rho(K) is {side} {level} at every swept lambda_K "
                  f"(range {rho.min():.3g}..{rho.max():.3g} over lambda_K {lam[0]:g}..{lam[-1]:g})")
    return {"crossing": found[0] if found else None, "all": found, "reason": reason}
