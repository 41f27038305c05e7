"""Data set statistics: document lengths in reader tokens and where gold evidence sits.

    stats = set_stats("qmsum:test", load("qmsum:test"), tokenizer)
    stats.summary()                                     # counts, length quantiles, evidence share/position
    plot_histograms([stats, ...], Path("docs/figures"))  # data_doc_lengths.png, data_evidence_positions.png

Lengths are counted once per distinct document (QMSum and SQuALITY share one document among many
queries). Evidence position is each gold span's midpoint as a fraction of its document (0 = start,
1 = end); evidence share is the fraction of the document's characters inside gold spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adactx.types import Example

DEFAULT_STATS_SPECS = (
    "qmsum:train",
    "qmsum:test",
    "squality:test",
    "bamboo-meetingqa-4k",
    "bamboo-paperqa-4k",
    "bamboo-paperqa-16k",
    "bamboo-altqa-4k",
    "mixed:test",
    "needle",
    "passkey",
)


@dataclass
class SetStats:
    spec: str
    n_examples: int
    doc_tokens: list[int] = field(default_factory=list)  # one per distinct document
    evidence_positions: list[float] = field(default_factory=list)  # one per gold span
    evidence_shares: list[float] = field(default_factory=list)  # one per example with evidence

    def summary(self) -> dict:
        def quantile(values: list[float], q: float) -> float:
            ordered = sorted(values)
            return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")

        positions = self.evidence_positions
        return {
            "set": self.spec,
            "examples": self.n_examples,
            "documents": len(self.doc_tokens),
            "tokens_median": quantile(self.doc_tokens, 0.5),
            "tokens_p90": quantile(self.doc_tokens, 0.9),
            "with_evidence": len(self.evidence_shares),
            "evidence_share": sum(self.evidence_shares) / len(self.evidence_shares)
            if self.evidence_shares
            else None,
            "evidence_pos_median": quantile(positions, 0.5) if positions else None,
            "evidence_first_third": sum(p < 1 / 3 for p in positions) / len(positions) if positions else None,
            "evidence_last_third": sum(p > 2 / 3 for p in positions) / len(positions) if positions else None,
        }


def evidence_share(example: Example) -> float:
    """Fraction of the example's document characters covered by its gold spans."""
    total = sum(len(d.text) for d in example.documents)
    return example.evidence_chars() / total if total else 0.0


def set_stats(spec: str, examples: list[Example], tokenizer) -> SetStats:
    stats = SetStats(spec, len(examples))
    seen: set[tuple[str, int]] = set()
    for ex in examples:
        for doc in ex.documents:
            key = (doc.doc_id, len(doc.text))
            if key not in seen:
                seen.add(key)
                stats.doc_tokens.append(len(tokenizer(doc.text, add_special_tokens=False)["input_ids"]))
        if ex.evidence:
            stats.evidence_shares.append(evidence_share(ex))
            for span in ex.evidence:
                text_len = len(ex.documents[span.doc_index].text) or 1
                stats.evidence_positions.append((span.start + span.end) / 2 / text_len)
    return stats


def _grid(n: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return plt, fig, list(axes.flat)


def plot_histograms(all_stats: list[SetStats], out_dir: Path) -> list[Path]:
    """Write ``data_doc_lengths.png`` and ``data_evidence_positions.png``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    plt, fig, axes = _grid(len(all_stats))
    for ax, stats in zip(axes, all_stats):
        ax.hist(stats.doc_tokens, bins=30, color="#4472c4")
        ax.set_title(f"{stats.spec} ({len(stats.doc_tokens)} docs)", fontsize=9)
        ax.set_xlabel("document length (reader tokens)", fontsize=8)
    fig.suptitle("Document lengths (SmolLM2 tokens)")
    fig.tight_layout()
    written.append(out_dir / "data_doc_lengths.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    with_evidence = [s for s in all_stats if s.evidence_positions]
    plt, fig, axes = _grid(len(with_evidence))
    for ax, stats in zip(axes, with_evidence):
        ax.hist(stats.evidence_positions, bins=20, range=(0, 1), color="#c55a11")
        ax.set_title(f"{stats.spec} ({len(stats.evidence_positions)} spans)", fontsize=9)
        ax.set_xlabel("evidence position (0 = start, 1 = end)", fontsize=8)
    fig.suptitle("Where gold evidence sits in the document")
    fig.tight_layout()
    written.append(out_dir / "data_evidence_positions.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
