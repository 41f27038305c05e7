"""The session database: LangGraph's SQLite checkpointer, made safe to open when the file is untrusted.

    saver = open_checkpointer("~/.cache/adactx/sessions.sqlite")   # -> SessionSaver

Two things differ from ``SqliteSaver(conn)``:

* **A strict serializer.** LangGraph's default serializer imports and calls any ``module.name`` a
  checkpoint names (msgpack "ext" constructors, lc-JSON constructors, optionally pickle), so a crafted
  ``sessions.sqlite`` could run ``os.system`` on `adactx trace list`. ``StrictSerializer`` is
  ``JsonPlusSerializer`` with pickle off, no JSON constructors and msgpack types limited to LangGraph's
  own safe allowlist (``SAFE_MSGPACK_TYPES``); a checkpoint naming anything else is *refused* with an
  ``UnsafeCheckpointError`` (LangGraph's strict mode would only skip the call and go on silently).
  adactx's own state is plain JSON-like values (``graphs/state.py``), so nothing legitimate is refused.
* **One-line errors for a damaged file.** Every SQLite error while reading or writing (``database disk
  image is malformed``, ``file is not a database``) becomes an ``AdactxError`` that names the file and
  what to do.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ormsgpack
from langgraph.checkpoint.serde import _msgpack as lg_msgpack
from langgraph.checkpoint.serde import jsonplus
from langgraph.checkpoint.sqlite import SqliteSaver

from adactx.errors import AdactxError
from adactx.sqlite_util import BUSY_TIMEOUT_S, is_damage, retry_while_locked

# msgpack ext codes that make the loader import ``module.name`` and call it (see jsonplus.py)
_CONSTRUCTOR_CODES = {
    jsonplus.EXT_CONSTRUCTOR_SINGLE_ARG,
    jsonplus.EXT_CONSTRUCTOR_POS_ARGS,
    jsonplus.EXT_CONSTRUCTOR_KW_ARGS,
    jsonplus.EXT_PYDANTIC_V1,
    jsonplus.EXT_PYDANTIC_V2,
}
_LOADABLE_TYPES = ("null", "bytes", "bytearray", "msgpack")  # never "pickle", never lc-"json"


class UnsafeCheckpointError(AdactxError):
    """A checkpoint names a type or encoding adactx never writes: the file was crafted or is foreign."""


class StrictSerializer(jsonplus.JsonPlusSerializer):
    """``JsonPlusSerializer`` that refuses, rather than skips, anything outside the safe allowlist."""

    def __init__(self) -> None:
        super().__init__(pickle_fallback=False, allowed_json_modules=None, allowed_msgpack_modules=None)
        self._strict_hook = self._unpack_ext_hook  # LangGraph's own strict hook (allowlist = safe types)
        self._custom_unpack_ext_hook = True  # keep ``_refusing_hook`` in clones (with_msgpack_allowlist)
        self._unpack_ext_hook = self._refusing_hook
        self._refusal = threading.local()  # the refusal behind ormsgpack's generic "ext_hook failed"

    def with_msgpack_allowlist(self, extra_allowlist) -> StrictSerializer:
        """LangGraph adds the state schema's types when a graph is compiled; ours are plain values, and a
        type named there still has to pass ``SAFE_MSGPACK_TYPES`` here: the allowlist never grows."""
        return self

    def _refusing_hook(self, code: int, data: bytes) -> Any:
        if code in _CONSTRUCTOR_CODES or code == jsonplus.EXT_METHOD_SINGLE_ARG:
            target = ormsgpack.unpackb(data, ext_hook=self._refusing_hook, option=ormsgpack.OPT_NON_STR_KEYS)
            if not self._allowed(code, target):
                name = ".".join(str(part)[:60] for part in target[:2]) if isinstance(target, list) else "?"
                self._refusal.error = UnsafeCheckpointError(
                    f"a checkpoint names {name}, which adactx never stores: refused"
                )
                raise self._refusal.error
        return self._strict_hook(code, data)

    @staticmethod
    def _allowed(code: int, target: Any) -> bool:
        method = code == jsonplus.EXT_METHOD_SINGLE_ARG
        if not isinstance(target, list) or len(target) < (4 if method else 3):
            return False
        names = (target[0], target[1], target[3]) if method else (target[0], target[1])
        if not all(isinstance(part, str) for part in names):
            return False
        return names in (lg_msgpack.SAFE_MSGPACK_METHODS if method else lg_msgpack.SAFE_MSGPACK_TYPES)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        if data[0] not in _LOADABLE_TYPES:
            raise UnsafeCheckpointError(
                f"a checkpoint is encoded as {str(data[0])[:40]!r}, which adactx never writes: refused"
            )
        self._refusal.error = None
        try:
            return super().loads_typed(data)
        except (ValueError, TypeError) as exc:  # ormsgpack says only "ext_hook failed": name the refusal
            if self._refusal.error is not None:
                raise self._refusal.error from None
            raise UnsafeCheckpointError(
                f"a checkpoint cannot be decoded ({exc}): damaged or foreign"
            ) from None


class SessionSaver(SqliteSaver):
    """``SqliteSaver`` with the strict serializer; SQLite errors name the file and the way out."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(conn, serde=StrictSerializer())
        self.path = path

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        try:
            with super().cursor(transaction) as cur:
                yield cur
        except sqlite3.DatabaseError as exc:
            raise damaged_database(self.path, exc) from None
        except UnsafeCheckpointError as exc:
            raise UnsafeCheckpointError(f"{self.path}: {exc}; do not use this session database") from None


