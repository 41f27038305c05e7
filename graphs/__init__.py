"""adactx.graphs: the LangGraph controller that grows a reader's context step by step.

The top-level folder ``graphs/`` is installed as the package ``adactx.graphs`` (pyproject's package-dir
mapping), so ``graphs/graph.py`` is ``adactx.graphs.graph``; import it by that name, never as ``graphs``.

    state.py     ControllerState (persisted, JSON-only), Observation, Action
    context.py   ControllerContext: the run-time reader, tree, index, policy and settings
    actions.py   observe / action mask / retrieve, extend, refine, answer, summarize (shared with rl/)
    policies.py  the baseline policies behind one Protocol (full, first-L, topk-K, threshold, rag-full)
    graph.py     the per-question controller graph, the session graph, checkpointer helpers

Imports adactx core and adactx.retrieval only; nothing heavy at import time of this package.
"""
