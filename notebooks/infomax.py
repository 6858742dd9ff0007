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
# # The recurrent InfoMax network (seed 000)
#
# A layer of sigmoid units with feed-forward weights $W$ and lateral weights $K$ settles into the
# fixed point $g^* = \sigma(W\tilde x + K g^*)$, $\tilde x = [x, -1]$. Its sensitivity to the input is
# $\chi = \partial g^*/\partial x = (I - \Phi K)^{-1}\Phi W$, $\Phi = \mathrm{diag}\,\sigma'$.
# Learning maximises $J = \tfrac12 \log\det(\chi^\top\chi)$ (Linsker's InfoMax; Dotan & Shriki 2021).
#
# neurojax computes the learning rule as `jax.grad` of $J$, differentiating through the equilibrium
# implicitly — and that gradient *is* the seed's hand-derived rule.

# %%
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import neurojax.infomax as nim

# %% [markdown]
# ## Inputs: tone complexes, and "hearing loss"

# %%
n_in, n_out = 32, 64
x = nim.tones(n_in, 2000, key=jax.random.key(0))
profile = nim.attenuation(n_in, f0=n_in // 2, beta=10.0, minval=0.2)
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(np.asarray(x[:5]).T)
ax[0].set(title="five input samples", xlabel="channel")
ax[1].plot(profile)
ax[1].set(title="attenuation profile (high channels)", xlabel="channel", ylabel="gain")
plt.show()

# %% [markdown]
# ## The equilibrium and its sensitivity
# `equilibrium` runs Picard iteration (optimistix) and falls back to Newton; it reports steps and
# convergence. The tonotopic start has $K = 0$, so no iteration is needed.

# %%
model = nim.RecurrentInfoMax.tonotopic(n_in, n_out)
res = nim.equilibrium(model, x[0])
print("steps:", int(res.num_steps), "converged:", bool(res.converged))
chi = nim.sensitivity(model, x[0])
print("chi shape", chi.shape, " J =", float(nim.objective(model, x[0])))

# %% [markdown]
# ## Exact gradients through the fixed point
# Implicit gradient vs central finite difference along a random direction of $K$:

# %%
model_k = nim.RecurrentInfoMax(model.W, 0.05 * jax.random.normal(jax.random.key(1), (n_out, n_out)))
f = lambda K: nim.objective(nim.RecurrentInfoMax(model.W, K), x[0])  # noqa: E731
d = jax.random.normal(jax.random.key(2), model_k.K.shape)
eps = 1e-6
fd = (f(model_k.K + eps * d) - f(model_k.K - eps * d)) / (2 * eps)
print("implicit:", float(jnp.sum(jax.grad(f)(model_k.K) * d)), " finite difference:", float(fd))

# %% [markdown]
# ## Learning: normal inputs, then attenuated inputs

# %%
h1 = nim.train(model, x, key=jax.random.key(3), steps=140, batch_size=16, log_every=35)
h2 = nim.train(h1.model, nim.attenuate(x, profile), key=jax.random.key(4), steps=80,
               batch_size=16, log_every=40)
model = h2.model
J = np.concatenate([h1.stats.objective, h2.stats.objective])
fig, ax = plt.subplots(1, 3, figsize=(15, 3.5))
ax[0].plot(J)
ax[0].axvline(140, ls="--", c="gray")
ax[0].set(title="objective J (batch mean)", xlabel="step")
ax[1].imshow(np.asarray(model.W), aspect="auto", cmap="RdBu_r")
ax[1].set(title="W", xlabel="input", ylabel="output")
lim = float(jnp.abs(model.K).max())
ax[2].imshow(np.asarray(model.K), aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
ax[2].set(title="K", xlabel="output", ylabel="output")
plt.show()
print("final J", J[-1], " rho(K)", h2.rho_K[-1])

# %% [markdown]
# ## Output distribution before/after attenuation (the seed's last panel)

# %%
g_pre = jax.vmap(model)(x[:200])
g_post = jax.vmap(model)(nim.attenuate(x[:200], profile))
plt.hist(np.asarray(g_pre).ravel(), bins=40, alpha=0.6, label="normal input")
plt.hist(np.asarray(g_post).ravel(), bins=40, alpha=0.6, label="attenuated input")
plt.legend()
plt.xlabel("activation")
plt.show()
assert np.isfinite(J).all()
