"""Argument parsing for the `neurojax` console script. JAX is imported only after `--platform`/`--x64`
have been applied, so those options take effect."""

import argparse
import os
import sys

from ..infomax._hearing import PROFILES


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2 (no usage dump)."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {value}")
    return value


def _out_dir(text: str) -> str:
    """An output directory: it, or the nearest existing folder above it, must be a directory."""
    path = os.path.abspath(os.path.expanduser(text))
    probe = path
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise argparse.ArgumentTypeError(f"{text!r}: {probe} is not a directory")
    return text


def _common() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--out", type=_out_dir, default="./neurojax-out", help="output directory (default: %(default)s)")
    common.add_argument("--seed", type=_seed, default=0, help="random seed, an integer >= 0 (default: 0)")
    common.add_argument(
        "--platform", choices=["cpu", "gpu"], default=None, help="JAX platform (sets JAX_PLATFORMS)"
    )
    common.add_argument("--x64", action="store_true", help="compute in float64")
    common.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full parser: one subcommand per capability; every one takes the common options."""
    parser = _Parser(
        prog="neurojax",
        description="Recurrent InfoMax (tinnitus), plastic ring networks, sparse coding and "
        "information theory in JAX.",
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"neurojax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    common = _common()
    demo = sub.add_parser(
        "demo", parents=[common], help="run every capability at a small scale",
        description="Run every capability at small scale; write PNG figures and results.json to --out.",
    )
    demo.add_argument(
        "--only", action="append", default=None, metavar="NAME",
        help="run only this capability (repeatable)",
    )
    infomax = sub.add_parser(
        "infomax", parents=[common], help="train the recurrent InfoMax network (seed 000)",
        description="Train the recurrent InfoMax network on tones; write figures and summary.json.",
    )
    infomax.add_argument("--n-in", type=_positive_int, default=32)
    infomax.add_argument("--n-out", type=_positive_int, default=64)
    infomax.add_argument("--steps", type=_positive_int, default=400)
    infomax.add_argument("--batch-size", type=_positive_int, default=16)
    infomax.add_argument("--data-parallel", action="store_true",
                         help="split each batch over all devices (of all processes)")
    ring = sub.add_parser(
        "ring", parents=[common], help="plastic delayed ring network: learning and replay (seed 001)",
        description="Learn ring weights under a travelling-wave drive, then replay with the drive "
        "off; write figures and summary.json.",
    )
    ring.add_argument("--variant", choices=["circulant", "full", "single"], default="circulant")
    ring.add_argument("--periods", type=_positive_int, default=150)
    ring.add_argument("--N", type=_positive_int, default=500, dest="N")
    ring.add_argument("--record-every", type=_positive_int, default=10)
    ring.add_argument("--replay-periods", type=_positive_int, default=6)
    info = sub.add_parser(
        "info", parents=[common], help="compare MI estimators on correlated Gaussians (seed 003)",
        description="True vs estimated MI for plug-in, KSG, InfoNCE, NWJ, JSD and DV estimators "
        "across correlations, with error bars over seeds; write the figure and summary.json.",
    )
    info.add_argument("--seeds", type=_positive_int, default=3, help="data sets per MI value")
    info.add_argument("--n", type=_positive_int, default=4096, help="samples per data set")
    info.add_argument("--steps", type=_positive_int, default=2000, help="critic training steps")
    info.add_argument("--batch-size", type=_positive_int, default=256)
    info.add_argument("--dim", action="store_true",
                      help="instead: Deep InfoMax on the digits, linear-probe accuracy of its "
                      "features vs raw pixels, PCA and an untrained encoder (dim_probe.png)")
    info.add_argument("--features", type=_positive_int, default=32,
                      help="Deep InfoMax feature count (with --dim)")
    sparse = sub.add_parser(
        "sparse", parents=[common], help="sparsity and sparse coding story (seed 002)",
        description="Kurtosis of a panning pixel's transforms, OMP on sinusoids, dictionary vs "
        "PCA on a digits video, Gabor-like atoms from whitened natural patches; write figures "
        "and summary.json.",
    )
    sparse.add_argument("--patches", type=_positive_int, default=20000,
                        help="natural-image patches (default: %(default)s)")
    sparse.add_argument("--rounds", type=_positive_int, default=1000,
                        help="minibatch dictionary-learning rounds (default: %(default)s)")
    tinnitus = sub.add_parser(
        "tinnitus", parents=[common], help="the tinnitus experiment: InfoMax network + hearing loss",
        description="Three phases (learn W; learn K; learn K on attenuated inputs), then silence "
        "responses, the rho(K)-vs-lambda_K sweep, critical slowing down and audiograms; figures "
        "and summary.json. Checkpoints go to OUT/checkpoint.",
    )
    tinnitus.add_argument("--preset", choices=["small", "paper"], default="small")
    tinnitus.add_argument("--profile", default="baseline",
                          choices=[*PROFILES, "all"])
    tinnitus.add_argument("--resume", action="store_true",
                          help="continue from the last checkpoint in OUT/checkpoint")
    tinnitus.add_argument("--overwrite", action="store_true",
                          help="delete a run already in OUT/checkpoint and start again")
    paper = sub.add_parser(
        "paper", parents=[common], help="the paper's protocol: lambda_K sweep x hearing-loss profiles",
        description="Dotan & Shriki (2021) as its authors' code runs it: one sample per step, "
        "phases of 50k / 1M / 1M steps, every lambda_K and profile as one ensemble; checkpoints "
        "in OUT/run after every chunk (resume with --resume); then rho(K) vs lambda_K, critical "
        "slowing down, audiograms, silence responses and K's profile: figures, "
        "paper_summary.json. --x64 learns in float64 (default float32).",
    )
    paper.add_argument("--preset", choices=["paper", "reduced", "tiny"], default="reduced")
    paper.add_argument("--penalties", type=_positive_float, nargs="+", default=None,
                       metavar="LAMBDA", help="lambda_K values (default: the preset's)")
    paper.add_argument("--profiles", nargs="+", default=None, metavar="NAME",
                       choices=list(PROFILES),
                       help="hearing-loss profiles of phase 3 (default: the paper's five)")
    paper.add_argument("--scale-step", type=_positive_float, default=None,
                       help="step of s in the critical-slowing scan K -> sK over [0, 4] "
                       "(default 0.01 up to 100 outputs, else 0.05)")
    paper.add_argument("--devices", type=_positive_int, default=1,
                       help="split the ensemble's members over this many GPUs")
    paper.add_argument("--resume", action="store_true", help="continue the run in OUT/run")
    paper.add_argument("--overwrite", action="store_true",
                       help="delete a run already in OUT/run and start again")
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _setup_jax(args) -> None:
    """Apply `--platform` and `--x64` through `jax.config` (JAX may already be imported, e.g. by
    `import neurojax`, but no backend has started yet). `cpu` restricts JAX to the CPU; `gpu`
    requires a GPU backend (which JAX then uses by default). A platform that is not present raises
    ValueError with one line."""
    import jax

    if args.platform == "cpu":
        jax.config.update("jax_platforms", "cpu")
    if args.platform is not None:
        try:
            jax.devices(args.platform)
        except RuntimeError:
            raise ValueError(f"--platform {args.platform}: no {args.platform.upper()} is available "
                             f"to JAX on this machine") from None
    if args.x64:
        jax.config.update("jax_enable_x64", True)


def _launch_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="neurojax launch",
        description="Run a subcommand as one process of a multi-process JAX job "
        "(jax.distributed): neurojax launch --num-processes P --process-id I --coordinator "
        "HOST:PORT -- SUBCOMMAND [OPTIONS]. Start it once per process; process 0's host:port "
        "is the coordinator. Equivalent: set NEUROJAX_COORDINATOR, NEUROJAX_NUM_PROCESSES, "
        "NEUROJAX_PROCESS_ID and run the subcommand.",
    )
    p.add_argument("--num-processes", type=_positive_int, required=True)
    p.add_argument("--process-id", type=_seed, required=True)
    p.add_argument("--coordinator", required=True, help="host:port of process 0")
    return p


def main(argv=None) -> int:
    """Entry point of the `neurojax` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    launch = None
    if argv[:1] == ["launch"]:
        if "--" not in argv:
            _launch_parser().error("expected `--` followed by a subcommand")
        cut = argv.index("--")
        launch = _launch_parser().parse_args(argv[1:cut])
        argv = argv[cut + 1:]
    args = build_parser().parse_args(argv)
    try:
        _setup_jax(args)
    except ValueError as err:
        sys.stderr.write(f"neurojax {args.command}: error: {err}\n")
        return 2
    from ..parallel._distributed import initialize

    try:  # before any JAX computation; a no-op without `launch` or NEUROJAX_* variables
        if launch is not None:
            initialize(launch.coordinator, launch.num_processes, launch.process_id)
        else:
            initialize()
    except ValueError as err:
        sys.stderr.write(f"neurojax: error: {err}\n")
        return 2
    from ..experiments import LearningDiverged
    from . import _commands

    try:
        return _commands.run(args)
    except LearningDiverged as err:  # the run stopped cleanly; its checkpoint says where
        sys.stderr.write(f"neurojax {args.command}: error: {err}\n")
        return 1
    except (ValueError, TypeError) as err:  # bad values found after parsing: one line, status 2
        sys.stderr.write(f"neurojax {args.command}: error: {err}\n")
        return 2
    except OSError as err:  # an --out that cannot be written (read-only, /proc, ...)
        sys.stderr.write(f"neurojax {args.command}: error: cannot write the results "
                         f"(--out {args.out}): {err}\n")
        return 2
