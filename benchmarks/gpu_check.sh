#!/usr/bin/env bash
# GPU readiness (see benchmarks/gpu_check.py): install the CUDA build of the jax version pinned
# here, then run the checks; `--dry-run` skips the install and runs tiny sizes on any backend.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" != "--dry-run" ]]; then
    python -m pip install -q -e ".[test,bench]"
    v=$(python -c "import jax; print(jax.__version__)")
    python -m pip install -q "jax[cuda12]==$v"
fi
exec python benchmarks/gpu_check.py "$@"
