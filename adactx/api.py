"""The library façade: build once, ask many questions over one or many documents.

    from adactx import ContextManager

    cm = ContextManager(policy="threshold", budget=2048)
    doc = cm.add("meeting.txt")                      # a path, or text with add_text()
    result = cm.ask("What did they decide?", doc)    # -> Result(answer, trace, usage, run_id)
    print(result.answer, result.trace.context_tokens, "of", result.trace.doc_tokens, "tokens read")

Every session is persisted with LangGraph's SQLite checkpointer (``db``, default
``$ADACTX_SESSION_DB`` or ``$ADACTX_CACHE/sessions.sqlite``) and can be listed, inspected and resumed (``adactx trace``).
The reader, encoder and graphs are built lazily and reused across calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adactx.errors import AdactxError
from adactx.reader import cache_dir
from adactx.types import Document, Trace, Usage

MIN_BUDGET = 64


def default_session_db() -> Path:
    """``$ADACTX_SESSION_DB``, else ``$ADACTX_CACHE/sessions.sqlite``."""
    import os

    return Path(os.environ.get("ADACTX_SESSION_DB") or cache_dir() / "sessions.sqlite")


def check_questions(questions: list[str]) -> None:
    if not questions:
        raise AdactxError("no question: ask something about the document")
    for q in questions:
        if not q or not q.strip():
            raise AdactxError("empty question: ask something about the document")


@dataclass
class Result:
    answer: str
    trace: Trace
    run_id: str

    @property
    def usage(self) -> Usage:
        return self.trace.usage


@dataclass
class _Indexed:
    document: Document
    tree: Any
    index: Any


@dataclass
class ContextManager:
    """Adaptive-context QA and summaries over long documents with the offline reader by default."""

    model: str | None = None
    policy: str | Any = "threshold"
    budget: int = 4096
    max_steps: int = 12
    index_kind: str = "hybrid"
    encoder: str | Any = "minilm"
    chunk_tokens: int = 256
    db: str | Path | None = None
    reader: Any = None
    settings: dict = field(default_factory=dict)  # extra ControllerSettings fields

    def __post_init__(self) -> None:
        if int(self.budget) < MIN_BUDGET:
            raise AdactxError(f"budget {self.budget}: below the minimum of {MIN_BUDGET} tokens")
        if int(self.max_steps) < 1:
            raise AdactxError(f"max_steps {self.max_steps}: must be >= 1")
        self._policy = self._make_policy(self.policy)  # validate the name now, not mid-session
        self._docs: dict[str, _Indexed] = {}
        self._saver = None
        self._encoder = None

    # --- building blocks (lazy) -----------------------------------------------------------------
    @staticmethod
    def _make_policy(policy):
        if isinstance(policy, str):
            from adactx.rl.learned import resolve_policy  # baseline names, or learned:DIR

            return resolve_policy(policy)
        return policy

    def _reader(self):
        if self.reader is None:
            from adactx.reader import load_reader

            self.reader = load_reader(self.model)
        return self.reader

    def _encoder_obj(self):
        if self._encoder is None:
            from adactx.retrieval.encoders import load_encoder

            self._encoder = load_encoder(self.encoder) if isinstance(self.encoder, str) else self.encoder
        return self._encoder

    def checkpointer(self):
        if self._saver is None:
            from adactx.graphs.graph import open_checkpointer

            self._saver = open_checkpointer(self.db or default_session_db())
        return self._saver

    # --- documents ------------------------------------------------------------------------------
    def add(self, path: str | Path, index_dir: str | Path | None = None) -> str:
        """Load, chunk and index a document file (or load its saved index); returns its id."""
        from adactx.retrieval.documents import load_document

        return self.add_document(load_document(path), index_dir=index_dir)

    def add_text(self, text: str, doc_id: str | None = None) -> str:
        from adactx.retrieval.documents import document_from_text

        return self.add_document(document_from_text(text, doc_id=doc_id))

    def add_document(self, document: Document, index_dir: str | Path | None = None) -> str:
        from adactx.retrieval.chunking import build_chunk_tree

        if document.doc_id not in self._docs:
            reader = self._reader()
            tree = build_chunk_tree(document, reader.count_tokens, chunk_tokens=self.chunk_tokens)
            index = self._load_index(tree, index_dir) if index_dir else self._build_index(tree)
            self._docs[document.doc_id] = _Indexed(document, tree, index)
        return document.doc_id

    def _build_index(self, tree):
        from adactx.retrieval.index import cached_index

        encoder = self._encoder_obj() if self.index_kind != "bm25" else None
        return cached_index(tree, self.index_kind, encoder, cache_dir())

    def _load_index(self, tree, index_dir: str | Path):
        from adactx.retrieval.index import ChunkIndex, texts_checksum

        index = ChunkIndex.load(index_dir, encoder=self._encoder_obj())
        if index.texts_sha256 != texts_checksum(tree.texts):
            raise AdactxError(f"{index_dir}: this index was built for another document or chunk size")
        return index

    def chunk_tree(self, doc: str | None = None):
        """The chunk tree (sections > chunks > sentences) of a loaded document."""
        return self._doc(doc).tree

    def chunk_index(self, doc: str | None = None):
        """The retrieval index over a loaded document's chunks."""
        return self._doc(doc).index

    def save_index(self, doc: str | None, directory: str | Path) -> Path:
        """Write a document's index to ``directory`` (reload it with ``add(path, index_dir=...)``)."""
        return self._doc(doc).index.save(directory)

    def _doc(self, doc: str | None) -> _Indexed:
        if doc is None:
            if len(self._docs) != 1:
                raise AdactxError(f"name the document to use: {len(self._docs)} are loaded")
            return next(iter(self._docs.values()))
        if doc not in self._docs:
            raise AdactxError(f"unknown document {doc!r}; add it first (loaded: {', '.join(self._docs) or 'none'})")
        return self._docs[doc]

    # --- sessions -------------------------------------------------------------------------------
    def ask(self, question: str, doc: str | None = None, task: str = "qa", **kw) -> Result:
        return self.ask_many([question], doc, task=task, **kw)[0]

    def summarize(self, doc: str | None = None, instruction: str = "Summarize the document.", **kw) -> Result:
        return self.ask_many([instruction], doc, task="summary", **kw)[0]

    def ask_many(
        self,
        questions: list[str],
        doc: str | None = None,
        task: str = "qa",
        session_id: str | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        on_step: Callable[[Any], None] | None = None,
    ) -> list[Result]:
        """Run one session (one document, these questions); returns a Result per question."""
        from adactx.graphs.graph import build_session_graph, now_iso, session_config

        check_questions(questions)
        indexed = self._doc(doc)
        session_id = session_id or uuid.uuid4().hex[:10]
        ctx = self._context(indexed, on_step)
        graph = build_session_graph(checkpointer=self.checkpointer(), progress=progress)
        meta = {"doc": indexed.document.source or indexed.document.doc_id, "created": now_iso()}
        config = session_config(session_id, self.max_steps, len(questions), meta)
        state = {
            "session_id": session_id,
            "doc_id": indexed.document.doc_id,
            "doc_tokens": indexed.tree.total_tokens,
            "policy": getattr(self._policy, "name", str(self.policy)),
            "task": task,
            "doc_path": indexed.document.source,
            "budget": int(self.budget),
            "max_steps": int(self.max_steps),
            "questions": list(questions),
            "results": [],
            "cursor": 0,
        }
        final = graph.invoke(state, config, context=ctx)
        return [Result(t["answer"], Trace.from_dict(t), session_id) for t in final["results"]]

    def resume(self, session_id: str, doc: str | None = None, on_step=None) -> list[Result]:
        """Finish an interrupted session (its document must be loaded: ``add`` it, or it is re-read
        from the path the session recorded)."""
        from adactx.graphs.graph import build_session_graph, load_session, session_config

        values = load_session(self.checkpointer(), session_id)
        if doc is None and values["doc_id"] not in self._docs:
            if not values.get("doc_path"):
                raise AdactxError(f"session {session_id}: its document was text, not a file; add it first")
            self.add(values["doc_path"])
        indexed = self._doc(doc or values["doc_id"])
        self.budget, self.max_steps = values.get("budget", self.budget), values.get("max_steps", self.max_steps)
        if isinstance(self.policy, str):  # a policy object handed in by an app is kept as it is
            self._policy = self._make_policy(values["policy"])
        graph = build_session_graph(checkpointer=self.checkpointer())
        config = session_config(session_id, self.max_steps, len(values["questions"]))
        final = graph.invoke(None, config, context=self._context(indexed, on_step))
        return [Result(t["answer"], Trace.from_dict(t), session_id) for t in final["results"]]

    def _context(self, indexed: _Indexed, on_step=None):
        from adactx.graphs.context import ControllerContext, ControllerSettings

        settings = ControllerSettings(budget=int(self.budget), max_steps=int(self.max_steps), **self.settings)
        return ControllerContext(
            reader=self._reader(),
            tree=indexed.tree,
            index=indexed.index,
            policy=self._policy,
            settings=settings,
            on_step=on_step,
        )
