"""`neurojax paper`: arguments to :func:`neurojax.experiments._paper_run.paper_experiment`."""


def paper_command(out, *, progress: bool, seed: int, args) -> dict:
    import jax

    from ..experiments._paper_run import paper_experiment

    mesh = None
    if args.devices > 1:
        if len(jax.devices()) < args.devices:
            raise ValueError(f"--devices {args.devices}: only {len(jax.devices())} "
                             f"{jax.devices()[0].platform} devices are present")
        mesh = jax.make_mesh((args.devices,), ("members",))

    return paper_experiment(out, preset=args.preset, seed=seed, resume=args.resume,
                            overwrite=args.overwrite, progress=progress,
                            dtype="float64" if args.x64 else "float32",
                            scale_step=args.scale_step, penalties=args.penalties,
                            profiles=args.profiles, mesh=mesh)
