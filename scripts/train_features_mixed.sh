#!/usr/bin/env bash
# The feature-policy arm on the mixed suite (issue 9, item 3): train on mixed:train at λ = 0.02, then
# evaluate on a mixed:val slice against topk-2 (the val-chosen best fixed setting of docs/results.md)
# with the eval settings of scripts/run_evals.sh (budget 3072, 6 steps, 12-token answers) but 1k-token
# documents, as in training (the 2-core CPU reads ~10 tokens/s per core under load).
#
# Both steps resume: rerun the training and it continues from runs/features-mixed-l0.02/checkpoints;
# rerun the eval and finished (example, policy) pairs are kept. The reader memo ($ADACTX_CACHE/memo.sqlite)
# makes revisited contexts free. Sized for a shared 2-core CPU.
set -euo pipefail
export ADACTX_CACHE=${ADACTX_CACHE:-/tmp/adx_cache} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
ADACTX=${ADACTX:-.venv/bin/adactx}
CONFIG=${CONFIG:-configs/features_mixed_l002.toml}
RUN=${RUN:-runs/features-mixed-l0.02}
N_VAL=${N_VAL:-10}

$ADACTX train features --config "$CONFIG" --output-dir "$RUN" ${STEPS:+--total-timesteps "$STEPS"}
EVAL=(--data mixed:val --n "$N_VAL" --mixed-lengths 1000 --budget 3072 --max-steps 6 --answer-tokens 12
      --lambda 0.02 --adapter none --out "$RUN-eval-val")
# as run: the baseline alone while the policy trained (a resumed eval may add policies), then both
$ADACTX eval "${EVAL[@]}" --policies topk-2
$ADACTX eval "${EVAL[@]}" --policies "topk-2,learned:$RUN/policy"
