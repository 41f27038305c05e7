"""Sensitivity tables of two readers on the examples both finished (runs of scripts/sft_eval.py).

    python scripts/sft_compare.py --base runs/sft-eval-base --sft runs/sft-eval-sft [--metric contains]

Each side may be several run directories (shards) of scripts/sft_eval.py or `adactx eval --sensitivity`;
only examples with every condition done on both sides are compared (`gold` counts only where the example
has gold evidence, as in QMSum), so the two tables share n and the examples. Bootstrap CIs as in
`adactx eval`, resampling documents; then the paired difference sft - base per condition, and the
difference in context dependence: (gold - none) of the SFT reader minus (gold - none) of the base reader.
--metric picks the record metric of those paired differences (score, contains, em, ...).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def _records(dirs: list[str]) -> list[dict]:
    from adactx.rl.evaluate import read_records

    return [r for d in dirs for r in read_records(Path(d) / "records.jsonl")]


def _complete(records: list[dict]) -> set[str]:
    """Examples with every condition of the run done (`gold` only exists where gold evidence does)."""
    labels = defaultdict(set)
    for r in records:
        labels[r["example_id"]].add(r["policy"])
    need = set().union(*labels.values()) - {"gold"} if labels else set()
    return {e for e, v in labels.items() if need <= v}


def _paired(sides: dict[str, list[dict]], common: set[str], metric: str) -> None:
    from adactx.rl.run_dir import record_document
    from adactx.rl.stats import paired_difference

    value = {
        name: {(r["example_id"], r["policy"]): r["metrics"][metric] for r in records} for name, records in sides.items()
    }
    doc = {r["example_id"]: record_document(r) for r in sides["base"]}
    print(f"\nsft - base in {metric} (paired over the same examples, CIs resampling documents)")
    for policy in sorted({p for _, p in value["base"]} & {p for _, p in value["sft"]}):
        ids = sorted(e for e in common if (e, policy) in value["base"] and (e, policy) in value["sft"])
        if ids:
            d, lo, hi = paired_difference(
                [value["sft"][e, policy] for e in ids], [value["base"][e, policy] for e in ids],
                clusters=[doc[e] for e in ids],
            )
            print(f"{policy:<22}{len(ids):>4}  {d:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    ids = sorted(e for e in common if all((e, "gold") in value[side] for side in value))
    if ids:
        gain = {side: [value[side][e, "gold"] - value[side][e, "none"] for e in ids] for side in value}
        d, lo, hi = paired_difference(gain["sft"], gain["base"], clusters=[doc[e] for e in ids])
        print(f"{'(gold-none) sft-base':<22}{len(ids):>4}  {d:+.3f} [{lo:+.3f}, {hi:+.3f}]")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", nargs="+", required=True)
    p.add_argument("--sft", nargs="+", required=True)
    p.add_argument("--metric", default="score", help="metric of the paired differences (score, contains, em, ...)")
    args = p.parse_args()
    from adactx.rl.evaluate import EvalConfig
    from adactx.rl.sensitivity import sensitivity_rows

    cfg = EvalConfig.from_dict(json.loads((Path(args.base[0]) / "config.json").read_text()))
    sides = {"base": _records(args.base), "sft": _records(args.sft)}
    common = _complete(sides["base"]) & _complete(sides["sft"])
    known = set.intersection(*(set(r["metrics"]) for records in sides.values() for r in records))
    if args.metric not in known:
        raise SystemExit(f"--metric {args.metric}: not in every record; these are: {', '.join(sorted(known))}")
    print(f"{cfg.data}: {len(common)} examples finished by both readers")
    for name, records in sides.items():
        rows = sensitivity_rows([r for r in records if r["example_id"] in common], cfg, {"n_boot": 2000, "seed": 0})
        print(f"\n{name}")
        print(f"{'condition':<22}{'n':>4}{'score':>8}  {'95% CI':<16}{'ctx tok':>8}  diff vs none")
        for r in rows:
            d = r["diff_vs_none"]
            diff = f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]" if d else ""
            ci = f"[{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]"
            print(f"{r['condition']:<22}{r['n']:>4}{r['score']:>8.3f}  {ci:<16}{r['context_tokens']:>8.0f}  {diff}")
    _paired(sides, common, args.metric)


if __name__ == "__main__":
    main()
