"""Tinnitus protocol (Dotan & Shriki 2021): the paper's batch-1 online step and the λ_K ensemble.

- 40 -> 400, one sample per step, K learning (phases 2/3): neurojax's online learner (`learn_chunk`) vs the seed's NumPy
  `Infomax.learn` on the same states, same process, float64 (and neurojax float32), at
  (a) an early state: K after 10⁴ online phase-2 steps from the tonotopic W (λ_K = 0.226), and
  (b) a near-critical state: that K scaled to ρ(K) = 3, and
  (c) the paper's end-of-phase-2 state at λ_K = 0.226, from the committed 40 -> 400 run
  (results/paper/p400; `--state DIR` adds the newest checkpoint of another run directory);
- ensemble throughput (member-steps per second) for 1 / 8 / 32 members vs a loop over members
  with one-member calls, at 40 -> 80 and 40 -> 400 (float32);
- projected protocol time per λ_K at 40 -> 400 (2.05 M steps) from the measured step.

    python benchmarks/bench_tinnitus.py [--quick] [--state RUN_DIR]
"""

import sys
import time
from pathlib import Path

import equinox as eqx
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import newest_checkpoint, seed_module, time_call, write  # noqa: E402

import neurojax.infomax as nim  # noqa: E402

N_IN = 40
# the finished 40 -> 400 run at λ_K = 0.226 (the paper preset's protocol)
P400 = Path(__file__).resolve().parents[1] / "results/paper/p400/run"


def _rates(dt, lam=0.226):
    return nim.OnlineRates(*(jnp.asarray(v, dt) for v in (0.1, 0.001, 0.001, lam)))


def _runner(n_steps, n_in=N_IN):
    learner = nim.OnlineLearner(learn_W=False, learn_K=True)

    @jax.jit
    def run(W, K, pool, idx, rates):  # the online learner's chunk, as the paper protocol runs it
        E = W.shape[0]
        model = eqx.tree_at(lambda m: (m.W, m.K),
                            nim.stack(nim.RecurrentInfoMax(W[0], K[0]), E), (W, K))
        out = nim.learn_chunk(learner, learner.init(model, rates), jnp.zeros(E, W.dtype), pool,
                              jnp.ones((E, n_in), W.dtype), idx[:, None], block=n_steps,
                              eval_x=pool[:1])
        return out.state.model.K

    return run


