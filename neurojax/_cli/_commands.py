"""What each subcommand does: thin wrappers over `neurojax.experiments`."""

import json
import time
from pathlib import Path


def _out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {path!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _summary(out: Path, experiment, **kwargs) -> int:
    """Run one experiment; write its numbers with the environment to `summary.json`."""
    from ..experiments import environment

    t0 = time.perf_counter()
    summary = experiment(out, **kwargs)
    summary = {"environment": environment(), "wall_s": time.perf_counter() - t0, **summary}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {out / 'summary.json'}")
    return 0


def run(args) -> int:
    import jax

    out = Path(args.out)
    if jax.process_count() > 1 and jax.process_index() > 0:  # multi-process: one folder each
        out = out / f"process-{jax.process_index()}"
    out = _out_dir(str(out))
    progress = not args.no_progress
    if args.command == "demo":
        from ..experiments import run_demo

        results = run_demo(out, seed=args.seed, progress=progress, only=args.only)
        print(f"wrote {out / 'results.json'} ({', '.join(results['capabilities'])})")
        return 0
    if args.command == "infomax":
        from ..experiments import infomax_demo

        return _summary(out, infomax_demo, progress=progress, seed=args.seed, n_in=args.n_in,
                        n_out=args.n_out, steps=args.steps, batch_size=args.batch_size,
                        data_parallel=args.data_parallel)
    if args.command == "ring":
        from ..experiments import ring_experiment

        return _summary(out, ring_experiment, progress=progress, seed=args.seed,
                        variant=args.variant, periods=args.periods, N=args.N,
                        record_every=args.record_every, replay_periods=args.replay_periods)
    if args.command == "info" and args.dim:
        from ..experiments import dim_experiment

        return _summary(out, dim_experiment, progress=progress, seed=args.seed,
                        features=args.features, steps=args.steps, batch_size=min(args.batch_size, 256),
                        probe_at=tuple(s for s in (250, 500, 1000, 2000, 4000) if s < args.steps),
                        local_probe=True)
    if args.command == "info":
        from ..experiments import info_experiment

        return _summary(out, info_experiment, progress=progress, seed=args.seed,
                        n_seeds=args.seeds, n=args.n, steps=args.steps,
                        batch_size=args.batch_size)
    if args.command == "sparse":
        from ..experiments import sparse_experiment

        return _summary(out, sparse_experiment, progress=progress, seed=args.seed,
                        n_patches=args.patches, rounds=args.rounds)
    if args.command == "tinnitus":
        from ..experiments import tinnitus_experiment

        return _summary(out, tinnitus_experiment, progress=progress, seed=args.seed,
                        preset=args.preset, profile=args.profile, resume=args.resume,
                        overwrite=args.overwrite)
    if args.command == "paper":
        from ._paper import paper_command

        return _summary(out, paper_command, progress=progress, seed=args.seed, args=args)
    raise ValueError(f"unknown command {args.command!r}")  # pragma: no cover (argparse rejects it)


