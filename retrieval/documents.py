"""Turn files and strings into :class:`adactx.types.Document`, refusing bad input with one clear line.

    doc = load_document("meeting.txt")          # .txt, .md, .pdf, or a one-document .jsonl
    docs = load_documents("corpus.jsonl")       # every line of a .jsonl (any format gives a list)
    doc = document_from_text("Some text.", doc_id="note")

Formats:
    .txt, .md (and any other suffix)  UTF-8 text (a UTF-8 BOM is dropped, CRLF becomes LF)
    .pdf                              text extracted page by page with ``pypdf``, pages joined by a blank line
    .jsonl                            one JSON object per line; the text is the first field present of
                                      ``TEXT_FIELDS``; a list of speaker turns (``meeting_transcripts``,
                                      ``transcript``, ``turns``: ``{"speaker", "content"}`` objects)
                                      becomes ``"speaker: content"`` lines joined by ``"\\n"`` (QMSum);
                                      the id comes from ``id`` / ``doc_id`` or ``<stem>:<line>``.

Every problem (missing file, empty or whitespace-only file, binary file, non-UTF-8 bytes, malformed
jsonl line, unreadable PDF) raises :class:`adactx.errors.AdactxError` whose message is one line that
names the file (and the line or byte offset where that helps).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from adactx.errors import AdactxError
from adactx.limits import check_document_size
from adactx.types import Document

TEXT_FIELDS: tuple[str, ...] = ("text", "content", "document", "context", "article", "story", "input")
TURN_FIELDS: tuple[str, ...] = ("meeting_transcripts", "transcript", "turns")
ID_FIELDS: tuple[str, ...] = ("id", "doc_id")
TITLE_FIELDS: tuple[str, ...] = ("title",)


def document_from_text(text: str, doc_id: str | None = None, title: str = "", source: str = "") -> Document:
    """A Document from an in-memory string (newlines normalized to LF); empty text is an error.

    Without ``doc_id`` the id is ``text-`` plus the first 12 hex digits of the text's sha256.
    """
    if not isinstance(text, str):
        raise AdactxError(f"document {doc_id!r}: expected text (str), got {type(text).__name__}")
    text = _normalize_newlines(text)
    if not text.strip():
        raise AdactxError(f"document {doc_id or 'text'!r} is empty (no text, or only whitespace)")
    doc_id = doc_id or "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Document(doc_id=doc_id, text=text, title=title, source=source)


def load_document(path: str | Path, line: int | None = None) -> Document:
    """Load one document. For a .jsonl with several lines pass ``line`` (1-based) or use load_documents."""
    path = _existing_file(Path(path))
    one_line = line is not None and path.suffix.lower() == ".jsonl"  # the file may hold many documents
    if not one_line:
        check_document_size(path)  # before reading: a 100 MB file would index for hours
    documents = load_documents(path)
    if line is not None:
        if not 1 <= line <= len(documents):
            raise AdactxError(f"{path}: asked for line {line}, but the file has {len(documents)} document(s)")
        document = documents[line - 1]
        check_document_size(path, size=len(document.text.encode("utf-8")))
        return document
    if len(documents) > 1:
        raise AdactxError(
            f"{path} holds {len(documents)} documents (one per line); choose one with line=N or use load_documents()"
        )
    return documents[0]


def load_documents(path: str | Path) -> list[Document]:
    """Load every document in a file: one for text/markdown/PDF, one per line for .jsonl."""
    path = _existing_file(Path(path))
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return [_load_pdf(path)]
    text = _read_text(path)
    if suffix == ".jsonl":
        return _parse_jsonl(path, text)
    return [document_from_text(text, doc_id=path.stem, title=path.stem, source=str(path))]


# --- files -------------------------------------------------------------------------------------------


def _existing_file(path: Path) -> Path:
    if not path.exists():
        raise AdactxError(f"file not found: {path}")
    if not path.is_file():
        raise AdactxError(f"not a regular file: {path}")
    return path


def _read_text(path: Path) -> str:
    """Decode a file as UTF-8, refusing empty, binary and non-UTF-8 content."""
    data = path.read_bytes()
    if not data:
        raise AdactxError(f"empty file: {path} (0 bytes)")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise AdactxError(f"{path} is UTF-16 text; convert it to UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise AdactxError(f"binary file, not text: {path} (NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[err.start : err.start + 1].hex()
        raise AdactxError(f"{path} is not UTF-8 text: invalid byte 0x{bad} at offset {err.start}") from None
    text = _normalize_newlines(text)
    if not text.strip():
        raise AdactxError(f"empty file: {path} (only whitespace)")
    return text


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_pdf(path: Path) -> Document:
    from pypdf import PdfReader

    try:
        pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    except Exception as err:  # noqa: BLE001 -- a damaged PDF can fail anywhere inside the parser
        reason = " ".join(str(err).split()) or type(err).__name__
        raise AdactxError(f"cannot read PDF {path}: {reason[:160]}") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise AdactxError(f"PDF has no extractable text (scanned images?): {path}")
    return document_from_text(text, doc_id=path.stem, title=path.stem, source=str(path))


# --- jsonl -------------------------------------------------------------------------------------------


def _parse_jsonl(path: Path, text: str) -> list[Document]:
    documents = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            documents.append(_document_from_json_line(path, line_number, line))
    return documents


def _document_from_json_line(path: Path, line_number: int, line: str) -> Document:
    where = f"{path}:{line_number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise AdactxError(f"{where}: malformed JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(record, dict):
        raise AdactxError(f"{where}: expected a JSON object, got {type(record).__name__}")
    text = _text_of_record(record, where)
    doc_id = str(_first_field(record, ID_FIELDS) or f"{path.stem}:{line_number}")
    title = str(_first_field(record, TITLE_FIELDS) or "")
    return document_from_text(text, doc_id=doc_id, title=title, source=where)


def _text_of_record(record: dict[str, Any], where: str) -> str:
    for name in TEXT_FIELDS:
        if name in record:
            value = record[name]
            if not isinstance(value, str):
                raise AdactxError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
            if not value.strip():
                raise AdactxError(f"{where}: field {name!r} is empty")
            return value
    for name in TURN_FIELDS:
        if name in record:
            return _join_turns(record[name], where, name)
    expected = ", ".join(TEXT_FIELDS + TURN_FIELDS)
    raise AdactxError(f"{where}: no text field (expected one of: {expected})")


def _join_turns(turns: Any, where: str, name: str) -> str:
    """Speaker turns -> ``"speaker: content"`` lines joined by ``"\\n"`` (the QMSum convention)."""
    if not isinstance(turns, list) or not turns:
        raise AdactxError(f"{where}: field {name!r} must be a non-empty list of turns")
    lines = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get("content"), str):
            raise AdactxError(f"{where}: field {name!r}, turn {index}: expected {{'speaker', 'content'}}")
        speaker = str(turn.get("speaker", "")).strip()
        lines.append(f"{speaker}: {turn['content']}" if speaker else turn["content"])
    return "\n".join(lines)


def _first_field(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if record.get(name) not in (None, ""):
            return record[name]
    return None
