"""Reader outcomes memoized on disk, so that rollouts which revisit a context cost nothing.

    memo = OutcomeMemo("runs/x/memo.sqlite")            # SQLite, WAL, one commit per entry
    reader = MemoReader(load_reader(), memo)             # drop-in for HFReader in a ControllerContext
    s = reader.session(question, "qa")
    s.append(chunk_text)                                 # computes nothing: only records the token ids
    gen = s.answer(16)                                   # memo hit: no model call; miss: computed, stored
    memo.stats()                                         # {"hits": .., "misses": .., "hit_rate": ..}

Key: sha256 over (the reader's identity, generation settings, the context token ids + the answer
prompt's ids). Generation is greedy, so an outcome is a pure function of the key. The identity
(:func:`reader_identity`) names what the reader *is*, not what it is called: a content hash of its
weights (the checkpoint's safetensors files, or the tensors of an in-memory model) and of its adapter
(:func:`adactx.fingerprint.adapter_fingerprint`), its dtype, position interpolation (RoPE parameters and
window), attention implementation, prompt template, and the adactx / transformers / torch versions.
Two same-named models with other weights never share an outcome.

Accounting is independent of cache hits: a :class:`MemoSession` reports exactly the ``Usage`` (tokens
computed / reused / generated, FLOPs, calls) that :class:`adactx.reader.HFReaderSession` reports for the same
appends and generations, because it applies the same per-forward formulas in the same order
(``tests/rl/test_rl_memo.py`` checks equality against a real session).

On a miss the wrapper brings one live real session up to the needed context: it keeps the KV cache of
the last context it computed and crops it back to the longest common prefix, so contexts that grow from
one another (a prefix sweep, retrieve-then-extend) are computed about once. The numbers it stores are
what the real reader generated on that context.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

from adactx.rl.safe_io import GuardedConnection

from adactx.fingerprint import adapter_fingerprint, checkpoint_fingerprint, config_key, weights_fingerprint
from adactx.reader import AppendOnlyContext, Generation
from adactx.sqlite_util import BUSY_TIMEOUT_S, retry_while_locked
from adactx.types import Usage

MEMO_KEY_VERSION = 2  # bump when what an outcome depends on changes: old entries then never match

SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    adapter TEXT NOT NULL,
    settings TEXT NOT NULL,
    n_context INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def ids_hash(ids: list[int]) -> str:
    return hashlib.sha256(array("q", ids).tobytes()).hexdigest()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("adactx", "transformers", "torch"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "none"
    return out


def _template_hash(reader) -> str:
    """The prompt layout around the document, for a QA and a summary query."""
    parts = [reader.prompt_parts("{question}", task) for task in ("qa", "summary")]
    return config_key({"parts": parts})


def reader_identity(reader, adapter: str | Path | None = None) -> dict:
    """Everything an ``HFReader``'s greedy outputs depend on besides its input ids (see the docstring).

    A reader behind a server (``adactx.http_reader``) has no weights here to hash: it is keyed on what it
    names (URL and served model), its window and prompt template — a server that swaps the weights behind
    the same name and URL is not told apart; give such a run its own memo."""
    if getattr(reader, "model", None) is None:
        return {
            "memo_key_version": MEMO_KEY_VERSION,
            "served": reader.name,
            "adapter": "",  # whatever the server applies is part of what it serves
            "max_context": reader.max_context,
            "template": _template_hash(reader),
            "versions": _versions(),
        }
    model, cfg = reader.model, reader.model.config
    weights_dir = getattr(reader, "weights_dir", None)
    weights = checkpoint_fingerprint(weights_dir) if weights_dir is not None else None
    adapter = adapter or getattr(reader, "adapter_dir", None)
    return {
        "memo_key_version": MEMO_KEY_VERSION,
        "weights": weights or weights_fingerprint(model),
        "adapter": adapter_fingerprint(adapter) if adapter else "",
        "dtype": str(getattr(model, "dtype", "")),
        "rope": {
            "parameters": getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None),
            "max_position_embeddings": getattr(cfg, "max_position_embeddings", None),
            "max_context": reader.max_context,
        },
        "attention": getattr(cfg, "_attn_implementation", None),
        "template": _template_hash(reader),
        "versions": _versions(),
    }


def outcome_key(model: str, adapter: str, settings: str, context_ids: list[int], tail_ids: list[int]) -> str:
    parts = [model, adapter, settings, ids_hash(context_ids), ids_hash(tail_ids)]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _set_up(conn: sqlite3.Connection) -> None:
    """WAL journal and the schema, retried while another process opening the memo holds the lock."""

    def set_up() -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(SCHEMA)
        conn.commit()

    retry_while_locked(set_up)


class OutcomeMemo:
    """The on-disk store. Survives a crash: WAL journal, every entry committed when written."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        self._db = GuardedConnection(conn, self.path, "memo")
        self._db.guard(_set_up, conn)
        self.hits = 0
        self.misses = 0
        self.on_lookup = None  # called with True (hit) or False (miss) as each lookup happens

    def get(self, key: str) -> dict | None:
        row = self._db.execute("SELECT payload FROM outcomes WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            self._tell(hit=False)
            return None
        self.hits += 1
        self._tell(hit=True)
        return json.loads(row[0])

    def _tell(self, hit: bool) -> None:
        if self.on_lookup is not None:
            self.on_lookup(hit)

    def put(self, key: str, model: str, adapter: str, settings: str, n_context: int, payload: dict) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, model, adapter, settings, n_context, json.dumps(payload), time.time()),
        )
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0])

    def stats(self) -> dict:
        lookups = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hits / lookups if lookups else 0.0,
            "entries": len(self),
        }

    def close(self) -> None:
        self._db.close()


