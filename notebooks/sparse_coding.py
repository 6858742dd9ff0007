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
# # Sparsity and sparse coding in JAX (seed 002)
#
# Following the Neuromatch tutorial "Sparsity and Sparse Coding" with data that ships with
# scikit-learn (its MNIST video and CIFAR patches cannot be downloaded here): a pixel of a camera
# panning across a natural photo, a video that cross-fades scikit-learn's 8×8 digits, and whitened
# patches of the two sample photos.
#
# 1. Sparse signals have heavy tails: excess kurtosis measures it, and temporal differences of
#    natural signals are sparser than the signals themselves.
# 2. Orthogonal matching pursuit finds the few atoms that explain a signal.
# 3. The lasso $\min_a \tfrac12\|x - Da\|^2 + \alpha\|a\|_1$ (ISTA/FISTA) and dictionary learning
#    give sparse codes; learned from natural images, the atoms look like V1 receptive fields
#    (Gabor functions), unlike principal components.

# %%
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import neurojax.sparse as ns
from neurojax.experiments import plotting as plot

# %% [markdown]
# ## 1. Kurtosis of a panning pixel and its temporal differences
#
# Excess kurtosis $\kappa = E[(x-\mu)^4]/\sigma^4 - 3$ is 0 for a Gaussian and large for signals
# that are mostly near zero with rare large values.

# %%
x = jnp.asarray(ns.panning_pixel())
taus = (1, 2, 4, 8, 16)
td = ns.temporal_diff(x, taus)
bd = ns.box_diff(x, taus)
kurt = {"signal": float(ns.kurtosis(x))}
kurt |= {f"|Δ{t}|": float(k) for t, k in zip(taus, ns.kurtosis(td))}
kurt |= {f"box{t}": float(k) for t, k in zip(taus, ns.kurtosis(bd))}
fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
ax[0].plot(np.asarray(x[:2000]), label="pixel")
ax[0].plot(np.asarray(td[0, :2000]), label="|Δ1|")
ax[0].legend()
ax[1].bar(range(len(kurt)), list(kurt.values()))
ax[1].set_xticks(range(len(kurt)), list(kurt), rotation=60)
ax[1].set_yscale("symlog")
ax[1].set_title("excess kurtosis")
plt.tight_layout()
assert min(kurt[f"|Δ{t}|"] for t in taus) > kurt["signal"]

# %% [markdown]
# ## 2. OMP on a sinusoid dictionary
#
# A sum of four sinusoids plus noise; OMP picks one atom per step and refits the coefficients by
# least squares. The error drops to the noise level at four nonzeros.

# %%
D = ns.sinusoid_dictionary(256, 40)
true = jnp.zeros(80).at[jnp.array([2, 9, 44, 57])].set(jnp.array([3.0, -2.0, 2.5, 1.5]))
sig = D @ true + 0.05 * jax.random.normal(jax.random.key(0), (256,))
errs = [float(jnp.linalg.norm(sig - D @ ns.omp(D, sig[None], k).codes[0]) / jnp.linalg.norm(sig))
        for k in range(1, 9)]
res4 = ns.omp(D, sig[None], 4)
print("atoms chosen with 4 nonzeros:", sorted(np.asarray(res4.support[0]).tolist()))
plt.semilogy(range(1, 9), errs, "o-")
plt.xlabel("nonzeros")
plt.ylabel("relative error")

# %% [markdown]
# ## 3. FISTA vs ISTA, and the lasso path
#
# FISTA adds Nesterov momentum (with adaptive restart) to the proximal-gradient step; each sample
# has its own step size from a backtracking test and stops when its duality gap is small.
#
# The homotopy `lasso_lars` (LARS with the lasso modification) instead follows each sample's
# piecewise-linear solution path $a(\lambda)$ from $\lambda_0 = \|D^\top x\|_\infty$ down to $\alpha$: one
# step per atom that joins or leaves the support, and the end point is the exact lasso solution.

# %%
Dr = jax.random.normal(jax.random.key(1), (64, 128))
Dr = Dr / jnp.linalg.norm(Dr, axis=0)
Xr = jax.random.normal(jax.random.key(2), (200, 64))
f = ns.fista(Dr, Xr, 0.5, tol=1e-8)
i = ns.ista(Dr, Xr, 0.5, tol=1e-8, max_steps=20000)
print("FISTA iterations (mean):", float(f.num_steps.mean()), " ISTA:", float(i.num_steps.mean()))
print("objective difference:", float(jnp.sum(i.objective) - jnp.sum(f.objective)))
h = ns.lasso_lars(Dr, Xr, 0.5)
print("homotopy steps (mean):", float(h.num_steps.mean()),
      " max |codes - FISTA codes|:", float(jnp.max(jnp.abs(h.codes - f.codes))))

# %% [markdown]
# ## 4. Dictionary learning vs PCA on the digits video

# %%
video = jnp.asarray(ns.digits_video(60, 10, key=jax.random.key(3)))
dl = ns.learn_dictionary(video, 16, 0.5, key=jax.random.key(4), steps=60)
p = ns.pca(video, 16)
comps, mean = p.components, p.mean
fig, ax = plot.figure(2, size=4.5)
plot.atom_grid(ax[0], dl.dictionary.T.reshape(-1, 8, 8), "dictionary atoms")
plot.atom_grid(ax[1], comps.T.reshape(-1, 8, 8), "PCA components")
print("code kurtosis: dictionary", float(ns.kurtosis(dl.codes.T).mean()),
      " PCA", float(ns.kurtosis(((video - mean) @ comps).T).mean()))

# %% [markdown]
# ## 5. Receptive fields from whitened natural images
#
# Whitening (multiplying the spectrum by $f\,e^{-(f/f_0)^4}$) flattens the $1/f$ spectrum of
# natural images; sparse coding of 8×8 patches then learns localised, oriented, band-pass atoms.
# Each atom is fitted by a Gabor function (Levenberg–Marquardt, several starts, vmapped over atoms).

# %%
from neurojax.experiments import natural_atoms

nat = natural_atoms(key=jax.random.key(5), n_patches=10000, steps=400)
r2 = np.asarray(nat["fit"].r2)
fig, ax = plot.figure(1, size=6.0)
plot.atom_grid(ax[0], nat["atoms"], "atoms (frame colour: Gabor R²)", scores=np.clip(r2, 0, 1),
               score_label="R²")
print(f"fraction with R² >= 0.7: {np.mean(r2 >= 0.7):.2f}, median R²: {np.median(r2):.3f}")
