"""`neurojax demo`: every capability at small scale, one results.json."""

import json
import time
from pathlib import Path

from ._env import environment
from ._info_run import info_demo
from ._infomax_run import infomax_demo
from ._ring_run import ring_demo
from ._sparse_run import sparse_demo
from ._tinnitus_run import tinnitus_demo

# name -> callable(out, *, seed, progress) -> dict of numbers. Each capability adds itself here.
DEMOS = {
    "infomax": infomax_demo,
    "ring": ring_demo,
    "info": info_demo,
    "sparse": sparse_demo,
    "tinnitus": tinnitus_demo,
}


def run_demo(out, *, seed: int = 0, progress: bool = True, only=None) -> dict:
    """Run the registered demos (or those named in `only`); write `results.json` into `out`."""
    out = Path(out)
    names = list(DEMOS) if not only else list(only)
    unknown = [n for n in names if n not in DEMOS]
    if unknown:
        raise ValueError(f"--only: unknown capability {unknown[0]!r}; expected one of {sorted(DEMOS)}")
    results = {"environment": environment(), "seed": seed, "capabilities": {}}
    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        if progress:
            print(f"[neurojax demo] {name} ...", flush=True)
        res = DEMOS[name](out, seed=seed, progress=progress)
        res["wall_s"] = time.perf_counter() - t0
        results["capabilities"][name] = res
    results["wall_s"] = time.perf_counter() - t_all
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results
