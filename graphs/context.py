"""Run-time objects the controller's nodes receive through LangGraph's ``context_schema``.

``ControllerSettings`` (the controller's knobs) lives in ``adactx.config`` and is re-exported here.
Nothing here is persisted: the reader (with its live KV cache per run), the document's chunk tree and
index, the policy, the budget. Tests hand in tiny readers and hashing encoders; apps hand in their own.

    ctx = ControllerContext(reader=reader, tree=tree, index=index, policy=make_policy("topk-4"))
    controller.invoke(initial_state(...), config, context=ctx)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adactx.config import ControllerSettings


@dataclass
class RunCache:
    """Per-run derived values: the live reader session and the query's retrieval scores."""

    session: Any = None
    scores: Any = None  # np.ndarray, one score per chunk


__all__ = ["ControllerContext", "ControllerSettings", "RunCache"]


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
