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
# # A delayed plastic ring learns the wave that drives it (seed 001)
#
# $N$ rate neurons on a ring, $\tau_r \dot r(x,t) = -r + \varphi\bigl(u(x,t) + \int w(x,y)\,
# r(y, t-\tau_d)\,dy\bigr)$, driven by a travelling wave $u = A\sin(2\pi(t + \theta_x)/T)$, with
# differential-Hebbian plasticity $\tau_w \dot w(x,y) = \dot r(x,t)\,r(y,t-\tau_d) - \lambda w$.
# The network learns a connectivity that, once the drive is switched off, replays a travelling wave.
#
# neurojax runs the seed's Euler scheme as one `lax.scan` with a ring-buffer delay line.

# %%
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import neurojax.ring as nr

cfg = nr.RingConfig()  # the seed's constants: N = 500, dt = 0.2 ms, tau_d = 15 ms, ...
print(cfg, "delay steps:", cfg.delay_steps, "warm-up steps:", cfg.init_steps)

# %% [markdown]
# ## Learning: 150 drive periods (75,000 Euler steps), translation-invariant (circulant) weights
# The kernel $w[\Delta]$, $\Delta = n - k$, acts by FFT circular convolution; the seed's update rule
# averages the Hebbian term over all translations (an FFT cross-correlation here).

# %%
w0 = 0.05 * jax.random.normal(jax.random.key(0), (cfg.N,))
run = nr.simulate(cfg, w0, periods=150, record_every=10, record_weights_every=5000)
state, rec, ws = run.state, run.rates, run.weights
print("learned kernel:", nr.kernel_stats(state.w))

fig, ax = plt.subplots(1, 3, figsize=(15, 3.5))
ax[0].imshow(np.asarray(rec[:150]).T, aspect="auto", cmap="viridis")
ax[0].set(title="activity, first 3 periods", xlabel="time (x10 dt)", ylabel="neuron")
ax[1].imshow(np.asarray(rec[-150:]).T, aspect="auto", cmap="viridis")
ax[1].set(title="activity, last 3 periods", xlabel="time (x10 dt)")
offsets = np.arange(-cfg.N // 2, cfg.N // 2)
for i in range(0, ws.shape[0], 3):
    ax[2].plot(offsets, np.asarray(ws[i])[offsets % cfg.N], color=plt.cm.viridis(i / ws.shape[0]))
ax[2].set(title="kernel w[Δ] during learning (dark: early)", xlabel="offset Δ")
plt.show()

# %% [markdown]
# ## Replay: the drive off, the learned kernel alone
# `wave_speed` finds, for successive frames, the shift that maximises their circular
# cross-correlation. The drive moves at $-N/T$ = -5000 neurons/s.

# %%
replay = nr.simulate(cfg, state.w, periods=6, stimulate=False, plastic=False).rates
from_w0 = nr.simulate(cfg, w0, periods=6, stimulate=False, plastic=False).rates
print("replay, learned kernel:", nr.wave_speed(replay[-1000:], cfg.dt))
print("replay, initial kernel:", nr.wave_speed(from_w0[-1000:], cfg.dt))

fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].imshow(np.asarray(replay[-1500:]).T, aspect="auto", cmap="viridis")
ax[0].set(title="drive off, learned kernel", xlabel="time (dt)", ylabel="neuron")
ax[1].imshow(np.asarray(from_w0[-1500:]).T, aspect="auto", cmap="viridis")
ax[1].set(title="drive off, initial random kernel", xlabel="time (dt)")
plt.show()

# %% [markdown]
# ## The full $N \times N$ network becomes (nearly) translation invariant
# A smaller ring ($N = 200$) with a full matrix: `align_rows` rolls each row onto the diagonal (the
# seed's `symmetrize`); `translation_invariance` is the fraction of the matrix's energy in its
# circulant part.

# %%
small = nr.RingConfig(N=200)
W0 = 0.05 * jax.random.normal(jax.random.key(1), (200, 200))
full_state = nr.simulate(small, W0, periods=40, variant="full", record_every=100).state
print("translation invariance: before", float(nr.translation_invariance(W0)),
      "after", float(nr.translation_invariance(full_state.w)))
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].imshow(np.asarray(nr.align_rows(full_state.w)), aspect="auto", cmap="RdBu_r")
ax[0].set(title="rows aligned to the diagonal", xlabel="presynaptic offset", ylabel="neuron")
ax[1].plot(np.asarray(nr.circulant_kernel(full_state.w)))
ax[1].set(title="circulant part of the learned matrix", xlabel="offset Δ")
plt.show()

# %% [markdown]
# ## A sweep as one vmapped computation: how the decay λ shapes the kernel
# `nr.sweep` stacks configurations on a leading axis (ring buffers padded to the largest delay)
# and runs them as one jitted `vmap` of the scan.

# %%
lams = jnp.array([5.0, 10.0, 20.0, 40.0])
run = nr.sweep(cfg, w0, {"lam": lams}, periods=50, record_every=100)
states, cfgs = run.states, run.configs
for lam, w in zip(lams, states.w):
    plt.plot(offsets, np.asarray(w)[offsets % cfg.N], label=f"λ = {float(lam):g}")
plt.legend()
plt.xlabel("offset Δ")
plt.title("kernel after 50 periods")
plt.show()
