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
from typing import TYPE_CHECKING, Any

from adactx.config import ControllerSettings
from adactx.protocols import ChunkTree, Index, Reader, ReaderSession

if TYPE_CHECKING:
    import numpy as np
    from adactx.graphs.policies import Policy


@dataclass
class RunCache:
    """Per-run derived values: the live reader session and the question's retrieval scores."""

    session: ReaderSession | None = None
    scores: np.ndarray | None = None  # one score per chunk


@dataclass
class ControllerContext:
    """What the nodes receive at run time, typed by the seams of ``adactx.protocols``."""

    reader: Reader  # adactx.reader.HFReader, the memo's MemoReader, an HTTP reader
    tree: ChunkTree  # adactx.retrieval.chunking.ChunkTree
    index: Index  # adactx.retrieval.index.ChunkIndex over tree.chunks
    policy: Policy  # adactx.graphs.policies
    settings: ControllerSettings = field(default_factory=ControllerSettings)
    runs: dict[str, RunCache] = field(default_factory=dict)
    on_step: Callable[[Any], None] | None = None  # called with each finished Step (progress display)

    def run(self, run_id: str) -> RunCache:
        return self.runs.setdefault(run_id, RunCache())

    def release(self, run_id: str) -> None:
        """Drop a finished run's KV cache."""
        self.runs.pop(run_id, None)


__all__ = ["ControllerContext", "ControllerSettings", "RunCache"]
