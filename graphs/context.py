"""Run-time objects the controller's nodes receive through LangGraph's ``context_schema``.

Nothing here is persisted: the reader (with its live KV cache per run), the document's chunk tree and
index, the policy, the budget. Tests hand in tiny readers and hashing encoders; apps hand in their own.

    ctx = ControllerContext(reader=reader, tree=tree, index=index, policy=make_policy("topk-4"))
    controller.invoke(initial_state(...), config, context=ctx)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from adactx.config import require_positive


@dataclass
class ControllerSettings:
    """Knobs of the controller loop (each bounded; the budget and step limit always end the loop)."""

    budget: int = field(default=4096, metadata={"help": "most document tokens the reader may read per query"})
    max_steps: int = field(default=12, metadata={"help": "most controller steps per query (then it answers)"})
    retrieve_k: int = field(default=2, metadata={"help": "chunks added by one `retrieve`"})
    extend_tokens: int = field(default=1024, metadata={"help": "tokens added by one `extend`"})
    refine_chunks: int = field(default=3, metadata={"help": "next-best chunks whose best sentences `refine` adds"})
    refine_sentences: int = field(default=4, metadata={"help": "sentences `refine` keeps"})
    draft_tokens: int = field(default=8, metadata={"help": "tokens in the cheap draft that measures confidence"})
    answer_tokens: int = field(default=48, metadata={"help": "most tokens in an answer"})
    summary_tokens: int = field(default=160, metadata={"help": "most tokens in a summary"})
    part_tokens: int = field(default=1536, metadata={"help": "tokens per part in hierarchical summaries"})

    def __post_init__(self) -> None:
        require_positive(self, *(f.name for f in fields(self)))


@dataclass
class RunCache:
    """Per-run derived values: the live reader session and the query's retrieval scores."""

    session: Any = None
    scores: Any = None  # np.ndarray, one score per chunk
    charged: Any = None  # adactx.types.Usage: the session's usage already charged to steps


@dataclass
class ControllerContext:
    reader: Any  # adactx.reader.HFReader (or anything with .session(query, task))
    tree: Any  # adactx.retrieval.chunking.ChunkTree
    index: Any  # adactx.retrieval.index.ChunkIndex over tree.chunks
    policy: Any  # adactx.graphs.policies.Policy
    settings: ControllerSettings = field(default_factory=ControllerSettings)
    runs: dict[str, RunCache] = field(default_factory=dict)
    on_step: Callable[[Any], None] | None = None  # called with each finished Step (progress display)

    def run(self, run_id: str) -> RunCache:
        return self.runs.setdefault(run_id, RunCache())

    def release(self, run_id: str) -> None:
        """Drop a finished run's KV cache."""
        self.runs.pop(run_id, None)
