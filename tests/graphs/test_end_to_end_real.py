"""End to end with the real offline reader (SmolLM2-135M-Instruct) and embedder (all-MiniLM-L6-v2)
on a real QMSum meeting. Marked `model`: part of the default run (the fast suite must exercise the
real models once); each test run converts the GGUF once (~12-25 s) into its fresh cache."""

import pytest

from adactx.api import ContextManager
from adactx.data.registry import load

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def cm(tmp_path_factory):
    # the converted model is cached in the test run's fresh ADACTX_CACHE (conftest); sessions in their own DB
    return ContextManager(policy="topk-4", budget=2048, db=tmp_path_factory.mktemp("db") / "s.sqlite",
                          settings={"answer_tokens": 24})


def test_qmsum_meeting_topk_reads_gold_evidence_and_answers(cm, shared_data):
    meeting = [e for e in load("qmsum:val") if e.meta.get("query_type") == "specific" and e.evidence]
    meeting = [e for e in meeting if e.document.doc_id == meeting[0].document.doc_id]
    doc = cm.add_document(meeting[0].document)
    tree = cm.chunk_tree(doc)
    assert tree.total_tokens > 8000  # a real long meeting, longer than the reader's window
    index = cm.chunk_index(doc)
    hits = 0
    for example in meeting:  # retrieval alone: top-4 reaches gold evidence for at least half the queries
        gold = {c for span in example.evidence for c in tree.chunks_overlapping(span.start, span.end)}
        hits += bool(gold & {i for i, _ in index.search(example.query, 4)})
    assert hits >= len(meeting) / 2, f"{hits} of {len(meeting)}"

    result = cm.ask(meeting[0].query, doc)
    trace = result.trace
    assert [s.action for s in trace.steps] == ["retrieve", "answer"]
    assert result.answer.strip()
    assert 0 < trace.context_tokens <= 2048
    assert {p["chunk_id"] for p in trace.pieces} == set(trace.steps[0].chunks_added)
    # exact accounting: the document tokens were computed once; the answer added only the tail + decode
    usage = trace.usage
    assert usage.tokens_computed >= trace.context_tokens
    assert usage.tokens_computed - trace.context_tokens < 200
    assert usage.flops > 2 * 100e6 * trace.context_tokens  # > 2·N·T with N ~ 100M non-embedding params


def test_threshold_policy_grows_context_until_confident(cm, shared_data):
    cm2 = ContextManager(policy="threshold-0.3", budget=1024, max_steps=4, reader=cm.reader, db=cm.db,
                         settings={"answer_tokens": 16, "draft_tokens": 6})
    example = next(e for e in load("qmsum:val") if e.meta.get("query_type") == "specific")
    result = cm2.ask(example.query, cm2.add_document(example.document))
    steps = result.trace.steps
    assert steps[-1].action == "answer" and len(steps) >= 2
    assert all(s.confidence is not None for s in steps[:-1])
    assert result.trace.context_tokens <= 1024
