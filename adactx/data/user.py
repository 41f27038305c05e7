"""The user's own data: a JSONL / JSON / Parquet file of examples, validated before anything runs.

    examples = load_user_data("mine.jsonl")                          # -> list[Example]
    examples = load_user_data("mine.parquet", parse_fields("question=query,answers=gold"))
    adactx eval --data mine.jsonl --fields question=query,answers=gold --policies topk-4,full

One record per example (a JSONL line, an item of a JSON list, a Parquet row):

    document   str            the document's text                 } exactly one of the two
    documents  list[str]      several documents (read in order)   } (items may be {"text", "title"})
    question   str            the question (summary: the instruction; optional there)
    answers    str | list     one reference answer or many (mc: the gold option's letter or text)
    task       str            optional: qa (default) | summary | mc
    options    list[str]      mc only: the choices ("A. ...", or plain texts lettered A, B, ...)
    id         str | int      optional: the example's id (default: file name + line / row)

``--fields NAME=COLUMN,...`` reads a schema field from another column (``question=query``). Every
record is checked before the first model loads or a run directory is written; the first problem is
raised as one line naming the file, the line (JSONL) or item/row, and the field.
"""

from __future__ import annotations

import json
from pathlib import Path

from adactx.errors import AdactxError
from adactx.types import Document, Example

SUFFIXES = (".jsonl", ".json", ".parquet")
FIELDS = ("document", "documents", "question", "answers", "task", "options", "id")
TASKS = {"qa": "qa", "mc": "qa", "summary": "summary"}
DEFAULT_INSTRUCTION = "Summarize the document."


def is_data_file(spec: str) -> bool:
    """True when ``--data`` names a file (by its suffix or because it exists), not a registered set."""
    return spec.lower().endswith(SUFFIXES) or Path(spec).is_file()


def parse_fields(text: str | None) -> dict[str, str]:
    """``question=query,answers=gold`` -> {"question": "query", "answers": "gold"} (schema -> column)."""
    renames: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, column = (s.strip() for s in part.partition("="))
        if not sep or not name or not column:
            raise AdactxError(f"--fields {text!r}: write NAME=COLUMN pairs separated by commas, got {part!r}")
        if name not in FIELDS:
            raise AdactxError(f"--fields: {name!r} is not a schema field; choose from {', '.join(FIELDS)}")
        renames[name] = column
    return renames


def load_user_data(path: str | Path, fields: dict[str, str] | None = None) -> list[Example]:
    """Read and validate every record; raises an ``AdactxError`` at the first bad one."""
    path = Path(path)
    if not path.is_file():
        raise AdactxError(f"--data {path}: no such file")
    if path.suffix.lower() not in SUFFIXES:
        raise AdactxError(f"--data {path}: read .jsonl, .json or .parquet files, not {path.suffix or 'no suffix'}")
    examples = [to_example(record, where, path, fields or {}) for where, record in read_records(path)]
    if not examples:
        raise AdactxError(f"{path}: no records")
    seen: set[str] = set()
    for ex in examples:
        if ex.example_id in seen:
            raise AdactxError(f"{path}: field 'id': {ex.example_id!r} appears twice")
        seen.add(ex.example_id)
    return examples


