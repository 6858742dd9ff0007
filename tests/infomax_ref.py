"""Reference numbers from seed 000's NumPy code (shared/reference/infomax_seed.py), cached per session."""

import functools

import numpy as np
from conftest import seed_reference


@functools.cache
def demo_run(steps=40, attenuate_step=25, inputs=32, outputs=64):
    """The seed's demo loop (learns W and K), short: K != 0 and the last steps use attenuated inputs."""
    S = seed_reference("infomax_seed")
    return S.demo_run(inputs=inputs, outputs=outputs, n_samples=400, steps=steps,
                      attenuate_step=attenuate_step, seed=7)


def seed_net(W, K):
    """A seed `Infomax` object holding the given weights."""
    S = seed_reference("infomax_seed")
    net = S.Infomax(W.shape[1] - 1, W.shape[0])
    net.W, net.K = np.array(W, copy=True), np.array(K, copy=True)
    return net


def seed_per_sample_update(W, K, x):
    """The seed's per-sample `d_v` (with threshold column) and `d_k` (diagonal zeroed), read off one
    `learn` call with unit rates and no penalties."""
    net = seed_net(W, K)
    net.FF_eta, net.Rec_eta, net.FF_ridge, net.Rec_ridge = 1.0, 1.0, 0.0, 0.0
    net.learn(np.asarray(x))
    return net.W - W, net.K - K
