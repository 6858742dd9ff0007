"""Run metadata recorded with every result: versions, device, precision."""

import platform


def environment() -> dict:
    """Versions of Python/JAX/neurojax, the JAX backend and devices, and whether x64 is on."""
    import jax

    from .._version import __version__

    dev = jax.devices()[0]
    return {
        "neurojax": __version__,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "backend": dev.platform,
        "device": getattr(dev, "device_kind", str(dev)),
        "n_devices": jax.device_count(),
        "x64": bool(jax.config.jax_enable_x64),
        "machine": platform.machine(),
    }


def code_commit() -> str | None:
    """The git commit of the code that runs (`<short hash>`, `+dirty` when the work tree differs),
    or None outside a git checkout (an installed package): recorded with each run segment."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10)
        if commit.returncode:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("+dirty" if dirty else "")
