"""adactx.graphs: the LangGraph controller that grows a reader's context step by step.

The top-level folder ``graphs/`` is installed as the package ``adactx.graphs`` (pyproject's package-dir
mapping), so ``graphs/graph.py`` is ``adactx.graphs.graph``; import it by that name, never as ``graphs``.

    state.py     ControllerState (persisted, JSON-only), Observation, Action
    context.py   ControllerContext: the run-time reader, tree, index, policy and settings
    actions.py   observe / action mask / retrieve, extend, refine, answer, summarize (shared with rl/);
                 the stream events ({"kind": "token" | "part", ...}) the answer and summary steps write
    policies.py  the baseline policies behind one Protocol (full, first-L, topk-K, threshold, rag-full)
    graph.py     the per-question controller graph, the session graph, checkpointer helpers

The public names for embedding the controller in an app's own graph (README, "In your own LangGraph"):

    from adactx.graphs import build_controller, initial_state, recursion_limit
    controller = build_controller()                      # a compiled graph: add it as a node, or invoke it
    ctx = cm.controller_context(doc)                     # ContextManager: reader, chunk tree, index, policy
    controller.invoke(initial_state("run-1", "What did they decide?", "qa"), context=ctx)

Imports adactx core and adactx.retrieval only; nothing heavy at import time of this package (the names
above load on first use).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adactx.graphs.context import ControllerContext, ControllerSettings
    from adactx.graphs.graph import build_controller, build_session_graph, recursion_limit
    from adactx.graphs.policies import make_policy
    from adactx.graphs.state import ControllerState, initial_state

_EXPORTS = {
    "build_controller": "adactx.graphs.graph",
    "build_session_graph": "adactx.graphs.graph",
    "recursion_limit": "adactx.graphs.graph",
    "ControllerContext": "adactx.graphs.context",
    "ControllerSettings": "adactx.graphs.context",
    "ControllerState": "adactx.graphs.state",
    "initial_state": "adactx.graphs.state",
    "make_policy": "adactx.graphs.policies",
}
__all__ = [
    "ControllerContext", "ControllerSettings", "ControllerState", "build_controller", "build_session_graph",
    "initial_state", "make_policy", "recursion_limit",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adactx.graphs' has no attribute {name!r}")