def damaged_database(path: Path, exc: Exception) -> AdactxError:
    if not is_damage(exc):  # locked, read-only, disk full: the file itself may be fine
        return AdactxError(f"{path}: cannot use the session database ({exc}); pick another with --db")
    return AdactxError(
        f"{path}: session database is damaged ({exc}); move it aside (its sessions are lost) "
        "or pick another file with --db / $ADACTX_SESSION_DB"
    )


def open_checkpointer(path: str | Path) -> SessionSaver:
    """The session database at ``path`` (created if missing), with the strict serializer."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        saver = SessionSaver(conn, path)
        retry_while_locked(saver.setup)  # a new file opened by two processes at once
    except sqlite3.DatabaseError as exc:
        raise damaged_database(path, exc) from None
    return saver


# --- the document a session read ------------------------------------------------------------------
def text_digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_doc_path(source: str) -> str:
    """What a session records as its document's path: absolute (so `trace resume` works from any
    directory); ``FILE.jsonl:LINE`` keeps its line. Empty for a document made from text."""
    if not source:
        return ""
    path, line = _split_line(source)
    absolute = str(Path(path).expanduser().resolve())
    return f"{absolute}:{line}" if line else absolute


def load_session_document(values: dict, session_id: str):
    """The document a session read, from the path it recorded; refused unless the path is absolute
    and the file still holds the same text (a crafted ``doc_path`` cannot make resume read other files)."""
    from adactx.retrieval.documents import load_document

    recorded, digest = values.get("doc_path") or "", values.get("doc_sha256") or ""
    if not recorded:
        raise AdactxError(f"session {session_id}: its document was text, not a file; add it first")
    path, line = _split_line(recorded)
    if not Path(path).is_absolute() or ".." in Path(path).parts or not digest:
        raise AdactxError(
            f"session {session_id}: recorded document path {recorded!r} is not a checked absolute path; "
            "pass the document with --doc"
        )
    document = load_document(path, line=line)
    if text_digest(document.text) != digest:
        raise AdactxError(
            f"session {session_id}: {path} no longer holds the document this session read; pass it with --doc"
        )
    return document


def _split_line(source: str) -> tuple[str, int | None]:
    head, sep, tail = source.rpartition(":")
    if sep and tail.isdigit() and head.lower().endswith(".jsonl"):
        return head, int(tail)
    return source, None
