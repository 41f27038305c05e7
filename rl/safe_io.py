"""The evaluation's files, written and read so that a kill, a torn write or a damaged file is survivable.

    write_json_atomically(run / "config.json", cfg.to_dict())   # tmp + fsync + os.replace: never torn
    old = read_run_config(run / "config.json")                   # torn/damaged -> one line, what to do
    repair_records(run / "records.jsonl")                        # torn tail cut; damaged lines warned and
                                                                 # moved to records.jsonl.damaged
    append_record(run / "records.jsonl", record)                 # one line, under the run's lock file
    memo.on_lookup = LookupJournal(run).record                   # memo hits/misses kept as they happen
    conn = GuardedConnection(sqlite3.connect(path), path, "memo")  # SQLite errors name the file
    check_data_spec("nosuchset")                                 # fails before any run directory exists

``rl/evaluate.py`` calls these from single lines, so its layout can change without touching them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adactx.errors import AdactxError
from adactx.sqlite_util import is_damage

log = logging.getLogger(__name__)

LOOKUPS_LOG = "memo_lookups.log"  # one byte per memo lookup: b"h" hit, b"m" miss (append-only)
LOOKUPS_JSON = "memo_lookups.json"  # the totals, as earlier versions kept them


def write_json_atomically(path: Path, obj: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never a torn mix."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(obj, indent=2))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """A JSON file's content, or a one-line error naming the file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AdactxError(f"{path}: not valid JSON ({exc})") from None


def read_run_config(path: Path) -> dict:
    """A run directory's config.json, or a one-line error saying how to go on."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AdactxError(
            f"{path}: torn or damaged run config ({type(exc).__name__}); "
            "its records cannot be matched to settings: use another --out, or delete the file to start over"
        ) from None
    if not isinstance(data, dict):
        raise AdactxError(f"{path}: not a run config (expected a JSON object); use another --out")
    return data


@contextlib.contextmanager
def records_lock(path: Path) -> Iterator[None]:
    """Hold ``records.jsonl.lock`` (``flock``) while appending to or repairing ``path``.

    Several processes write one run directory (``--workers N``, shards into one ``--out``): each record is
    appended under this lock, so lines never interleave, and a repair (which rewrites the file) never runs
    while another process is mid-line. The lock file, not the records file, is locked: a repair replaces
    the records file, and a lock on the old one would no longer exclude anyone."""
    lock_path = Path(path).with_name(Path(path).name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock (and a killed process's lock goes with it)


def append_record(path: Path, record: dict) -> None:
    """Append one record as one line, under :func:`records_lock`; on disk (flushed) when this returns."""
    line = (json.dumps(record) + "\n").encode("utf-8")
    with records_lock(path), open(path, "ab") as fh:
        fh.write(line)
        fh.flush()


def repair_records(path: Path) -> int:
    """Make ``records.jsonl`` clean for appending; returns how many damaged lines were set aside.

    A last line without its newline is a write the process was killed in: cut silently. A line in the
    middle that is not a JSON object is damage: warned about, moved to ``records.jsonl.damaged`` (its
    episode is recomputed) and the file rewritten without it. Runs under :func:`records_lock`, so it is
    safe while other processes append to the same file.
    """
    path = Path(path)
    if not path.exists():
        return 0
    with records_lock(path):
        return _repair_locked(path)


def _repair_locked(path: Path) -> int:
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    good, bad = [], []
    for line in complete.splitlines(keepends=True):
        (good if _is_record(line) else bad).append(line)
    if bad:
        with open(path.with_name(path.name + ".damaged"), "ab") as fh:
            fh.writelines(line if line.endswith(b"\n") else line + b"\n" for line in bad)
        log.warning(
            "%s: %d damaged line(s) set aside in %s.damaged; their episodes will be recomputed",
            path,
            len(bad),
            path.name,
        )
    if bad or len(complete) != len(data):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(b"".join(good))
        os.replace(tmp, path)
    return len(bad)


def _is_record(line: bytes) -> bool:
    if not line.strip():
        return False
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(record, dict) and "example_id" in record and "policy" in record


class LookupJournal:
    """This run directory's memo lookups, one appended byte each, so a kill loses none of them."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOOKUPS_LOG
        if not self.path.exists():  # carry over the totals an earlier version kept in the JSON file
            before = read_lookups(run_dir)
            with contextlib.suppress(FileExistsError), open(self.path, "xb") as fh:  # another worker's wins
                fh.write(b"h" * before["hits"] + b"m" * before["misses"])

    def record(self, hit: bool) -> None:
        with open(self.path, "ab", buffering=0) as fh:  # one unbuffered append: on disk when this returns
            fh.write(b"h" if hit else b"m")


def read_lookups(run_dir: Path) -> dict:
    """Hits and misses over every invocation on this run directory (the journal, else the JSON totals)."""
    run_dir = Path(run_dir)
    journal = run_dir / LOOKUPS_LOG
    if journal.exists():
        data = journal.read_bytes()
        return {"hits": data.count(b"h"), "misses": data.count(b"m")}
    try:
        saved = json.loads((run_dir / LOOKUPS_JSON).read_text())
        return {"hits": int(saved["hits"]), "misses": int(saved["misses"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {"hits": 0, "misses": 0}


class GuardedConnection:
    """A ``sqlite3.Connection`` whose errors become one line naming the file and what to do."""

    def __init__(self, conn: sqlite3.Connection, path: Path, what: str):
        self._conn, self.path, self.what = conn, Path(path), what

    def execute(self, *args):
        return self.guard(self._conn.execute, *args)

    def commit(self):
        return self.guard(self._conn.commit)

    def close(self):
        return self._conn.close()

    def guard(self, fn, *args):
        """``fn(*args)`` with its SQLite errors told as one line."""
        try:
            return fn(*args)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):  # locked, read-only, disk full
                raise AdactxError(f"{self.path}: cannot use the {self.what} database ({exc})") from None
            raise AdactxError(
                f"{self.path}: {self.what} database is damaged ({exc}); delete it (its outcomes are "
                "recomputed on demand) or pass another file with --memo"
            ) from None


def check_data_spec(spec: str) -> None:
    """Fail on an unknown data set or split before a run directory is made or a reader loaded."""
    if Path(spec).is_file():  # a data file given directly
        return
    from adactx.data.registry import parse_spec

    parse_spec(spec)
