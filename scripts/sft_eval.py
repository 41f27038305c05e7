"""Reader sensitivity before / after SFT: one command per reader, same examples, same settings.

    python scripts/sft_eval.py --out runs/sft-eval-base                                  # base reader
    python scripts/sft_eval.py --out runs/sft-eval-sft --adapter runs/sft-smollm2-2k/adapter

It is `adactx eval --sensitivity --adapter DIR` (rl.evaluate.run_eval) with the reader loaded in
--dtype (float32 by default: on CPUs without AVX-512, bf16 matmuls are ~4x slower) and its own memo
database under --out (the memo key does not include the dtype). Conditions: none, gold, prefix
(first-L), retrieved (topk-K), longest; prints the baseline table (--policies) and the sensitivity
table with n and bootstrap CIs. scripts/sft_evals.sh runs every before/after evaluation of issue 10.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="run directory (a rerun resumes it)")
    p.add_argument("--adapter", default="none",
                   help="the reader's adapter: none (the base reader, default here), builtin:smollm2-sft or a directory")
    p.add_argument("--model", default=None, help="base model directory (default SmolLM2-135M-Instruct)")
    p.add_argument("--data", default="mixed:val")
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--mixed-lengths", default="1000")
    p.add_argument("--budget", type=int, default=1024)
    p.add_argument("--topk", type=int, default=2, help="the retrieved condition: topk-K")
    p.add_argument("--policies", default=None, help="baseline policies of the table (default: topk-K)")
    p.add_argument("--oracle-depth", type=int, default=2, help="most actions of the oracle's tree")
    p.add_argument("--prefix-tokens", type=int, default=1024)
    p.add_argument("--answer-tokens", type=int, default=16)
    p.add_argument("--summary-tokens", type=int, default=96)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shard", default="0/1", help="K/N: run examples K, K+N, K+2N, ... (parallel processes)")
    args = p.parse_args()

    from adactx.rl.evaluate import EvalConfig, load_examples, run_eval

    from adactx.reader import load_reader

    policies = tuple((args.policies or f"topk-{args.topk}").split(","))
    cfg = EvalConfig(
        data=args.data, n=args.n, seed=args.seed, policies=policies, budget=args.budget,
        answer_tokens=args.answer_tokens, summary_tokens=args.summary_tokens, sensitivity=True,
        topk=args.topk, oracle_depth=args.oracle_depth, prefix_tokens=args.prefix_tokens,
        mixed_lengths=tuple(int(x) for x in args.mixed_lengths.split(",")), model=args.model, adapter=args.adapter,
    )
    reader = load_reader(args.model, adapter=args.adapter, dtype=args.dtype)
    out = Path(args.out)
    k, n_shards = (int(x) for x in args.shard.split("/"))
    examples = load_examples(cfg, reader.tokenizer)[k::n_shards]
    summary = run_eval(cfg, out, reader=reader, memo_path=out / "memo.sqlite", examples=examples)
    print(summary["table"])
    print(json.dumps({"adapter": args.adapter, "sensitivity": summary.get("sensitivity")}, default=str)[:4000])


if __name__ == "__main__":
    main()
