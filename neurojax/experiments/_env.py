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