def append_usage(reader, n_new: int, n_past: int) -> Usage:
    """What ``HFReaderSession._forward`` adds for one context forward (an append or the answer prompt)."""
    return Usage(tokens_computed=n_new, tokens_reused=n_past, flops=reader.flops(n_new, n_past), calls=1)


def decode_usage(reader, n_past: int) -> Usage:
    """What one decoding forward (a generated token fed back) adds."""
    return Usage(tokens_computed=1, tokens_reused=0, flops=reader.flops(1, n_past), calls=0)


class MemoReader:
    """Wraps an ``HFReader``: same token helpers, sessions served from the memo when possible."""

    def __init__(self, reader, memo: OutcomeMemo, adapter: str | Path | None = None):
        """``adapter``: the adapter directory merged into ``reader`` (default: ``reader.adapter_dir``)."""
        self.reader = reader
        self.memo = memo
        self.identity = reader_identity(reader, adapter)
        self.model_key = config_key(self.identity)  # keys every outcome of this reader
        self.adapter = self.identity["adapter"]
        self.name = reader.name
        self.max_context = reader.max_context
        self._live = None  # the real HFReaderSession whose KV cache the last miss left behind
        self.model_seconds = 0.0  # time spent in real model calls (misses only)

    # the HFReader surface the controller uses
    def encode(self, text: str) -> list[int]:
        return self.reader.encode(text)

    def count_tokens(self, text: str) -> int:
        return self.reader.count_tokens(text)

    def decode(self, ids: list[int]) -> str:
        return self.reader.decode(ids)

    def flops(self, n_new: int, n_past: int) -> float:
        return self.reader.flops(n_new, n_past)

    def prompt_parts(self, question: str, task: str = "qa") -> tuple[str, str]:
        return self.reader.prompt_parts(question, task)

    def session(self, question: str, task: str = "qa") -> MemoSession:
        head, tail = self.prompt_parts(question, task)
        return MemoSession(self, self.encode(head), self.encode(tail))

    # misses
    def compute(self, pieces: list[list[int]], tail_ids: list[int], max_new_tokens: int) -> Generation:
        """Run the real reader on ``pieces`` (head first) + tail, reusing the live KV prefix."""
        from adactx.reader import HFReaderSession

        if hasattr(self.reader, "compute"):  # a server reader (adactx.http_reader) sends the whole prompt
            t0 = time.perf_counter()
            gen = self.reader.compute(pieces, tail_ids, max_new_tokens)
            self.model_seconds += time.perf_counter() - t0
            return gen
        target = [i for piece in pieces for i in piece]
        live = self._live
        common = 0
        if live is not None:
            limit = min(len(live.context_ids), len(target))
            while common < limit and live.context_ids[common] == target[common]:
                common += 1
        t0 = time.perf_counter()
        if live is None or common < len(pieces[0]):
            live = HFReaderSession(self.reader, pieces[0], tail_ids)  # computes the head
            common = len(pieces[0])
        elif common < len(live.context_ids):
            live._cache.crop(-(len(live.context_ids) - common))  # negative: tokens to drop
            del live.context_ids[common:]
        start = 0
        for piece in pieces:  # append what is missing, piece by piece as the real session would
            end = start + len(piece)
            if end > common:
                live._append_ids(target[max(start, common) : end])
            start = end
        live.tail_ids = list(tail_ids)
        gen = live.generate(max_new_tokens)
        self.model_seconds += time.perf_counter() - t0
        self._live = live
        return gen