def read_records(path: Path):
    """(where, record) pairs: ``line N`` (JSONL, blank lines skipped), ``item N`` (JSON), ``row N``."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield f"line {number}", _json(line, path, f"line {number}")
        return
    if suffix == ".json":
        data = _json(path.read_text(encoding="utf-8"), path, "the file")
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise AdactxError(f"{path}: a .json file holds a list of records (or {{\"data\": [...]}})")
        yield from ((f"item {i}", item) for i, item in enumerate(items))
        return
    yield from ((f"row {i}", row) for i, row in enumerate(_parquet_rows(path)))


def _json(text: str, path: Path, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdactxError(f"{path}: {where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc


def _parquet_rows(path: Path) -> list[dict]:
    from datasets import Dataset

    try:
        return list(Dataset.from_parquet(str(path)))
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise AdactxError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from exc


def to_example(record, where: str, path: Path, fields: dict[str, str]) -> Example:
    """One validated ``Example`` from a record; errors name ``path: where: field 'NAME'``."""

    def fail(name: str, problem: str) -> AdactxError:
        column = fields.get(name, name)
        shown = name if column == name else f"{name} (column {column!r})"
        return AdactxError(f"{path}: {where}: field '{shown}': {problem}")

    if not isinstance(record, dict):
        raise AdactxError(f"{path}: {where}: a record is a JSON object, got {type(record).__name__}")
    get = lambda name: record.get(fields.get(name, name))
    kind = get("task") or "qa"
    if kind not in TASKS:
        raise fail("task", f"{kind!r} is not one of {', '.join(TASKS)}")
    docs = _documents(get("document"), get("documents"), fail)
    question = get("question")
    if kind == "summary" and question in (None, ""):
        question = DEFAULT_INSTRUCTION
    if not isinstance(question, str) or not question.strip():
        raise fail("question", "missing or empty (a non-empty string)")
    answers = _answers(get("answers"), fail)
    options = _options(get("options"), kind, fail)
    if options:
        answers = [_gold_letter(a, options, fail) for a in answers]
    ex_id = get("id")
    ex_id = str(ex_id) if ex_id not in (None, "") else f"{path.stem}-{where.split()[-1]}"
    task = TASKS[kind] if kind != "summary" or question == DEFAULT_INSTRUCTION else "query_summary"
    documents = [Document(doc_id=f"{ex_id}-{i}", text=text, title=title, source=str(path))
                 for i, (text, title) in enumerate(docs)]
    return Example(ex_id, task, documents, question.strip(), answers, source=str(path), options=options or None,
                   meta={"file": str(path), "where": where})


def _documents(one, many, fail) -> list[tuple[str, str]]:
    if (one is None) == (many is None):
        raise fail("document", "give exactly one of 'document' (a string) or 'documents' (a list)")
    if one is not None:
        if not isinstance(one, str) or not one.strip():
            raise fail("document", "must be a non-empty string")
        return [(one, "")]
    if not isinstance(many, list) or not many:
        raise fail("documents", "must be a non-empty list of strings")
    docs = []
    for i, item in enumerate(many):
        text, title = (item.get("text"), item.get("title") or "") if isinstance(item, dict) else (item, "")
        if not isinstance(text, str) or not text.strip():
            raise fail("documents", f"item {i} is not a non-empty string (or {{\"text\": ...}})")
        docs.append((text, str(title)))
    return docs


def _answers(value, fail) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise fail("answers", "missing: one reference (a string) or several (a list of strings)")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise fail("answers", "every reference must be a non-empty string")
    return [v.strip() for v in values]


def _options(value, kind: str, fail) -> list[str]:
    if kind != "mc":
        if value not in (None, []):
            raise fail("options", "only task 'mc' takes options")
        return []
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(o, str) and o.strip() for o in value):
        raise fail("options", "task 'mc' needs a list of at least two non-empty strings")
    return list(value)


def _gold_letter(answer: str, options: list[str], fail) -> str:
    """The gold option's letter, from a letter ("B") or the option's text."""
    from adactx.metrics import option_letter, option_text

    letters = [option_letter(o, i) for i, o in enumerate(options)]
    if answer.upper() in letters:
        return answer.upper()
    for letter, option in zip(letters, options):
        if answer in (option, option_text(option)):
            return letter
    raise fail("answers", f"{answer!r} is neither an option letter ({', '.join(letters)}) nor an option's text")


def take(examples: list[Example], n: int | None, seed: int) -> list[Example]:
    """The first ``n`` of a seeded random order (as for the built-in file-backed sets)."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(examples))
    return [examples[i] for i in order[: n or len(examples)]]


__all__ = ["FIELDS", "is_data_file", "load_user_data", "parse_fields", "take", "to_example"]
