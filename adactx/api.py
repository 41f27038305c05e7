"""The library façade: build once, ask many questions over one or many documents.

    from adactx import ContextManager

    cm = ContextManager(policy="threshold", budget=2048)
    doc = cm.add("meeting.txt")                      # a path, or text with add_text()
    result = cm.ask("What did they decide?", doc)    # -> Result(answer, trace, usage, session_id)
    print(result.answer, result.trace.context_tokens, "of", result.trace.doc_tokens, "tokens read")

Every session is persisted with a LangGraph checkpointer: by default SQLite (``db``, default
``$ADACTX_SESSION_DB`` or ``$ADACTX_CACHE/sessions.sqlite``), and can be listed, inspected and resumed
(``adactx trace``); ``checkpointer=`` takes any LangGraph checkpointer instead (``MemorySaver()``, a
``SqliteSaver``, a Postgres saver). The reader, encoder and graphs are built lazily and reused across calls.

For an app's own LangGraph graph: ``cm.controller_context(doc)`` is the run-time context the controller
graph (``adactx.graphs.build_controller()``) needs; ``ask_many(..., on_event=...)`` receives the answer's
text as it is generated (the controller's ``stream_mode="custom"`` events).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adactx.config import (
    DEFAULT_ENCODER,
    DEFAULT_POLICY,
    ControllerSettings,
    DocumentSettings,
    field_default,
    values_of,
)
from adactx.errors import AdactxError
from adactx.limits import InputLimits, check_budget, check_question_length
from adactx.reader import cache_dir
from adactx.types import Document, Step, Trace, Usage

if TYPE_CHECKING:
    from adactx.retrieval.indexed import IndexedDocument

MIN_BUDGET = InputLimits.min_budget


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
        check_question_length(q)


@dataclass
class Result:
    """One question's answer and trace. ``session_id`` names the session (``adactx trace show ID``);
    ``trace.run_id`` names this question's run within it (``<session_id>/<i>``)."""

    answer: str
    trace: Trace
    session_id: str

    @property
    def usage(self) -> Usage:
        return self.trace.usage

    @property
    def run_id(self) -> str:
        """The former name of ``session_id`` (kept for callers written before the rename)."""
        return self.session_id


