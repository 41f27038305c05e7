"""BAMBOO (RUCAIBox): long-text multiple-choice QA (meetingqa, paperqa) and number QA (altqa).

    load_bamboo("paperqa_16k")     # meetingqa_4k | paperqa_4k | paperqa_16k | altqa_4k

meetingqa / paperqa: ``content`` is the document, ``options`` the four choices ("A. ..."), the
reference is the gold letter, and BAMBOO's ``evidence`` text (sentences copied from the document,
sometimes joined with "..." or double spaces) is located in the document fragment by fragment,
whitespace-insensitively (a fragment whose middle differs is matched by its first and last 40
characters), to give gold ``Span``s; annotator paraphrases are not found; ``meta["evidence_located"]`` is the share of the
evidence text found. altqa: ``content`` wraps an instruction, "Document:" and "Question:", which are
split apart; the answer is a number. Lines that are not JSON are skipped with a warning naming the file
and line (``paperqa_16k.jsonl`` has one); raw control characters inside strings are tolerated.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

from adactx.data.paths import data_file
from adactx.errors import AdactxError
from adactx.metrics import option_letter
from adactx.types import Document, Example, Span

SUBSETS = ("meetingqa_4k", "paperqa_4k", "paperqa_16k", "altqa_4k")
MIN_FRAGMENT_CHARS = 20
_FRAGMENT_SPLIT = re.compile(r"\s{2,}|\.\.\.|…|(?<=[.!?])\s+(?=[A-Z])")


def read_jsonl_lenient(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line_number, record)`` for each JSON line; malformed lines are skipped with a warning."""
    with path.open(encoding="utf-8") as fh:
        for line_number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield line_number, json.loads(line, strict=False)
            except json.JSONDecodeError as exc:
                warnings.warn(f"{path}:{line_number}: skipped a malformed line ({exc})", stacklevel=2)


def parse_options(raw) -> list[str]:
    """BAMBOO stores options as a JSON list or a Python list literal, as a string."""
    if isinstance(raw, list):
        return [str(o) for o in raw]
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(raw)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, list):
            return [str(o) for o in value]
    raise ValueError(f"options are not a list: {str(raw)[:60]!r}")


_LETTERED = re.compile(r"^\s*[A-Z]\s*[.:)]")


def lettered_options(options: list[str]) -> list[str]:
    """Only the options that start with a letter ("A. ...", "B: ..."): BAMBOO's option lists sometimes
    carry stray document sentences after the four choices."""
    return [o for o in options if _LETTERED.match(o)]


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """Whitespace runs collapsed to one space, and each kept character's index in ``text``."""
    chars, index = [], []
    for i, ch in enumerate(text):
        if ch.isspace():
            if chars and chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        index.append(i)
    return "".join(chars), index


def find_fragment(piece: str, norm_doc: str, anchor: int = 40) -> tuple[int, int] | None:
    """Where ``piece`` sits in the normalized document: exactly, or between its first and last
    ``anchor`` characters when the middle differs a little (HTML entities, edits); None otherwise."""
    at = norm_doc.find(piece)
    if at >= 0:
        return at, at + len(piece)
    if len(piece) < 2 * anchor:
        return None
    start = norm_doc.find(piece[:anchor])
    end = norm_doc.find(piece[-anchor:], start + anchor) if start >= 0 else -1
    if end < 0 or end + anchor - start > 1.5 * len(piece):
        return None
    return start, end + anchor


def locate_evidence(evidence: str, document: str) -> tuple[list[Span], float]:
    """Spans of the evidence fragments found in ``document`` (merged when only whitespace separates
    them) and the share of the evidence text found."""
    norm_doc, index = _normalized_with_map(document)
    pieces = [" ".join(p.split()) for p in _FRAGMENT_SPLIT.split(evidence)]
    pieces = [p for p in pieces if len(p) >= MIN_FRAGMENT_CHARS]
    found, located = [], 0
    for piece in pieces:
        hit = find_fragment(piece, norm_doc)
        if hit is None:
            continue
        located += len(piece)
        found.append((index[hit[0]], index[hit[1] - 1] + 1))
    spans: list[list[int]] = []
    for start, end in sorted(found):
        if spans and (start <= spans[-1][1] or not document[spans[-1][1] : start].strip()):
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    total = sum(len(p) for p in pieces)
    return [Span(0, s, e) for s, e in spans], (located / total if total else 0.0)


def choice_example(record: dict, subset: str, line_number: int) -> Example | None:
    """A multiple-choice example, or None when fewer than two lettered options can be read or the
    gold letter is not among them."""
    options = lettered_options(parse_options(record["options"]))
    answer = record["answer"].strip()
    if len(options) < 2 or answer not in {option_letter(o, i) for i, o in enumerate(options)}:
        return None
    content = record["content"]
    spans, located = locate_evidence(record.get("evidence", ""), content)
    return Example(
        example_id=f"bamboo-{subset}-{line_number}",
        task="qa",
        documents=[
            Document(doc_id=f"bamboo-{subset}-{line_number}", text=content, source=f"bamboo/{subset}")
        ],
        query=record["question"],
        references=[answer],
        evidence=spans,
        source=f"bamboo/{subset}",
        options=options,
        meta={"subset": subset, "line": line_number, "evidence_located": located},
    )


def split_altqa_content(content: str) -> tuple[str, str, str]:
    """``(instruction, document, question)``; BAMBOO puts "Question:" before or after "Document:"."""
    marks = {name: content.find(f"\n{name}:\n") for name in ("Document", "Question")}
    if min(marks.values()) < 0:
        raise ValueError("content lacks the 'Document:' / 'Question:' sections")
    order = sorted(marks, key=marks.get)
    bounds = [marks[order[0]], marks[order[1]], len(content)]
    sections = {
        name: content[bounds[i] + len(name) + 3 : bounds[i + 1]].strip() for i, name in enumerate(order)
    }
    return content[: bounds[0]].strip(), sections["Document"], sections["Question"]


def altqa_example(record: dict, line_number: int) -> Example:
    head, document, question = split_altqa_content(record["content"])
    return Example(
        example_id=f"bamboo-altqa_4k-{line_number}",
        task="qa",
        documents=[
            Document(doc_id=f"bamboo-altqa_4k-{line_number}", text=document, source="bamboo/altqa_4k")
        ],
        query=question,
        references=[str(record["answer"]).strip()],
        source="bamboo/altqa_4k",
        meta={"subset": "altqa_4k", "line": line_number, "instruction": head.strip()},
    )


def load_bamboo(subset: str) -> list[Example]:
    if subset not in SUBSETS:
        raise AdactxError(f"bamboo: unknown subset {subset!r}; choose from {', '.join(SUBSETS)}")
    path = data_file("bamboo", f"{subset}.jsonl")
    examples, unusable = [], []
    for line_number, record in read_jsonl_lenient(path):
        try:
            example = (
                altqa_example(record, line_number)
                if subset == "altqa_4k"
                else choice_example(record, subset, line_number)
            )
        except (KeyError, ValueError) as exc:
            raise AdactxError(f"{path}:{line_number}: not a BAMBOO {subset} item ({exc})") from exc
        if example is None:
            unusable.append(line_number)
        else:
            examples.append(example)
    if unusable:
        lines = ", ".join(map(str, unusable))
        warnings.warn(f"{path}: skipped lines {lines}: no usable lettered options", stacklevel=2)
    return examples
