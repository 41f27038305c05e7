"""The controller graph with a tiny random reader, a hashing encoder and real chunking."""

import pytest
from adactx.graphs.context import ControllerContext, ControllerSettings
from adactx.graphs.graph import build_controller, list_sessions, load_session, recursion_limit
from adactx.graphs.policies import make_policy
from adactx.graphs.state import Action, initial_state
from adactx.retrieval.chunking import build_chunk_tree
from adactx.retrieval.documents import document_from_text
from adactx.retrieval.encoders import HashingEncoder
from adactx.retrieval.index import ChunkIndex
from helpers import CrashOnce, tiny_reader

from adactx.api import ContextManager
from adactx.errors import AdactxError

TOPICS = ["budget", "schedule", "design", "buttons", "battery", "colour", "price", "marketing", "testing", "launch"]
TEXT = "\n\n".join(
    f"Section {i}. The team talked about the {t} at length. " + " ".join(f"Point {j} on the {t}." for j in range(6))
    for i, t in enumerate(TOPICS)
)


def make_ctx(policy: str, budget: int = 400, max_steps: int = 6):
    reader = tiny_reader(max_context=512)
    tree = build_chunk_tree(document_from_text(TEXT, "doc"), reader.count_tokens, chunk_tokens=24, section_tokens=64)
    index = ChunkIndex.build(tree.texts, kind="hybrid", encoder=HashingEncoder())
    settings = ControllerSettings(budget=budget, max_steps=max_steps, answer_tokens=4, draft_tokens=3)
    return ControllerContext(reader=reader, tree=tree, index=index, policy=make_policy(policy), settings=settings)


def run(ctx, query="What about the battery?", run_id="r0"):
    graph = build_controller()
    config = {"recursion_limit": recursion_limit(ctx.settings.max_steps)}
    return graph.invoke(initial_state(run_id, query, "qa"), config, context=ctx)


def test_topk_reads_the_best_chunks_then_answers():
    ctx = make_ctx("topk-2")
    final = run(ctx)
    actions = [s["action"] for s in final["steps"]]
    assert actions == ["retrieve", "answer"]
    best = [i for i, _ in ctx.index.search("What about the battery?", 2)]
    assert sorted(final["steps"][0]["chunks_added"]) == sorted(best)
    assert any("battery" in ctx.tree.chunks[i].text for i in best)
    assert final["context_tokens"] == sum(p["tokens"] for p in final["pieces"])


@pytest.mark.parametrize("k", [1, 3])
def test_refine_k_refines_k_times_then_answers(k):
    final = run(make_ctx(f"refine-{k}"))
    assert [s["action"] for s in final["steps"]] == ["refine"] * k + ["answer"]
    assert final["context_tokens"] > 0 and all(s["confidence"] is None for s in final["steps"][:-1])  # no drafts


def test_first_l_reads_a_prefix_within_l():
    ctx = make_ctx("first-100")
    final = run(ctx)
    ids = [p["chunk_id"] for p in final["pieces"]]
    assert ids == list(range(len(ids))) and ids
    assert sum(ctx.tree.chunks[i].n_tokens for i in ids) <= 100


@pytest.mark.parametrize("budget,max_steps", [(120, 20), (10_000, 3)])
def test_budget_and_step_limit_end_the_loop(budget, max_steps):
    ctx = make_ctx("threshold-0", budget=budget, max_steps=max_steps)  # never confident: always retrieves
    final = run(ctx)
    assert final["steps"][-1]["action"] == "answer"
    assert final["context_tokens"] <= budget
    assert len(final["steps"]) <= max_steps + 1
    assert final["stop_reason"]


def test_drafts_record_confidence_and_context_grows_append_only():
    ctx = make_ctx("threshold-0", budget=300, max_steps=4)
    final = run(ctx)
    expansions = [s for s in final["steps"] if s["action"] == "retrieve"]
    assert len(expansions) >= 2
    assert all(s["confidence"] is not None and s["draft"] is not None for s in expansions)
    sizes = [s["context_tokens"] for s in final["steps"]]
    assert sizes == sorted(sizes)
    # KV reuse: appends computed each document token once; drafts and the answer cost only their tail
    computed = sum(s["usage"]["tokens_computed"] for s in final["steps"])
    generated = sum(s["usage"]["tokens_generated"] for s in final["steps"])
    session_head = len(ctx.reader.encode(ctx.reader.prompt_parts("q", "qa")[0]))
    tail = len(ctx.reader.prompt_parts("What about the battery?", "qa")[1])
    assert computed <= final["context_tokens"] + (len(final["steps"])) * (tail + 8) + generated + session_head


