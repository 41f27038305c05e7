"""QMSum (Yale-LILY): query-based meeting summarization, with gold evidence spans.

    examples = load_qmsum("val")              # train | val | test; specific and general queries

Each meeting becomes one ``Document`` whose text is its turns as ``"speaker: content"`` lines joined by
``"\\n"``; each query becomes an ``Example`` (task ``query_summary``) over that document. A specific
query's ``relevant_text_span`` turn ranges (inclusive ``[first, last]`` turn indices) become character
``Span``s from the start of the first turn's line to the end of the last one's. General queries have
no gold spans (they concern the whole meeting). ``meta["query_type"]`` is ``specific`` or ``general``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from adactx.data.paths import data_file
from adactx.errors import AdactxError
from adactx.types import Document, Example, Span

SPLITS = ("train", "val", "test")


def _parse(text: str, where: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdactxError(f"{where}: not valid JSON ({exc})") from exc


def iter_meetings(split: str) -> Iterator[tuple[str, str, dict]]:
    """``(meeting_id, where, meeting)`` for every meeting of a split, in file order."""
    if split == "train":
        for path in sorted(data_file("qmsum", "ALL", "train").glob("*.json")):
            yield path.stem, str(path), _parse(path.read_text(encoding="utf-8"), str(path))
        return
    if split not in SPLITS:
        raise AdactxError(f"qmsum: unknown split {split!r}; choose from {', '.join(SPLITS)}")
    path = data_file("qmsum", "ALL", "jsonl", f"{split}.jsonl")
    with path.open(encoding="utf-8") as fh:
        lines = [(n, line) for n, line in enumerate(fh, 1) if line.strip()]
    for i, (n, line) in enumerate(lines):
        yield f"{split}{i:02d}", f"{path}:{n}", _parse(line, f"{path}:{n}")


def transcript(turns: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The transcript text and each turn's ``(start, end)`` character offsets in it."""
    lines = [f"{t['speaker']}: {t['content']}" for t in turns]
    offsets, pos = [], 0
    for line in lines:
        offsets.append((pos, pos + len(line)))
        pos += len(line) + 1
    return "\n".join(lines), offsets


def turn_spans(ranges: list[list[str]], offsets: list[tuple[int, int]], where: str) -> list[Span]:
    """Inclusive turn ranges (as QMSum stores them, strings) -> character spans."""
    spans = []
    for pair in ranges:
        first, last = int(pair[0]), int(pair[1])
        if not 0 <= first <= last < len(offsets):
            raise AdactxError(f"{where}: relevant_text_span {pair} outside turns 0..{len(offsets) - 1}")
        spans.append(Span(0, offsets[first][0], offsets[last][1]))
    return spans


def meeting_examples(meeting: dict, meeting_id: str, split: str, where: str) -> list[Example]:
    """One ``Example`` per specific and general query of a meeting (specific first)."""
    text, offsets = transcript(meeting["meeting_transcripts"])
    doc = Document(doc_id=f"qmsum-{meeting_id}", text=text, title=meeting_id, source="qmsum")
    examples = []
    for kind, key in (("specific", "specific_query_list"), ("general", "general_query_list")):
        for i, item in enumerate(meeting.get(key, [])):
            spans = turn_spans(item.get("relevant_text_span", []), offsets, f"{where} {key}[{i}]")
            examples.append(
                Example(
                    example_id=f"qmsum-{split}-{meeting_id}-{kind[0]}{i}",
                    task="query_summary",
                    documents=[doc],
                    query=item["query"],
                    references=[item["answer"]],
                    evidence=spans,
                    source="qmsum",
                    meta={"query_type": kind, "split": split, "meeting": meeting_id, "n_turns": len(offsets)},
                )
            )
    return examples


def load_qmsum(split: str = "val") -> list[Example]:
    examples = []
    for meeting_id, where, meeting in iter_meetings(split):
        if "meeting_transcripts" not in meeting:
            raise AdactxError(f"{where}: not a QMSum meeting (no meeting_transcripts)")
        examples += meeting_examples(meeting, meeting_id, split, where)
    return examples
