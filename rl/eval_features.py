"""What an evaluation records about each example besides its outcome: group, retrieval profile, evidence.

    feats = retrieval_features(example, prepared)          # task, group, doc_tokens, top score, margin
    record = make_record(example, "topk-4", outcome, "policy", feats)   # one line of records.jsonl

``evidence_recall`` is the share of the gold evidence characters the context covered (None without gold).
"""

from __future__ import annotations

import numpy as np


def group_of(example) -> str:
    meta = example.meta or {}
    return str(meta.get("query_type") or meta.get("variant") or example.task)


def evidence_recall(example, pieces: list[list[int]]) -> float | None:
    """Share of the gold evidence characters (first document) that the context covers; None without gold."""
    spans = [(s.start, s.end) for s in example.evidence if s.doc_index == 0 and s.end > s.start]
    if not spans:
        return None
    covered = 0
    merged = _merge([tuple(p) for p in pieces])
    for start, end in spans:
        for a, b in merged:
            covered += max(0, min(end, b) - max(start, a))
    return covered / sum(e - s for s, e in spans)


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def retrieval_features(example, prepared) -> dict:
    scores = np.sort(np.asarray(prepared.index.scores(example.query), dtype=float))[::-1]
    return {
        "task": example.task,
        "group": group_of(example),
        "doc_tokens": int(prepared.tree.total_tokens),
        "top": float(scores[0]) if scores.size else 0.0,
        "margin": float(scores[0] - scores[1]) if scores.size > 1 else 0.0,
    }


def make_record(example, label: str, outcome: dict, kind: str, feats: dict) -> dict:
    outcome = dict(outcome)
    recall = evidence_recall(example, outcome.get("pieces", []))
    return {
        "example_id": example.example_id,
        "doc_id": example.document.doc_id,  # the cluster the bootstrap resamples
        "policy": label,
        "kind": kind,
        "group": feats["group"],
        "features": feats,
        **{k: v for k, v in outcome.items() if k != "example_id"},
        "evidence_recall": recall,
    }


__all__ = ["evidence_recall", "group_of", "make_record", "retrieval_features"]
