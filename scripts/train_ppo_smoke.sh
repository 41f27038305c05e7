#!/usr/bin/env bash
# A short real PPO run on mixed:train (prints decisions/hour and the memo hit rate at the end).
# Run it twice: the second run resumes the finished checkpoint unless you raise --iterations or remove
# runs/ppo-mixed-smoke; a fresh output dir with the same ADACTX_CACHE measures the warm-memo throughput.
set -euo pipefail
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
adactx="${ADACTX:-.venv/bin/adactx}"
"$adactx" train ppo --config configs/ppo_mixed_smoke.toml --no-progress "$@"
