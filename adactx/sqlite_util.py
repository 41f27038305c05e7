"""SQLite habits shared by the session database (``graphs/persistence.py``) and the outcome memo
(``rl/memo.py``): telling a damaged file from a busy one, and opening a new file beside other processes.

    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    retry_while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
    is_damage(exc)   # True for "malformed", "not a database", ...; False for locked, read-only, disk full
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
BUSY_TIMEOUT_S = 60.0  # adactx processes sharing a database wait this long for each other's lock, then fail


def is_damage(exc: Exception) -> bool:
    """SQLite's words for a file whose pages are broken (as opposed to busy or read-only)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and any(
        word in text for word in ("malformed", "not a database", "corrupt", "disk image")
    )


def retry_while_locked(fn: Callable[[], T], timeout_s: float = BUSY_TIMEOUT_S) -> T:
    """``fn()``, retried while SQLite says "database is locked", for up to ``timeout_s`` seconds.

    Processes that open a new database at the same moment (eval workers, shards, two CLI commands) race
    for the switch to WAL, which SQLite refuses at once with "database is locked" rather than waiting its
    busy timeout; ``fn`` must therefore be safe to run again (``CREATE ... IF NOT EXISTS``, pragmas)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
