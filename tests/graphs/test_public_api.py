"""The controller as a public LangGraph component, with a tiny random reader and the hashing encoder:
exports, ``ContextManager.controller_context``, any checkpointer, answer tokens through the stream writer."""

import subprocess
import sys

import pytest
from helpers import ROOT, tiny_reader
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from adactx.api import ContextManager
from adactx.errors import AdactxError

TOPICS = ["budget", "schedule", "design", "buttons", "battery", "colour", "price", "marketing"]
TEXT = "\n\n".join(
    f"Section {i}. The team talked about the {t} at length. " + " ".join(f"Point {j} on the {t}." for j in range(5))
    for i, t in enumerate(TOPICS)
)


def talking_reader():
    return tiny_reader(initializer_range=0.2)  # answers with varied tokens (the default model's decode to "")


def make_cm(**kw):
    from adactx.retrieval.encoders import HashingEncoder

    options = {"reader": talking_reader(), "encoder": HashingEncoder(), "policy": "topk-2", "budget": 200,
               "chunk_tokens": 24}
    return ContextManager(**{**options, **kw})


def test_public_names_load_lazily():
    from adactx.graphs import (
        ControllerContext,
        ControllerState,
        build_controller,
        initial_state,
        recursion_limit,
    )
    from adactx.graphs.graph import build_controller as internal

    import adactx

    assert adactx.build_controller is build_controller is internal
    assert ControllerContext.__name__ == "ControllerContext" and "question" in ControllerState.__annotations__
    assert initial_state("r", "q")["task"] == "qa" and recursion_limit(3) > 3
    code = "import sys, adactx.graphs; print('langgraph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"  # importing the package builds nothing


def test_controller_context_runs_the_controller_and_streams_the_answer():
    from adactx.graphs import build_controller, initial_state

    cm = make_cm()
    doc = cm.add_text(TEXT, doc_id="meeting")
    ctx = cm.controller_context(doc)
    assert ctx.tree.document.doc_id == "meeting" and ctx.policy.name == "topk-2" and ctx.settings.budget == 200
    events, final = [], None
    for mode, chunk in build_controller().stream(
        initial_state("r1", "What about the battery?"), context=ctx, stream_mode=["custom", "values"]
    ):
        if mode == "custom":
            events.append(chunk)
        else:
            final = chunk
    tokens = [e for e in events if e["kind"] == "token"]
    assert final["answer"] and len(tokens) > 1  # token by token, not one piece at the end
    assert {e["kind"] for e in events} == {"token", "step"} and {e["run_id"] for e in events} == {"r1"}
    assert "".join(e["text"] for e in tokens) == final["answer"]
    assert [e["step"]["action"] for e in events if e["kind"] == "step"] == ["retrieve", "answer"]
    assert events[-1]["kind"] == "step"  # the answer's step comes after its last piece
    with pytest.raises(AdactxError, match="unknown document"):
        cm.controller_context("nope")


def test_the_controller_as_a_subgraph_of_an_apps_graph():
    from adactx.graphs import ControllerState, build_controller, initial_state

    class AppState(ControllerState, total=False):
        reply: str

    cm = make_cm()
    doc = cm.add_text(TEXT)
    builder = StateGraph(AppState)
    builder.add_node("controller", build_controller())
    builder.add_node("cite", lambda s: {"reply": f"{s['answer']} ({s['context_tokens']} tokens)"})
    builder.add_edge(START, "controller")
    builder.add_edge("controller", "cite")
    builder.add_edge("cite", END)
    app = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    seen = list(app.stream(initial_state("t", "What about the price?"), config, context=cm.controller_context(doc),
                           stream_mode=["updates", "custom"], subgraphs=True))
    inner = [chunk for ns, mode, chunk in seen if ns and mode == "updates"]
    assert ["observe", "policy", "retrieve", "observe", "policy", "answer"] == [next(iter(c)) for c in inner]
    assert all(ns[0].startswith("controller:") for ns, _, _ in seen if ns)
    tokens = "".join(chunk["text"] for _, mode, chunk in seen if mode == "custom" and chunk["kind"] == "token")
    values = app.get_state(config).values
    assert tokens == values["answer"] and values["reply"].startswith(tokens)


