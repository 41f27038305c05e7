"""Choose the retrieval defaults by measurement: stemmer x fusion x dense weight on QMSum val.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/retrieval_grid.py [--split val] [--dtype float32]

Every specific query of the split (all of them, by default) is scored against the gold evidence
(``relevant_text_span``, turned into character spans by the loader): the gold chunks are those that
overlap a span, and for each configuration the script reports the mean reciprocal rank of the first
gold chunk (MRR) and hit@k (a gold chunk among the top k) for k = 1, 4, 8. Chunks are cut exactly as
``ContextManager`` cuts them (the reader's tokenizer, 256-token chunks). Each meeting is embedded
once with a fresh, explicitly typed MiniLM and the embeddings are reused across the whole grid; every
index is built by ``ChunkIndex.build`` (the code the controller runs), not a re-implementation.
Nothing is read from or written to the index cache. Prints a Markdown table, best MRR first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

GRID_WEIGHTS = (0.3, 0.5, 0.7)
HIT_KS = (1, 4, 8)


class EmbeddingMemo:
    """An encoder that embeds each distinct text once and serves it again from memory."""

    def __init__(self, encoder):
        self.encoder, self.name, self.dim = encoder, encoder.name, encoder.dim
        self._rows: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if missing:
            for text, row in zip(missing, self.encoder.encode(missing)):
                self._rows[text] = row
        return np.stack([self._rows[t] for t in texts]).astype(np.float32)


@dataclass(frozen=True)
class Setting:
    kind: str
    stemmer: str = "english"
    fusion: str = "minmax"
    dense_weight: float = 0.5

    def label(self) -> str:
        if self.kind == "dense":
            return "dense only"
        if self.kind == "bm25":
            return f"bm25 only, stemmer={self.stemmer}"
        weight = f", dense_weight={self.dense_weight}" if self.fusion == "minmax" else ""
        return f"hybrid {self.fusion}, stemmer={self.stemmer}{weight}"

    def options(self) -> dict:
        if self.kind == "dense":
            return {}
        if self.kind == "bm25":
            return {"stemmer": self.stemmer}
        return {"stemmer": self.stemmer, "fusion": self.fusion, "dense_weight": self.dense_weight}


def grid() -> list[Setting]:
    out = [Setting("dense")]
    for stemmer in ("english", "none"):
        out.append(Setting("bm25", stemmer))
        out += [Setting("hybrid", stemmer, "minmax", w) for w in GRID_WEIGHTS]
        out.append(Setting("hybrid", stemmer, "rrf"))
    return out


def first_gold_rank(scores: np.ndarray, gold: set[int]) -> int:
    """1-based rank of the best-ranked gold chunk (ties by position, as ``ChunkIndex.search``)."""
    order = np.argsort(-scores, kind="stable")
    return next(r for r, chunk_id in enumerate(order, 1) if int(chunk_id) in gold)


def meetings(split: str) -> dict[str, list]:
    from adactx.data.registry import load

    by_doc: dict[str, list] = {}
    for example in load(f"qmsum:{split}"):
        if example.meta.get("query_type") == "specific" and example.evidence:
            by_doc.setdefault(example.document.doc_id, []).append(example)
    return by_doc


def measure(split: str, dtype: str, chunk_tokens: int) -> tuple[dict[Setting, list[int]], int]:
    """First-gold ranks per setting over every query; also returns the number of chunks embedded."""
    from adactx.retrieval.chunking import build_chunk_tree
    from adactx.retrieval.encoders import MiniLMEncoder
    from adactx.retrieval.index import ChunkIndex

    from adactx.reader import load_tokenizer

    tokenizer = load_tokenizer()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    encoder = EmbeddingMemo(MiniLMEncoder(dtype=dtype))
    ranks: dict[Setting, list[int]] = {s: [] for s in grid()}
    n_chunks = 0
    for i, examples in enumerate(meetings(split).values(), 1):
        print(f"meeting {i}: {len(examples)} queries", file=sys.stderr, flush=True)
        tree = build_chunk_tree(examples[0].document, count, chunk_tokens=chunk_tokens)
        n_chunks += len(tree.chunks)
        for setting, found in ranks.items():
            index = ChunkIndex.build(tree.texts, kind=setting.kind, encoder=encoder, **setting.options())
            for example in examples:
                gold = {c for span in example.evidence for c in tree.chunks_overlapping(span.start, span.end)}
                found.append(first_gold_rank(index.scores(example.query), gold))
    return ranks, n_chunks


def table(ranks: dict[Setting, list[int]]) -> str:
    head = "| setting | MRR | " + " | ".join(f"hit@{k}" for k in HIT_KS) + " |"
    lines = [head, "|" + "---|" * (2 + len(HIT_KS))]
    rows = []
    for setting, rs in ranks.items():
        arr = np.asarray(rs, dtype=np.float64)
        rows.append((float(np.mean(1.0 / arr)), [float(np.mean(arr <= k)) for k in HIT_KS], setting))
    for mrr, hits, setting in sorted(rows, key=lambda r: (-r[0], r[2].label())):
        lines.append(f"| {setting.label()} | {mrr:.3f} | " + " | ".join(f"{h:.3f}" for h in hits) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="val", help="QMSum split (val: the one defaults are chosen on)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="embedder dtype")
    ap.add_argument("--chunk-tokens", type=int, default=256, help="chunk size in reader tokens")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    ranks, n_chunks = measure(args.split, args.dtype, args.chunk_tokens)
    n_queries = len(next(iter(ranks.values())))
    print(f"QMSum {args.split}: {n_queries} specific queries over {len(meetings(args.split))} meetings, "
          f"{n_chunks} chunks of {args.chunk_tokens} tokens; MiniLM {args.dtype}; "
          f"{time.perf_counter() - t0:.0f}s\n")
    print(table(ranks))


if __name__ == "__main__":
    main()
