"""Reader sensitivity: how much does this reader's score move with its context, per task?

Conditions (``adactx eval --sensitivity``): ``none`` (the question alone), ``gold`` (only the gold
evidence spans, in document order, the last one cut to fit the budget; only where gold spans exist), ``prefix`` (the first
``prefix_tokens``), ``top-k`` (the ``topk`` best chunks) and ``longest`` (as much as the budget and window
allow, from the start). When no condition moves the score beyond its CI there is nothing for a context
policy to learn with this reader on that task. CIs resample documents (``adactx.rl.stats``).

    rows = sensitivity_rows(records, cfg, {"n_boot": 2000, "seed": 0})
"""

from __future__ import annotations

import time

from adactx.types import Usage


def condition_policies(cfg) -> dict[str, str]:
    """The conditions that are plain baseline policies, by condition name."""
    return {"prefix": f"first-{cfg.prefix_tokens}", "top-k": f"topk-{cfg.topk}", "longest": "full"}


def gold_outcome(reader, example, cfg) -> dict:
    """Answer from the gold evidence alone (spans in document order while they fit the budget)."""
    from adactx.metrics import score

    t0 = time.perf_counter()
    session = reader.session(example.query, example.task)
    answer_tokens = cfg.summary_tokens if example.task == "query_summary" else cfg.answer_tokens
    text = example.document.text
    read, pieces = 0, []
    for span in sorted(example.evidence, key=lambda s: s.start):
        if span.doc_index != 0:
            continue
        piece = "\n" + text[span.start : span.end]
        ids = reader.encode(piece)
        left = min(cfg.budget - read, session.room(answer_tokens + 8))
        if len(ids) > left:  # the span does not fit whole: keep its beginning, then stop
            piece = reader.decode(ids[: max(left - 4, 0)])
            if not piece.strip() or reader.count_tokens(piece) > left:
                break
            read += session.append(piece)
            pieces.append([span.start, span.start + len(piece) - 1])
            break
        read += session.append(piece)
        pieces.append([span.start, span.end])
    gen = session.answer(answer_tokens)
    metrics = score(example.task, gen.text, example.references, example.options)
    usage: Usage = session.usage
    return {
        "example_id": example.example_id,
        "task": example.task,
        "answer": gen.text,
        "score": float(metrics["score"]),
        "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
        "usage": usage.to_dict(),
        "context_tokens": read,
        "doc_tokens": None,
        "pieces": pieces,
        "steps": [],
        "stop_reason": "gold evidence",
        "wall_s": time.perf_counter() - t0,
    }


def sensitivity_rows(records: list[dict], cfg, boot: dict) -> list[dict]:
    from adactx.rl.run_dir import record_document
    from adactx.rl.stats import mean_ci, paired_difference

    by = {(r["example_id"], r["policy"]): r for r in records}
    labels = {"none": "none", "gold": "gold", **condition_policies(cfg)}
    rows = []
    for condition, label in labels.items():
        ids = sorted(e for (e, p) in by if p == label)
        if not ids:
            continue
        scores = [by[(e, label)]["score"] for e in ids]
        m, lo, hi = mean_ci(scores, **boot, clusters=[record_document(by[(e, label)]) for e in ids])
        both = [e for e in ids if (e, "none") in by]
        d = (
            paired_difference(
                [by[(e, label)]["score"] for e in both],
                [by[(e, "none")]["score"] for e in both],
                **boot,
                clusters=[record_document(by[(e, label)]) for e in both],
            )
            if both and condition != "none"
            else None
        )
        rows.append(
            {
                "condition": f"{condition} ({label})" if condition != label else condition,
                "n": len(ids),
                "score": m,
                "ci": [lo, hi],
                "context_tokens": sum(by[(e, label)]["context_tokens"] for e in ids) / len(ids),
                "diff_vs_none": list(d) if d else None,
            }
        )
    return rows


__all__ = ["condition_policies", "gold_outcome", "sensitivity_rows"]
