"""Run by tests/test_parallel.py in subprocesses (fake CPU devices or several processes).

    python _parallel_worker.py devices            # XLA_FLAGS sets 4 host devices
    python _parallel_worker.py process ADDR N I   # one of N processes of a jax.distributed job
"""

import sys

import numpy as np


def learning_step_difference(mesh, neumann=True):
    """Largest relative difference between learning on one device and on `mesh`; `neumann`
    adds a network large enough for the Neumann path (compiled once per mesh, so only the
    package's own mesh runs it)."""
    import jax

    import neurojax.infomax as nim

    x = nim.tones(8, 256, key=jax.random.key(0))
    m = nim.RecurrentInfoMax.tonotopic(8, 12)
    idx = nim.batch_indices(256, 16, range(12), key=jax.random.key(1))
    ref = nim.train_on_batches(m, x, idx)  # one device, no mesh
    par = nim.train_on_batches(m, x, idx, mesh=mesh)
    rel = lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b))) /  # noqa: E731
                             np.max(np.abs(np.asarray(a))))
    assert np.any(np.asarray(ref.model.K) != 0)
    diff = max(rel(ref.model.W, par.model.W), rel(ref.model.K, par.model.K),
               rel(ref.stats.objective, par.stats.objective))
    if not neumann:
        return diff
    # a network large enough for the Neumann path (each shard takes its own lax.cond)
    x = nim.tones(16, 256, key=jax.random.key(2))
    m = nim.RecurrentInfoMax.tonotopic(16, 160)
    idx = nim.batch_indices(256, 8, range(4), key=jax.random.key(3))
    ref = nim.train_on_batches(m, x, idx)
    par = nim.train_on_batches(m, x, idx, mesh=mesh)
    assert ref.stats.neumann.all() and par.stats.neumann.all() and par.stats.converged.all()
    return max(diff, rel(ref.model.K, par.model.K), rel(ref.stats.objective, par.stats.objective))


def main():
    mode = sys.argv[1]
    if mode == "process":
        import neurojax.parallel as par

        par.initialize(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    import jax

    jax.config.update("jax_enable_x64", True)
    import neurojax.parallel as par

    mesh = par.data_mesh()
    out = {"devices": jax.device_count(), "processes": jax.process_count(),
           "learning": learning_step_difference(mesh)}
    if mode == "devices":
        # a mesh built the way current JAX documents it, with another axis name
        out["learning_make_mesh"] = learning_step_difference(jax.make_mesh((4,), ("batch",)),
                                                             neumann=False)
        # a 2-D mesh with the batch axis named: split over "batch", replicated over "model"
        mesh2 = jax.make_mesh((2, 2), ("batch", "model"))
        out["learning_named_axis"] = learning_step_difference((mesh2, "batch"), neumann=False)
        errors = []
        for bad in (mesh2, (mesh2, "nope"), "data"):
            try:
                learning_step_difference(bad, neumann=False)
            except ValueError as err:
                errors.append(str(err))
        out["bad_mesh_errors"] = errors
        import neurojax.infomax as nim
        import neurojax.ring as ring

        m = nim.RecurrentInfoMax.tonotopic(8, 12)
        x = nim.tones(8, 200, key=jax.random.key(1))
        xa = nim.attenuate(x, nim.hearing_loss("baseline", 8))
        lam = np.array([0.01, 0.05, 0.1, 0.5])
        kw = dict(key=jax.random.key(3), steps_normal=20, steps_attenuated=20, batch_size=8,
                  rec_eta=0.05)
        a = nim.penalty_sweep(m, x, xa, lam, **kw)
        b = nim.penalty_sweep(m, x, xa, lam, mesh=mesh, **kw)
        out["penalty_sweep"] = float(np.max(np.abs(a.rho_after - b.rho_after) / a.rho_after
                                            + np.abs(a.rho_before - b.rho_before) / a.rho_before))
        cfg = ring.RingConfig(N=60)
        w0 = 0.01 * jax.random.normal(jax.random.key(0), (60,))
        vals = {"lam": np.array([10.0, 20.0, 30.0, 40.0]), "tau_w": np.array([5.0, 5.0, 10.0, 10.0])}
        r1 = ring.sweep(cfg, w0, vals, 200).rates
        r2 = ring.sweep(cfg, w0, vals, 200, mesh=jax.make_mesh((4,), ("configs",))).rates
        out["ring_sweep"] = float(np.max(np.abs(np.asarray(r1) - np.asarray(r2))))
        out["ring_sharded"] = len(r2.sharding.device_set)
    print("RESULT", repr(out), flush=True)


if __name__ == "__main__":
    main()
