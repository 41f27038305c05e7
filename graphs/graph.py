"""The LangGraph graphs: the per-query controller and the session graph that runs it per question.

    controller:  START -> observe -> policy -> retrieve | extend | refine -> observe ...
                                            -> answer | summarize -> END
    session:     START -> query (runs the controller as a subgraph) -> query ... -> END

The session node keeps the name ``query`` (``QUESTION_NODE``) although everything else says
``question``: checkpoints persist it (as the subgraph namespace ``query:<id>`` and as the next node of an
interrupted session), so renaming it would orphan every interrupted session saved before.

Both are compiled with a checkpointer (SQLite by default, see ``open_checkpointer``) so that every step
is persisted; ``list_sessions`` and ``load_session`` read them back, and invoking a session graph
again with ``None`` on the same thread resumes it.
"""

from __future__ import annotations

import json
import time
from typing import Any, TypedDict

from adactx.graphs.actions import (
    SUMMARY_TASKS,
    apply_action,
    ensure_session,
    observe,
    retrieval_scores,
    valid_or_answer,
)
from adactx.graphs.context import ControllerContext
from adactx.graphs.persistence import open_checkpointer
from adactx.graphs.state import Action, ControllerState, initial_state, question_of
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from adactx.errors import AdactxError
from adactx.types import Trace


# --- per-query controller -----------------------------------------------------------------------
def observe_node(state: ControllerState, runtime: Runtime[ControllerContext]) -> dict:
    """Rebuilds what a resumed run lost (the reader's KV cache, retrieval scores); changes no state."""
    if state["task"] not in SUMMARY_TASKS:  # a summary reads through sessions of its own
        ensure_session(state, runtime.context)
    retrieval_scores(state, runtime.context)
    return {}


def policy_node(state: ControllerState, runtime: Runtime[ControllerContext]) -> dict:
    ctx = runtime.context
    obs = observe(state, ctx)
    if not state.get("steps"):
        ctx.policy.reset()
    action, note = valid_or_answer(ctx.policy.act(obs), obs.mask, state["task"])
    reason = ""
    if action.name in ("answer", "summarize"):
        if obs.steps_taken >= ctx.settings.max_steps:
            reason = "step limit"
        elif note:
            reason = f"budget or document exhausted ({note})"
        else:
            reason = "policy stopped"
    return {"next_action": action.name, "next_amount": action.amount, "stop_reason": reason}


def _action_node(name: str):
    def node(state: ControllerState, runtime: Runtime[ControllerContext]) -> dict:
        # the stream writer is a no-op unless the caller streams with stream_mode="custom"
        update = apply_action(state, runtime.context, Action(name, state.get("next_amount")), runtime.stream_writer)
        if name in ("answer", "summarize"):
            runtime.context.release(state["run_id"])
        return update

    node.__name__ = f"{name}_node"
    return node


def _route(state: ControllerState) -> str:
    return state["next_action"]


def build_controller(checkpointer: Any = None):
    """The per-query controller graph (compiled): input ``initial_state(run_id, question, task)``,
    context a ``ControllerContext`` (``ContextManager.controller_context(doc)`` builds one).

    Leave ``checkpointer`` None to embed it in another graph (it then uses the parent's). While it runs,
    ``stream_mode="custom"`` yields the answer's text as it is generated (see ``adactx.graphs.actions``).
    """
    g = StateGraph(ControllerState, context_schema=ControllerContext)
    g.add_node("observe", observe_node)
    g.add_node("policy", policy_node)
    for name in ("retrieve", "extend", "refine", "answer", "summarize"):
        g.add_node(name, _action_node(name))
    g.add_edge(START, "observe")
    g.add_edge("observe", "policy")
    g.add_conditional_edges("policy", _route, ["retrieve", "extend", "refine", "answer", "summarize"])
    for name in ("retrieve", "extend", "refine"):
        g.add_edge(name, "observe")
    g.add_edge("answer", END)
    g.add_edge("summarize", END)
    return g.compile(checkpointer=checkpointer)


def recursion_limit(max_steps: int, n_questions: int = 1) -> int:
    """observe + policy + action per step, plus the final action: bounded by the step limit."""
    return max(3 * (max_steps + 2) + 4, n_questions + 4)


def trace_from_state(state: dict, doc_id: str, policy: str, doc_tokens: int) -> Trace:
    return Trace.from_dict(
        {
            "run_id": state["run_id"],
            "doc_id": doc_id,
            "question": question_of(state),
            "policy": policy,
            "task": state["task"],
            "steps": state.get("steps", []),
            "answer": state.get("answer", ""),
            "doc_tokens": doc_tokens,
            "stop_reason": state.get("stop_reason", ""),
            "pieces": state.get("pieces", []),
        }
    )


# --- session graph ------------------------------------------------------------------------------
QUESTION_NODE = "query"  # the persisted name of the session graph's per-question node (see the docstring)