@pytest.mark.parametrize("saver", ["memory", "sqlite"])
def test_any_langgraph_checkpointer_keeps_the_sessions(saver, tmp_path):
    import sqlite3

    from adactx.graphs.graph import list_sessions, load_session

    if saver == "memory":
        checkpointer = InMemorySaver()
    else:
        checkpointer = SqliteSaver(sqlite3.connect(tmp_path / "app.sqlite", check_same_thread=False))
    cm = make_cm(checkpointer=checkpointer, db=tmp_path / "unused.sqlite")
    assert cm.saver() is checkpointer
    doc = cm.add_text(TEXT)
    results = cm.ask_many(["What about the battery?", "And the price?"], doc, session_id="s1")
    assert not (tmp_path / "unused.sqlite").exists()
    (row,) = list_sessions(checkpointer)
    assert row["session_id"] == "s1" and row["done"] == 2
    saved = load_session(checkpointer, "s1")
    assert [t["answer"] for t in saved["results"]] == [r.answer for r in results]


def test_ask_many_reports_tokens_as_generated_and_each_answer_when_ready():
    cm = make_cm(checkpointer=InMemorySaver())
    doc = cm.add_text(TEXT)
    log: list = []
    results = cm.ask_many(["What about the battery?", "And the price?"], doc,
                          progress=lambda i, n, q: log.append(("question", i)),
                          on_event=lambda e: log.append(("token", e["run_id"], e["text"])),
                          on_result=lambda r: log.append(("result", r.trace.run_id, r.answer)))
    kinds = [entry[0] for entry in log]
    # question 0, its tokens, its result; only then question 1
    assert kinds.index("result") < kinds.index("question", 1)
    done = [entry for entry in log if entry[0] == "result"]
    assert [(run, answer) for _, run, answer in done] == [(r.trace.run_id, r.answer) for r in results]
    for r in results:
        streamed = "".join(e[2] for e in log if e[0] == "token" and e[1] == r.trace.run_id)
        assert streamed == r.answer != ""


def test_each_step_arrives_after_the_answer_pieces_it_streamed():
    """``on_step`` travels through the stream too: the answer's step line never overtakes its text."""
    cm = make_cm()
    doc = cm.add_text(TEXT)
    log: list = []
    results = cm.ask_many(["What about the battery?", "And the price?"], doc,
                          on_event=lambda e: log.append(("event", e["kind"])),
                          on_step=lambda s: log.append(("step", s.action)))
    assert ("event", "step") not in log  # steps go to on_step only
    steps = [entry[1] for entry in log if entry[0] == "step"]
    assert steps == [s.action for r in results for s in r.trace.steps] == ["retrieve", "answer"] * 2
    answers = [i for i, entry in enumerate(log) if entry == ("step", "answer")]
    tokens = [i for i, entry in enumerate(log) if entry == ("event", "token")]
    # each answer's pieces lie between the previous answer's step line and its own
    assert any(i < answers[0] for i in tokens) and any(answers[0] < i < answers[1] for i in tokens)
    assert max(tokens) < answers[1]


def test_a_reader_that_cannot_stream_sends_its_answer_in_one_piece():
    """The HTTP reader, the eval memo and an app's own reader: ``answer(n)`` without ``on_token``."""
    from adactx.graphs.actions import answer_streaming

    from adactx.reader import Generation
    from adactx.types import Usage

    class WholeAnswers:
        def answer(self, max_new_tokens=64):
            return Generation("twenty-five euros", [1, 2], -0.5, 0.1, Usage())

    pieces: list[str] = []
    gen = answer_streaming(WholeAnswers(), 8, pieces.append)
    assert gen.text == "twenty-five euros" and pieces == ["twenty-five euros"]
    assert answer_streaming(WholeAnswers(), 8, None).text == "twenty-five euros"
