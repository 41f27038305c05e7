#!/usr/bin/env bash
# The exact commands behind docs/results.md. Each run is resumable: rerun the same line and finished
# (example, policy) pairs are kept (runs/<name>/records.jsonl); the reader memo is shared by all runs.
# Sized for a shared 2-core CPU: short answers, budgets that cap the context, one run at a time.
set -euo pipefail
export ADACTX_CACHE=${ADACTX_CACHE:-/tmp/adx_cache} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
ADACTX=${ADACTX:-.venv/bin/adactx}

# 1. mixed long-context suite (facts in real text, 1-3k-token documents, short answers): QA F1
$ADACTX eval --data mixed:val --n 200 --budget 3072 --max-steps 6 --answer-tokens 12 \
  --policies full,first-1024,topk-2,topk-4,threshold,oracle --lambda 0,0.02,0.05 --sensitivity \
  --out runs/mixed-val

# 2. QMSum val (specific and general queries; gold turn spans): ROUGE-L of a 32-token answer
$ADACTX eval --data qmsum:val --n 100 --budget 2048 --max-steps 6 --summary-tokens 32 \
  --policies full,first-1024,topk-2,topk-4,threshold,oracle --oracle-depth 1 --lambda 0,0.02,0.05 --sensitivity \
  --out runs/qmsum-val

# 3. SQuALITY dev (no gold spans): ROUGE-L of a 32-token answer
$ADACTX eval --data squality:dev --n 100 --budget 2048 --max-steps 6 --summary-tokens 32 \
  --policies full,first-1024,topk-2,topk-4,threshold,oracle --oracle-depth 1 --lambda 0,0.02,0.05 --sensitivity \
  --out runs/squality-dev
