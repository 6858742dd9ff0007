# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tinnitus in an entropy-maximising recurrent network (seed 000, small scale)
#
# Dotan & Shriki (2021): a recurrent InfoMax network $g = \sigma(Wx + Kg)$ learns W on tones
# (phase 1), then its lateral weights K (phase 2). Simulated hearing loss — attenuated input
# channels — and continued learning of K (phase 3) make the network respond to silence in the
# deprived channels: a model of tinnitus. This notebook reproduces the seed's figures at the
# `small` preset (32 inputs, 64 outputs) with shortened phases.

# %%
import jax

jax.config.update("jax_enable_x64", True)
import matplotlib.pyplot as plt
import numpy as np

import neurojax.infomax as nim
from neurojax.experiments import TinnitusConfig, run_protocol, tinnitus_measures

cfg = TinnitusConfig.preset("small", steps_K=1500, steps_attenuated=1500)
run = run_protocol(cfg, ["baseline", "low"], key=jax.random.key(0))

# %% [markdown]
# ## Attenuation profiles and the objective during learning

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
for name in nim.PROFILES:
    ax[0].plot(np.arange(1, 33), nim.hearing_loss(name, 32), label=name)
ax[0].set(title="hearing-loss profiles (gain per input channel)", xlabel="channel")
ax[0].legend()
obj = np.concatenate([np.ravel(run.history[1]["objective"]),
                      np.ravel(run.history[2]["objective"]),
                      run.history[3]["objective"][:, 0]])
ax[1].plot(obj)
ax[1].axvline(cfg.steps_W, color="gray", ls="--")
ax[1].axvline(cfg.steps_W + cfg.steps_K, color="gray", ls="--", label="attenuation on")
ax[1].set(title="InfoMax objective (baseline)", xlabel="step")
ax[1].legend()

# %% [markdown]
# ## Response to silence before and after phase 3
#
# The silence response rises in the deprived channels (high ones for `baseline`, low ones for
# `low`) and falls slightly elsewhere.

# %%
res = tinnitus_measures(run, cfg, key=jax.random.key(1), sweep_steps=(300, 300))
fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
for a, name in zip(ax, ("baseline", "low")):
    pm = res["profiles"][name]
    a.plot(res["silence_before"], label="before")
    a.plot(pm["silence_after"], label="after")
    a.set(title=f"{name}: silence response (ratio lost {pm['silence_ratio_lost']:.2f})",
          xlabel="output channel")
    a.legend()

# %% [markdown]
# ## ρ(K) vs the K-penalty, critical slowing down, audiogram
#
# The λ_K sweep is one vmapped, jitted computation (phases 2 and 3 re-run for every λ_K, shortened
# here). Instability would set in near ρ(K) = 4 (max σ' = 1/4); at this small scale and length ρ
# stays well below it. Scaling K up slows plain fixed-point iteration; Newton barely notices.

# %%
pm = res["profiles"]["baseline"]
fig, ax = plt.subplots(1, 3, figsize=(15, 3.5))
ax[0].semilogx(pm["sweep"]["penalty"], pm["sweep"]["rho_before"], "o-", label="before")
ax[0].semilogx(pm["sweep"]["penalty"], pm["sweep"]["rho_after"], "s-", label="after")
ax[0].set(title="ρ(K) vs λ_K", xlabel="λ_K")
ax[0].legend()
sl = pm["slowing"]
ax[1].plot(sl["scale"], sl["picard_steps"], "s-", label="fixed-point iteration")
ax[1].plot(sl["scale"], sl["newton_steps"], "o-", label="Newton")
ax[1].set(title="steps to equilibrium on silence", xlabel="K scale s")
ax[1].legend()
ax[2].plot(np.arange(1, 33), pm["audiogram_db"], "o-")
ax[2].set(title="audiogram after hearing loss (dB re before)", xlabel="input channel")
ax[2].invert_yaxis()
print("lost channels are never heard (gain 0):", int(np.isinf(pm["audiogram_db"]).sum()))
