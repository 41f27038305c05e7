#!/usr/bin/env bash
# The real SFT run of SmolLM2-135M-Instruct, in the background (resumes when started again).
#   bash scripts/sft_run.sh [CONFIG]        # log: <output_dir>.log
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/sft_smollm2_2k.toml}
OUT=$(.venv/bin/python -c "import sys; from adactx.kernels.sft_config import SFTTrainConfig as C; print(C.from_file(sys.argv[1]).output_dir)" "$CONFIG")
mkdir -p "$(dirname "$OUT")"
OMP_NUM_THREADS=1 nohup .venv/bin/adactx train sft --config "$CONFIG" >>"$OUT.log" 2>&1 &
echo "pid $! -> $OUT (log $OUT.log)"