@dataclass
class _Stored:
    text: str
    token_ids: list[int]
    mean_logprob: float
    first_token_entropy: float


class MemoSession(AppendOnlyContext):
    """A ``ReaderSession`` (``adactx.protocols``) like ``HFReaderSession``: records appends, computes only on a memo miss."""

    def __init__(self, memo_reader: MemoReader, head_ids: list[int], tail_ids: list[int]):
        self.memo_reader = memo_reader
        self.reader = memo_reader
        self.tail_ids = tail_ids
        self.context_ids: list[int] = []
        self.pieces: list[list[int]] = []
        self.usage = Usage()
        self.seconds = 0.0
        self._append_ids(head_ids)

    def _append_ids(self, ids: list[int]) -> None:
        if not ids:
            return
        self.usage = self.usage + append_usage(self.memo_reader, len(ids), len(self.context_ids))
        self.context_ids.extend(ids)
        self.pieces.append(list(ids))

    def _outcome(self, max_new_tokens: int) -> _Stored:
        r = self.memo_reader
        settings = f"greedy;max_new_tokens={max_new_tokens}"
        key = outcome_key(r.model_key, r.adapter, settings, self.context_ids, self.tail_ids)
        payload = r.memo.get(key)
        if payload is None:
            t0 = time.perf_counter()
            gen = r.compute(self.pieces, self.tail_ids, max_new_tokens)
            payload = {
                "text": gen.text,
                "token_ids": gen.token_ids,
                "mean_logprob": None if not math.isfinite(gen.mean_logprob) else gen.mean_logprob,
                "first_token_entropy": None
                if math.isnan(gen.first_token_entropy)
                else gen.first_token_entropy,
                "seconds": time.perf_counter() - t0,
                "usage": gen.usage.to_dict(),
            }
            r.memo.put(key, r.name, r.adapter, settings, len(self.context_ids), payload)
            self.seconds += payload["seconds"]
        mean_lp = payload["mean_logprob"]
        entropy = payload["first_token_entropy"]
        return _Stored(
            payload["text"],
            list(payload["token_ids"]),
            -math.inf if mean_lp is None else float(mean_lp),
            float("nan") if entropy is None else float(entropy),
        )

    def generate(self, max_new_tokens: int = 16) -> Generation:
        """The greedy generation after ``context + tail``, with the real session's exact accounting."""
        stored = self._outcome(max_new_tokens)
        start_usage = self.usage
        r = self.memo_reader
        n_past = len(self.context_ids)
        self.usage = self.usage + append_usage(r, len(self.tail_ids), n_past)
        n = len(stored.token_ids)
        fed_back = n if n < max_new_tokens else max(max_new_tokens - 1, 0)
        n_past += len(self.tail_ids)
        for j in range(fed_back):
            self.usage = self.usage + decode_usage(r, n_past + j)
        self.usage = self.usage + Usage(tokens_generated=n)
        spent = self.usage - start_usage
        return Generation(
            stored.text, stored.token_ids, stored.mean_logprob, stored.first_token_entropy, spent
        )

    def draft(self, max_new_tokens: int = 8) -> Generation:
        return self.generate(max_new_tokens)

    def answer(self, max_new_tokens: int = 64) -> Generation:
        return self.generate(max_new_tokens)


__all__ = ["MemoReader", "MemoSession", "OutcomeMemo", "outcome_key", "reader_identity"]
