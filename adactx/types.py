"""Core value types shared by every part of adactx.

Plain dataclasses, JSON-friendly (``to_dict`` / ``from_dict``) so traces, run directories and the
LangGraph checkpointer can persist them without pickle. Character offsets index ``Document.text``.

    Document  -- one long text (a meeting, a story, a report)
    Span      -- a gold evidence region: (doc_index, start, end) in characters
    Example   -- one task instance: documents + query + references (+ evidence, options)
    Chunk     -- a piece of a document at one level of the chunk tree
    Usage     -- exact reader accounting: tokens computed, reused from cache, generated; FLOPs
    Step      -- one controller step (action, chunks added, tokens, latency, confidence)
    Trace     -- a whole query episode: steps, answer, cost
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

TaskKind = Literal["qa", "query_summary", "summary", "passkey"]
TASK_KINDS: tuple[str, ...] = ("qa", "query_summary", "summary", "passkey")
ChunkLevel = Literal["section", "chunk", "sentence"]


def _from_dict(cls, data: dict[str, Any]):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Document:
    doc_id: str
    text: str
    title: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Span:
    """Gold evidence: characters ``[start, end)`` of ``Example.documents[doc_index].text``."""

    doc_index: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"Span: need 0 <= start <= end, got start={self.start} end={self.end}")


@dataclass
class Example:
    example_id: str
    task: str
    documents: list[Document]
    query: str
    references: list[str]
    evidence: list[Span] = field(default_factory=list)
    source: str = ""
    options: list[str] | None = None  # multiple choice (BAMBOO-style); references hold the gold option
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASK_KINDS:
            raise ValueError(f"Example.task: unknown task kind {self.task!r}; choose from {TASK_KINDS}")

    @property
    def document(self) -> Document:
        """The first (usually only) document."""
        return self.documents[0]

    def evidence_chars(self) -> int:
        return sum(s.end - s.start for s in self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        data = dict(data)
        data["documents"] = [Document.from_dict(d) for d in data.get("documents", [])]
        data["evidence"] = [Span(**s) for s in data.get("evidence", [])]
        return _from_dict(cls, data)


@dataclass
class Chunk:
    """A node of the chunk tree. ``parent`` is the id of the enclosing coarser chunk (or None)."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    n_tokens: int
    level: str = "chunk"
    parent: int | None = None
    section: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Usage:
    """Exact reader accounting. ``flops`` is the estimate 2·N_params·tokens + attention terms."""

    tokens_computed: int = 0
    tokens_reused: int = 0
    tokens_generated: int = 0
    flops: float = 0.0
    calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.tokens_computed + other.tokens_computed,
            self.tokens_reused + other.tokens_reused,
            self.tokens_generated + other.tokens_generated,
            self.flops + other.flops,
            self.calls + other.calls,
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.tokens_computed - other.tokens_computed,
            self.tokens_reused - other.tokens_reused,
            self.tokens_generated - other.tokens_generated,
            self.flops - other.flops,
            self.calls - other.calls,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        return _from_dict(cls, data)


@dataclass
class Step:
    index: int
    action: str
    chunks_added: list[int] = field(default_factory=list)
    context_tokens: int = 0  # document tokens in the context after this step
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    confidence: float | None = None  # mean log-prob of the reader's short draft
    draft: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        data = dict(data)
        data["usage"] = Usage.from_dict(data.get("usage", {}))
        return _from_dict(cls, data)


@dataclass
class Trace:
    """One question's episode. ``run_id`` is this question's run (``<session_id>/<i>`` in a session)."""

    run_id: str
    doc_id: str
    question: str
    policy: str
    task: str = "qa"
    steps: list[Step] = field(default_factory=list)
    answer: str = ""
    doc_tokens: int = 0
    stop_reason: str = ""
    pieces: list[dict[str, Any]] = field(default_factory=list)  # document regions read, in order

    @property
    def usage(self) -> Usage:
        total = Usage()
        for step in self.steps:
            total = total + step.usage
        return total

    @property
    def context_tokens(self) -> int:
        return self.steps[-1].context_tokens if self.steps else 0

    @property
    def query(self) -> str:
        """The former name of ``question`` (kept for callers written before the rename)."""
        return self.question

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["usage"] = self.usage.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        data = dict(data)
        if "question" not in data and "query" in data:  # a trace saved before the rename
            data["question"] = data.pop("query")
        data["steps"] = [Step.from_dict(s) for s in data.get("steps", [])]
        return _from_dict(cls, data)
