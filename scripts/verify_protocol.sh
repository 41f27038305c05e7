#!/usr/bin/env bash
# Small checks of the evaluation protocol on the real sets (not results: n is far too small for any
# claim): settings chosen on the validation split and reported on test, CIs over documents, the oracle
# as a ceiling, summary lengths from the train references. Tens of minutes each on a loaded 2-core CPU.
# The full-size runs are scripts/run_evals.sh.
set -euo pipefail
export ADACTX_CACHE=${ADACTX_CACHE:-/tmp/adx_cache} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
ADACTX=${ADACTX:-.venv/bin/adactx}
OUT=${OUT:-runs/verify}
# QMSum: 2 baselines and the oracle's depth-1 tree; SQuALITY: budget, steps and baselines as in the timing
# run that filled the memo for its first dev examples, no oracle (a 226-token summary is ~1 CPU-minute).
QMSUM=(--budget 1024 --max-steps 4 --policies first-512,topk-2,oracle --oracle-actions retrieve-2 --oracle-depth 1)
SQUALITY=(--budget 2048 --max-steps 6 --policies first-1024,topk-2)
case "${1:-all}" in
  qmsum|all)
    $ADACTX eval --data qmsum:test --select-on val --n "${N_QMSUM:-2}" "${QMSUM[@]}" --lambda 0,0.05 \
      --out "$OUT/qmsum-test" ;;&
  squality|all)
    $ADACTX eval --data squality:test --select-on dev --n "${N_SQUALITY:-2}" "${SQUALITY[@]}" --lambda 0,0.05 \
      --out "$OUT/squality-test" ;;
esac