def early_state(n_out, pool, steps=10_000):
    m = nim.RecurrentInfoMax.tonotopic(N_IN, n_out, dtype=jnp.float64)
    run = _runner(1000)
    W, K = m.W[None], m.K[None]
    for c in range(steps // 1000):
        idx = jnp.arange(c * 1000, (c + 1) * 1000) % pool.shape[0]
        K = run(W, K, pool, idx, _rates(jnp.float64))
    return np.asarray(W[0]), np.asarray(K[0])


def step_time(W, K, pool, dt, n=50):
    run = _runner(n)
    args = (jnp.asarray(W, dt)[None], jnp.asarray(K, dt)[None], pool.astype(dt),
            jnp.arange(n) % pool.shape[0], _rates(dt))
    return time_call(lambda: run(*args), repeat=3)["best_s"] / n


def seed_step_time(W, K, pool, n):
    S = seed_module("infomax_seed")
    net = S.Infomax(N_IN, W.shape[0], ff_eta=0.0, rec_ridge=0.226)
    net.W, net.K = np.array(W), np.array(K)
    x = np.asarray(pool, np.float64)
    net.learn(x[0][:, None])
    t0 = time.perf_counter()
    for i in range(n):
        net.learn(x[i + 1][:, None])
    return (time.perf_counter() - t0) / n


def ensemble_rate(n_out, E, pool, n=20):
    m = nim.RecurrentInfoMax.tonotopic(N_IN, n_out, dtype=jnp.float32)
    K = 0.02 * jax.random.normal(jax.random.key(1), (n_out, n_out)) * (1 - jnp.eye(n_out))
    lam = jnp.linspace(0.05, 0.3, E, dtype=jnp.float32)
    rates = nim.OnlineRates(*(jnp.asarray(v, jnp.float32) for v in (0.1, 0.001, 0.001)), lam)
    run = _runner(n)
    W = jnp.broadcast_to(m.W, (E,) + m.W.shape)
    Ks = jnp.broadcast_to(K.astype(jnp.float32), (E,) + K.shape)
    p32, idx = pool.astype(jnp.float32), jnp.arange(n)
    t_ens = time_call(lambda: run(W, Ks, p32, idx, rates), repeat=3)["best_s"]
    one = lambda e: nim.OnlineRates(rates.ff_eta, rates.ff_l1, rates.rec_eta, lam[e:e + 1])  # noqa: E731
    t_loop = time_call(lambda: [run(W[:1], Ks[:1], p32, idx, one(e)) for e in range(E)],
                       repeat=3)["best_s"]
    return E * n / t_ens, E * n / t_loop


def main():
    quick = "--quick" in sys.argv
    pool = nim.tones(N_IN, 20_000, key=jax.random.key(0)).astype(jnp.float64)
    W, K = early_state(400, pool, steps=2000 if quick else 10_000)
    rho0 = float(np.max(np.abs(np.linalg.eigvals(K))))
    states = {"early (10^4 phase-2 steps)": (W, K),
              "near-critical (K scaled to rho = 3)": (W, K * (3.0 / rho0))}
    p400 = newest_checkpoint(P400)
    if p400 is not None:  # the committed 40 -> 400 run: its end-of-phase-2 state at λ_K = 0.226
        with np.load(p400) as z:
            states["end of phase 2, lambda_K = 0.226 (results/paper/p400)"] = (
                z["snap_W2"][0], z["snap_K2"][0])
    if "--state" in sys.argv:  # a run directory's newest checkpoint (member 0)
        path = newest_checkpoint(sys.argv[sys.argv.index("--state") + 1])
        with np.load(path) as z:
            states[f"checkpoint {path.parent.parent.name}/{path.parent.name}"] = (z["W"][0],
                                                                                  z["K"][0])
    rows = []
    for name, (w, k) in states.items():
        rho = float(np.max(np.abs(np.linalg.eigvals(k))))
        t64 = step_time(w, k, pool, jnp.float64)
        t32 = step_time(w, k, pool, jnp.float32)
        ts = seed_step_time(w, k, pool, 5 if quick else 20)
        rows.append({"what": f"40->400 batch-1 K step, {name}", "rho_K": rho,
                     "neurojax_f64_ms": 1e3 * t64, "neurojax_f32_ms": 1e3 * t32,
                     "seed_f64_ms": 1e3 * ts, "speedup_f64": ts / t64, "speedup_f32": ts / t32,
                     "protocol_h_per_lambda_f32": t32 * 2.05e6 / 3600})
    for n_out in (80, 400):
        for E in ((1, 8) if quick else (1, 8, 32)):
            if n_out == 400 and E == 32 and quick:
                continue
            ens, loop = ensemble_rate(n_out, E, pool)
            rows.append({"what": f"40->{n_out} f32 ensemble of {E}", "members": E,
                         "member_steps_per_s": ens, "loop_member_steps_per_s": loop,
                         "ensemble_vs_loop": ens / loop})
    write("tinnitus", {"note": "online (one sample per step) K learning; seed timed on the same "
                               "states in the same process"},
          rows, ["what", "rho_K", "neurojax_f64_ms", "neurojax_f32_ms", "seed_f64_ms",
                 "speedup_f64", "speedup_f32", "protocol_h_per_lambda_f32",
                 "member_steps_per_s", "loop_member_steps_per_s", "ensemble_vs_loop"])


if __name__ == "__main__":
    main()
