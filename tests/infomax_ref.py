"""Reference numbers from seed 000's NumPy code (shared/reference/infomax_seed.py), as fixtures
(see `reference`), cached per session."""

import functools

import numpy as np
from reference import reference


@functools.cache
def demo_run(steps=40, attenuate_step=25, inputs=32, outputs=64):
    """The seed's demo loop (learns W and K), short: K != 0 and the last steps use attenuated inputs."""
    return reference(f"demo_run_{steps}_{attenuate_step}_{inputs}x{outputs}",
                     lambda s: s.infomax_seed.demo_run(inputs=inputs, outputs=outputs,
                                                       n_samples=400, steps=steps,
                                                       attenuate_step=attenuate_step, seed=7))


def seed_net(S, W, K):
    """A seed `Infomax` object (of the seed module `S`) holding the given weights."""
    net = S.Infomax(W.shape[1] - 1, W.shape[0])
    net.W, net.K = np.array(W, copy=True), np.array(K, copy=True)
    return net


def seed_per_sample_updates(name, W, K, xs):
    """The seed's per-sample `d_v` (with threshold column) and `d_k` (diagonal zeroed) of each
    sample of `xs` (n, n_in), read off one `learn` call with unit rates and no penalties
    (fixture `name`); returns `(d_v, d_k)` stacked over samples."""

    def compute(s):
        d_v, d_k = [], []
        for x in xs:
            net = seed_net(s.infomax_seed, W, K)
            net.FF_eta, net.Rec_eta, net.FF_ridge, net.Rec_ridge = 1.0, 1.0, 0.0, 0.0
            net.learn(np.asarray(x))
            d_v.append(net.W - W)
            d_k.append(net.K - K)
        return {"d_v": np.stack(d_v), "d_k": np.stack(d_k)}

    r = reference(name, compute)
    return r["d_v"], r["d_k"]