@dataclass
class ContextManager:
    """Adaptive-context QA and summaries over long documents with the offline reader by default.

    ``settings`` (an ``adactx.config.ControllerSettings``, or a dict of its fields) holds the controller's
    knobs; ``budget`` and ``max_steps`` are shortcuts that override it (None: the settings' value).
    """

    model: str | None = None
    adapter: str | None = None  # PEFT adapter directory (e.g. from `adactx train sft`), merged on load
    policy: str | Any = DEFAULT_POLICY
    budget: int | None = None
    max_steps: int | None = None
    index_kind: str = field_default(DocumentSettings, "index_kind")
    encoder: str | Any = DEFAULT_ENCODER
    chunk_tokens: int = field_default(DocumentSettings, "chunk_tokens")
    db: str | Path | None = None
    reader: Any = None  # a reader object, or a spec: ReaderSpec | dict | "hf" | "openai:URL" (adactx.reader_spec)
    settings: ControllerSettings | dict = field(default_factory=ControllerSettings)
    device: str = "auto"  # the local reader's device: cpu | cuda | auto
    checkpointer: Any = None  # any LangGraph checkpointer (MemorySaver, SqliteSaver...); None: SQLite at ``db``

    def __post_init__(self) -> None:
        base = values_of(ControllerSettings, self.settings) if is_dataclass(self.settings) else {}
        extra = self.settings if isinstance(self.settings, dict) else {}
        shortcuts = {"budget": self.budget, "max_steps": self.max_steps}
        values = {**base, **extra, **{k: v for k, v in shortcuts.items() if v is not None}}
        check_budget(values.get("budget", field_default(ControllerSettings, "budget")))
        if int(values.get("max_steps", 1)) < 1:
            raise AdactxError(f"max_steps {values['max_steps']}: must be >= 1")
        self.settings = ControllerSettings(**values)
        self.budget, self.max_steps = self.settings.budget, self.settings.max_steps
        self.documents = DocumentSettings(chunk_tokens=self.chunk_tokens, index_kind=self.index_kind)
        self._policy = self._make_policy(self.policy)  # validate the name now, not mid-session
        from adactx.reader_spec import ReaderSpec, parse_reader

        if self.reader is None or isinstance(self.reader, (str, dict, ReaderSpec)):  # a spec: checked now, built
            # on first use; any other object is the app's own reader, kept as it is
            self.reader = parse_reader(self.reader, model=self.model, device=self.device, adapter=self.adapter)
        self._docs: dict[str, IndexedDocument] = {}
        self._saver = self.checkpointer
        self._encoder = None

    def controller_settings(self) -> ControllerSettings:
        """The settings a session runs with (``budget``/``max_steps`` may have been set since)."""
        return replace(self.settings, budget=int(self.budget), max_steps=int(self.max_steps))

    # --- building blocks (lazy) -----------------------------------------------------------------
    @staticmethod
    def _make_policy(policy):
        if isinstance(policy, str):
            from adactx.rl.learned import resolve_policy  # baseline names, or learned:DIR

            return resolve_policy(policy)
        return policy

    def _reader(self):
        from adactx.reader_spec import as_reader

        self.reader = as_reader(self.reader)  # a spec is built once; a reader object is kept
        return self.reader

    def _encoder_obj(self):
        if self._encoder is None:
            from adactx.retrieval.encoders import load_encoder

            self._encoder = load_encoder(self.encoder) if isinstance(self.encoder, str) else self.encoder
        return self._encoder

    def saver(self):
        """The checkpointer sessions are saved with: ``checkpointer=``, else the SQLite database ``db``."""
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
        from adactx.retrieval.indexed import IndexedDocument, chunk_document, index_document

        if document.doc_id not in self._docs:
            reader = self._reader()
            if index_dir:
                tree = chunk_document(document, reader.count_tokens, self.documents)
                indexed = IndexedDocument(document, tree, self._load_index(tree, index_dir))
            else:
                encoder = self._encoder_obj() if self.index_kind != "bm25" else None
                indexed = index_document(document, reader.count_tokens, self.documents, encoder, cache_dir())
            self._docs[document.doc_id] = indexed
        return document.doc_id

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

    def _doc(self, doc: str | None) -> IndexedDocument:
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
        on_event: Callable[[dict], None] | None = None,
        on_result: Callable[[Result], None] | None = None,
    ) -> list[Result]:
        """Run one session (one document, these questions); returns a Result per question.

        Callbacks while it runs: ``progress(i, n, question)`` before each question, ``on_step(step)``
        after each controller step, ``on_event(event)`` with the answer's text as it is generated
        (``{"kind": "token", "run_id", "text"}``; summaries also ``{"kind": "part", "done", "parts"}``),
        ``on_result(result)`` as soon as each question's answer is ready."""
        from adactx.graphs.graph import build_session_graph, now_iso, session_config
        from adactx.graphs.persistence import stored_doc_path, text_digest

        check_questions(questions)
        indexed = self._doc(doc)
        session_id = session_id or uuid.uuid4().hex[:10]
        graph = build_session_graph(checkpointer=self.saver(), progress=progress)
        meta = {
            "doc": indexed.document.source or indexed.document.doc_id,
            "created": now_iso(),
            # for the record (`recorded_settings`); LangGraph keeps only scalar metadata, hence JSON text
            "settings": json.dumps(asdict(self.controller_settings())),
        }
        config = session_config(session_id, self.max_steps, len(questions), meta)
        state = {
            "session_id": session_id,
            "doc_id": indexed.document.doc_id,
            "doc_tokens": indexed.tree.total_tokens,
            "policy": getattr(self._policy, "name", str(self.policy)),
            "task": task,
            "doc_path": stored_doc_path(indexed.document.source),
            "doc_sha256": text_digest(indexed.document.text),
            "questions": list(questions),
            "results": [],
            "cursor": 0,
        }
        ctx = self._context(indexed)
        return _run_session(graph, state, config, ctx, session_id, on_event, on_result, on_step)

    def resume(
        self, session_id: str, doc: str | None = None, on_step=None, on_event=None, on_result=None
    ) -> list[Result]:
        """Finish an interrupted session (its document must be loaded: ``add`` it, or it is re-read
        from the path the session recorded). It runs with this façade's settings; the ones the session
        started with are in ``adactx.graphs.graph.recorded_settings`` (``adactx trace resume`` uses them)."""
        from adactx.graphs.graph import build_session_graph, load_session, session_config
        from adactx.graphs.persistence import load_session_document

        values = load_session(self.saver(), session_id)
        if doc is None and values["doc_id"] not in self._docs:
            self.add_document(load_session_document(values, session_id))
        indexed = self._doc(doc or values["doc_id"])
        if isinstance(self.policy, str):  # a policy object handed in by an app is kept as it is
            self._policy = self._make_policy(values["policy"])
        graph = build_session_graph(checkpointer=self.saver())
        config = session_config(session_id, self.max_steps, len(values["questions"]))
        return _run_session(graph, None, config, self._context(indexed), session_id, on_event, on_result, on_step)

    def controller_context(self, doc: str | None = None, on_step: Callable[[Any], None] | None = None):
        """The run-time context (``adactx.graphs.ControllerContext``) the controller graph needs to answer
        about a loaded document: this façade's reader, the document's chunk tree and index, the policy and
        settings. Hand it to ``build_controller().invoke(..., context=...)`` or to an app's own graph that
        runs the controller as a subgraph; loads the reader on first use."""
        return self._context(self._doc(doc), on_step)

    def _context(self, indexed: IndexedDocument, on_step=None):
        from adactx.graphs.context import ControllerContext

        return ControllerContext(
            reader=self._reader(),
            tree=indexed.tree,
            index=indexed.index,
            policy=self._policy,
            settings=self.controller_settings(),
            on_step=on_step,
        )


def _run_session(
    graph, state, config: dict, ctx, session_id: str, on_event=None, on_result=None, on_step=None
) -> list[Result]:
    """Stream a session graph to its end: custom events to ``on_event`` (tokens, summary parts), each
    finished step to ``on_step`` and each finished question's Result to ``on_result``, all in the order
    the graph produced them (a step's line never overtakes its answer's last piece); returns every
    Result of the session."""
    final: dict = {}
    modes = ["custom", "updates", "values"]
    for namespace, mode, chunk in graph.stream(state, config, context=ctx, stream_mode=modes, subgraphs=True):
        if mode == "custom" and isinstance(chunk, dict) and chunk.get("kind") == "step":
            if on_step is not None:
                on_step(Step.from_dict(chunk["step"]))
        elif mode == "custom" and on_event is not None:
            on_event(chunk)
        elif namespace:  # the controller's own updates and values
            continue
        elif mode == "values":
            final = chunk
        elif mode == "updates" and on_result is not None:
            for update in chunk.values():  # the session's `query` node: the results so far, the newest last
                if isinstance(update, dict) and update.get("results"):
                    on_result(_result(update["results"][-1], session_id))
    return [_result(t, session_id) for t in final.get("results", [])]


def _result(trace: dict, session_id: str) -> Result:
    return Result(trace["answer"], Trace.from_dict(trace), session_id)