def test_refine_adds_sentences_and_extend_adds_neighbours():
    ctx = make_ctx("topk-1")
    state = initial_state("r1", "What about the price?", "qa")
    from adactx.graphs.actions import apply_action

    state.update(apply_action(state, ctx, Action("retrieve", 1)))
    first = state["pieces"][0]["chunk_id"]
    state.update(apply_action(state, ctx, Action("extend", 30)))
    added = state["steps"][-1]["chunks_added"]
    assert added and all(abs(c - first) == 1 for c in added)
    state.update(apply_action(state, ctx, Action("refine", 2)))
    assert state["pieces"][-1]["level"] == "sentence"


def test_masked_action_falls_back_to_answer():
    class Greedy:
        name, needs_draft = "greedy", False

        def reset(self):
            pass

        def act(self, obs):
            return Action("summarize")  # invalid for QA

    ctx = make_ctx("full")
    ctx.policy = Greedy()
    final = run(ctx)
    assert [s["action"] for s in final["steps"]] == ["answer"]
    assert "masked" in final["stop_reason"]


def test_unknown_policy_is_a_clear_error():
    with pytest.raises(AdactxError, match="unknown policy 'nope'"):
        make_policy("nope")
    with pytest.raises(AdactxError, match="refine-0: k must be >= 1"):
        make_policy("refine-0")




def test_sessions_persist_list_and_resume(tmp_path, tmp_cache):
    policy = CrashOnce(retrieves=2)
    cm = ContextManager(reader=tiny_reader(), encoder=HashingEncoder(), index_kind="hybrid", policy=policy,
                        budget=300, max_steps=4, chunk_tokens=24, db=tmp_path / "s.sqlite")
    doc = cm.add_text(TEXT, "doc")
    with pytest.raises(RuntimeError, match="simulated crash"):
        cm.ask_many(["What about the battery?", "And the price?"], doc, session_id="s1")
    saved = load_session(cm.saver(), "s1")
    assert saved["pending"] and saved["partial"]["steps"][0]["action"] == "retrieve"
    policy.armed = False
    results = cm.resume("s1", doc)
    assert [r.trace.query for r in results] == ["What about the battery?", "And the price?"]
    first = results[0].trace
    assert [s.action for s in first.steps] == ["retrieve", "retrieve", "answer"]
    rows = list_sessions(cm.saver())
    assert rows[0]["session_id"] == "s1" and rows[0]["done"] == 2
    with pytest.raises(AdactxError, match="unknown run id"):
        load_session(cm.saver(), "nope")


def _fed_back(generated: int, max_new: int) -> int:
    """Generated tokens fed back through the model: all of them, except the last when the cap stops it."""
    return generated if generated < max_new else max_new - 1


@pytest.mark.parametrize("policy", ["topk-2", "threshold-0"])
def test_tokens_computed_is_head_plus_document_plus_tails_plus_fed_back(policy):
    """Every token the reader ran is charged, the prompt head included (#11 item 1)."""
    ctx = make_ctx(policy, budget=200, max_steps=3)
    query = "What about the battery?"
    final = run(ctx, query)
    head, tail = (len(ctx.reader.encode(part)) for part in ctx.reader.prompt_parts(query, "qa"))
    steps = final["steps"]
    calls = [s for s in steps if s["confidence"] is not None]  # each draft and the answer ran the tail
    fed_back = sum(
        _fed_back(s["usage"]["tokens_generated"], 4 if s["action"] == "answer" else 3) for s in calls
    )
    computed = sum(s["usage"]["tokens_computed"] for s in steps)
    assert head > 20
    assert computed == head + final["context_tokens"] + len(calls) * tail + fed_back
    assert steps[0]["usage"]["tokens_computed"] >= head + steps[0]["context_tokens"]
