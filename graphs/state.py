"""What the controller carries between steps, and what a policy sees.

``ControllerState`` is the LangGraph state of one query episode: plain JSON-friendly values only, so
the SQLite checkpointer persists it without pickle. Everything that can be recomputed from it (the
reader's KV cache, retrieval scores) lives in the run-time context instead (see ``context.py``).

``Observation`` is the policy's view of a state (feature vector or short text rendering); ``Action``
is what a policy returns: an action name plus an optional amount (chunks or tokens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypedDict

ACTIONS: tuple[str, ...] = ("retrieve", "extend", "refine", "answer", "summarize")


class Piece(TypedDict):
    """A region of the document that was appended to the context (a chunk or a sentence)."""

    chunk_id: int
    start: int
    end: int
    tokens: int
    level: str


class ControllerState(TypedDict, total=False):
    """One question's episode. ``question`` was called ``query`` before; checkpoints saved then still
    carry ``query`` (and no ``question``), so read it with ``question_of(state)``, never directly."""

    run_id: str
    question: str
    query: str  # legacy key of sessions saved before the rename (read through question_of)
    task: str
    pieces: list[Piece]  # in the order they were appended (the reader's context is append-only)
    context_tokens: int  # document tokens in the context
    steps: list[dict[str, Any]]  # Step.to_dict() per step
    confidence: float | None  # mean log-prob of the latest draft
    prev_confidence: float | None
    draft: str
    next_action: str
    next_amount: int | None
    answer: str
    stop_reason: str


def question_of(state: ControllerState) -> str:
    """The episode's question (``question``, or ``query`` in a checkpoint saved before the rename)."""
    return state.get("question") or state.get("query", "")


def initial_state(run_id: str, question: str, task: str = "qa") -> ControllerState:
    """The controller's input for one question: ``task`` is qa | query_summary | summary;
    ``run_id`` keys the run's live reader session in the context (unique per concurrent run)."""
    return ControllerState(
        run_id=run_id,
        question=question,
        task=task,
        pieces=[],
        context_tokens=0,
        steps=[],
        confidence=None,
        prev_confidence=None,
        draft="",
        next_action="",
        next_amount=None,
        answer="",
        stop_reason="",
    )


@dataclass(frozen=True)
class Action:
    name: str
    amount: int | None = None  # chunks for retrieve/refine, tokens for extend; None = the default

    def __post_init__(self) -> None:
        if self.name not in ACTIONS:
            raise ValueError(f"Action.name: unknown action {self.name!r}; choose from {ACTIONS}")


@dataclass
class Observation:
    """The policy's view: document length, task, tokens read and left, retrieval profile, confidence."""

    task: str
    doc_tokens: int
    n_chunks: int
    context_tokens: int
    budget: int
    steps_taken: int
    max_steps: int
    top_scores: list[float]  # best retrieval scores among chunks not yet read (up to 3)
    margin: float  # top-1 minus top-2 of those
    coverage: float  # share of the document's tokens in the context
    confidence: float | None
    confidence_delta: float | None
    mask: dict[str, bool] = field(default_factory=dict)
    # for language-model policies (adactx.rl.observation_text); empty when not filled
    question: str = ""
    candidates: list[tuple[str, float]] = field(default_factory=list)  # next unread chunks: (first words, score)
    read_chunks: list[int] = field(default_factory=list)  # chunk ids in the context, sorted
    draft: str = ""  # the latest draft's text (its mean log-prob is ``confidence``)

    @property
    def budget_left(self) -> int:
        return max(self.budget - self.context_tokens, 0)

    def valid_actions(self) -> list[str]:
        return [a for a in ACTIONS if self.mask.get(a, False)]

    def to_vector(self) -> list[float]:
        """A fixed-length feature vector (for small learned policies). Missing values -> 0 plus a flag."""
        scores = (self.top_scores + [0.0, 0.0, 0.0])[:3]
        conf = self.confidence if self.confidence is not None and math.isfinite(self.confidence) else 0.0
        delta = self.confidence_delta if self.confidence_delta is not None else 0.0
        delta = delta if math.isfinite(delta) else 0.0
        tasks = ("qa", "query_summary", "summary", "passkey")
        return [
            math.log1p(self.doc_tokens) / 10.0,
            *[1.0 if self.task == t else 0.0 for t in tasks],
            self.context_tokens / max(self.budget, 1),
            self.budget_left / max(self.budget, 1),
            *scores,
            self.margin,
            self.coverage,
            conf,
            1.0 if self.confidence is None else 0.0,
            delta,
            self.steps_taken / max(self.max_steps, 1),
            *[1.0 if self.mask.get(a, False) else 0.0 for a in ACTIONS],
        ]

    def to_text(self) -> str:
        """A short rendering for a language-model policy."""
        conf = "none" if self.confidence is None else f"{self.confidence:.2f}"
        delta = "none" if self.confidence_delta is None else f"{self.confidence_delta:+.2f}"
        scores = ", ".join(f"{s:.2f}" for s in self.top_scores) or "none"
        return (
            f"task: {self.task}; document: {self.doc_tokens} tokens in {self.n_chunks} chunks; "
            f"read: {self.context_tokens} tokens ({self.coverage:.0%}), budget left: {self.budget_left}; "
            f"step {self.steps_taken}/{self.max_steps}; next retrieval scores: {scores} "
            f"(margin {self.margin:.2f}); draft confidence: {conf} (change {delta}); "
            f"valid actions: {', '.join(self.valid_actions())}"
        )
