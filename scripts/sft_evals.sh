#!/usr/bin/env bash
# Every before/after evaluation of the SFT reader (issue 10), base reader then --adapter, section by section:
#   bash scripts/sft_evals.sh ADAPTER [OUT] [SECTION...]     # sections: mixed qmsum ppl8 passkey squality pk16 ppl16 qmsum100
# Resumable: an eval run directory resumes; a passkey / perplexity JSON that exists is skipped.
# Sizes (environment): MIXED_N QMSUM_N SQUALITY_N PK_TRIALS PK16_TRIALS PPL8_WINDOWS PPL16_WINDOWS.
# One core: OMP_NUM_THREADS=1, nice -n 5. float32 reader everywhere. The 16k rows use linear position
# interpolation x2 (SmolLM2's window is 8k) for both readers; 4k / 8k run without it.
set -euo pipefail
cd "$(dirname "$0")/.."
ADAPTER=${1:?give the adapter directory}
OUT=${2:-runs/sft-evals}
shift $(( $# < 2 ? $# : 2 ))
SECTIONS=${*:-mixed qmsum ppl8 passkey squality pk16 ppl16}
export OMP_NUM_THREADS=1
PY="nice -n 5 .venv/bin/python"
ADACTX="nice -n 5 .venv/bin/adactx"
QMSUM_TEST=../shared/data/qmsum/ALL/jsonl/test.jsonl
mkdir -p "$OUT"

sensitivity() {  # name data n [extra args]: base and sft, same examples and settings
    local name=$1 data=$2 n=$3; shift 3
    $PY scripts/sft_eval.py --out "$OUT/base-$name" --data "$data" --n "$n" "$@" >"$OUT/base-$name.log" 2>&1
    $PY scripts/sft_eval.py --out "$OUT/sft-$name" --data "$data" --n "$n" --adapter "$ADAPTER" "$@" \
        >"$OUT/sft-$name.log" 2>&1
    $PY scripts/sft_compare.py --base "$OUT/base-$name" --sft "$OUT/sft-$name" >"$OUT/compare-$name.txt"
    cat "$OUT/compare-$name.txt"
}

longctx() {  # json-name command args...: base and sft; skipped when its JSON exists
    local name=$1; shift
    [ -f "$OUT/base-$name.json" ] || $ADACTX eval "$@" --dtype float32 --adapter none --out "$OUT/base-$name.json" \
        >"$OUT/base-$name.log" 2>&1
    [ -f "$OUT/sft-$name.json" ] || $ADACTX eval "$@" --dtype float32 --adapter "$ADAPTER" \
        --out "$OUT/sft-$name.json" >"$OUT/sft-$name.log" 2>&1
    tail -n 8 "$OUT/base-$name.log" "$OUT/sft-$name.log"
}

for section in $SECTIONS; do
    echo "== $section $(date -u +%H:%M:%S)"
    case $section in
        mixed) sensitivity mixed mixed:val "${MIXED_N:-30}" --mixed-lengths 1000,2000 \
                   --policies topk-2,full,first-1024,oracle --oracle-depth 1 ;;
        qmsum) sensitivity qmsum qmsum:val "${QMSUM_N:-12}" ;;
        squality) sensitivity squality squality:dev "${SQUALITY_N:-6}" ;;
        qmsum100) $ADACTX eval --data qmsum:val --n 100 --budget 2048 --max-steps 6 --policies topk-2 --sensitivity \
                      --adapter "$ADAPTER" --threads 1 --workers 2 --out "$OUT/qmsum-val-sft" ;;  # SFT only, the eval's settings
        ppl8) longctx ppl8 perplexity --data "$QMSUM_TEST" --lengths 8192 --max-windows "${PPL8_WINDOWS:-2}" \
                  --rope-factor 1 ;;
        ppl16) longctx ppl16 perplexity --data "$QMSUM_TEST" --lengths 8192,12288,16384 \
                   --max-windows "${PPL16_WINDOWS:-1}" --rope-factor 2 ;;
        passkey) longctx pk4-8 passkey --lengths 4096,8192 --trials "${PK_TRIALS:-3}" --rope-factor 1 ;;
        pk16) longctx pk16 passkey --lengths 16384 --trials "${PK16_TRIALS:-1}" --rope-factor 2 ;;
        *) echo "unknown section $section" >&2; exit 2 ;;
    esac
done
echo "== done $(date -u +%H:%M:%S)"