class SessionState(TypedDict, total=False):
    """One session's persisted values. The settings it ran with are not state (the façade owns them);
    they are recorded in the checkpoint metadata (``recorded_settings``)."""

    session_id: str
    doc_id: str
    doc_tokens: int
    policy: str
    task: str
    doc_path: str  # absolute (see persistence.stored_doc_path); "" for a document made from text
    doc_sha256: str  # of the document's text: resume refuses a file that no longer holds it
    questions: list[str]
    results: list[dict]  # Trace.to_dict() per finished question
    cursor: int


def build_session_graph(checkpointer: Any = None, progress: Any = None):
    """A session over one document: runs the controller once per question (or once for a summary).

    ``progress(i, n, question)`` is called before each question when given (the CLI's spinner).
    """
    controller = build_controller()  # inherits the parent's checkpointer as a subgraph

    def question_node(state: SessionState, runtime: Runtime[ControllerContext]) -> dict:
        ctx, i = runtime.context, state.get("cursor", 0)
        question = state["questions"][i]
        if progress:
            progress(i, len(state["questions"]), question)
        run_id = f"{state['session_id']}/{i}"
        final = controller.invoke(initial_state(run_id, question, state["task"]), context=ctx)
        trace = trace_from_state(final, state["doc_id"], state["policy"], state["doc_tokens"])
        return {"results": [*state.get("results", []), trace.to_dict()], "cursor": i + 1}

    def more(state: SessionState) -> str:
        return QUESTION_NODE if state.get("cursor", 0) < len(state["questions"]) else END

    g = StateGraph(SessionState, context_schema=ControllerContext)
    g.add_node(QUESTION_NODE, question_node)
    g.add_conditional_edges(START, more, [QUESTION_NODE, END])
    g.add_conditional_edges(QUESTION_NODE, more, [QUESTION_NODE, END])
    return g.compile(checkpointer=checkpointer)


def session_config(session_id: str, max_steps: int, n_questions: int, metadata: dict | None = None) -> dict:
    return {
        "configurable": {"thread_id": session_id},
        "recursion_limit": recursion_limit(max_steps, n_questions),
        "metadata": metadata or {},
    }


# --- persistence ------------------------------------------------------------------------------
def list_sessions(saver) -> list[dict]:
    """The newest checkpoint of every session, newest first: id, document, policy, progress, time."""
    seen: dict[str, dict] = {}
    for tup in saver.list(None):
        cfg = tup.config["configurable"]
        if cfg.get("checkpoint_ns") or cfg["thread_id"] in seen:
            continue
        values = tup.checkpoint.get("channel_values", {})
        meta = tup.metadata or {}
        seen[cfg["thread_id"]] = {
            "session_id": cfg["thread_id"],
            "doc": meta.get("doc", values.get("doc_id", "")),
            "policy": values.get("policy", meta.get("policy", "")),
            "task": values.get("task", ""),
            "done": values.get("cursor", 0),
            "questions": len(values.get("questions", [])),
            "created": meta.get("created", ""),
            "updated": tup.checkpoint.get("ts", ""),
        }
    return sorted(seen.values(), key=lambda r: r["updated"], reverse=True)


def load_session(saver, session_id: str) -> dict:
    """A session's state: finished traces, and the partial steps of an interrupted question."""
    graph = build_session_graph(checkpointer=saver)
    config = {"configurable": {"thread_id": session_id}}
    snapshot = graph.get_state(config, subgraphs=True)
    if not snapshot.values:
        known = ", ".join(r["session_id"] for r in list_sessions(saver)[:5]) or "none yet"
        raise AdactxError(f"unknown run id {session_id!r} (recent: {known}; see `adactx trace list`)")
    values = dict(snapshot.values)
    partial = None
    for task in snapshot.tasks:
        sub = getattr(task, "state", None)
        if sub is not None and getattr(sub, "values", None):
            partial = dict(sub.values)
    values["partial"] = partial
    values["pending"] = bool(snapshot.next)
    return values


def recorded_settings(saver, session_id: str) -> dict:
    """The controller settings a session started with: the ``settings`` its checkpoints' metadata
    records, or, for sessions saved before that, the ``budget``/``max_steps`` its state carried."""
    old: dict = {}
    for tup in saver.list({"configurable": {"thread_id": session_id}}):
        if (tup.metadata or {}).get("settings"):
            return dict(json.loads(tup.metadata["settings"]))
        values = tup.checkpoint.get("channel_values", {})
        old = old or {k: values[k] for k in ("budget", "max_steps") if k in values}
    return old


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())


__all__ = [
    "SUMMARY_TASKS",
    "build_controller",
    "build_session_graph",
    "list_sessions",
    "load_session",
    "open_checkpointer",
    "recorded_settings",
    "session_config",
    "trace_from_state",
]
