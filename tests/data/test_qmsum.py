"""QMSum on the real files: counts, transcript layout, gold turn ranges -> character spans."""

import json

from adactx.data.qmsum import load_qmsum, transcript, turn_spans
from adactx.data.registry import load


def test_transcript_offsets_point_at_each_turn():
    turns = [{"speaker": "A", "content": "hello there"}, {"speaker": "B", "content": "hi"}]
    text, offsets = transcript(turns)
    assert text == "A: hello there\nB: hi"
    assert [text[s:e] for s, e in offsets] == ["A: hello there", "B: hi"]
    (span,) = turn_spans([["0", "1"]], offsets, "x")
    assert text[span.start : span.end] == text


def test_real_splits_queries_and_spans(shared_data):
    meetings = [json.loads(line) for line in (shared_data / "qmsum/ALL/jsonl/test.jsonl").open()]
    examples = load_qmsum("test")
    assert len(examples) == sum(
        len(m["specific_query_list"]) + len(m["general_query_list"]) for m in meetings
    )
    assert len(examples) == 281  # as the data README says
    specific = [e for e in examples if e.meta["query_type"] == "specific"]
    general = [e for e in examples if e.meta["query_type"] == "general"]
    assert specific and general and all(e.evidence for e in specific) and not any(e.evidence for e in general)
    first = meetings[0]["specific_query_list"][0]
    ex = specific[0]
    assert ex.query == first["query"] and ex.references == [first["answer"]]
    lo, hi = (int(x) for x in first["relevant_text_span"][0])
    turns = meetings[0]["meeting_transcripts"]
    evidence = ex.document.text[ex.evidence[0].start : ex.evidence[0].end]
    assert evidence.startswith(f"{turns[lo]['speaker']}: {turns[lo]['content']}")
    assert evidence.endswith(turns[hi]["content"]) and evidence.count("\n") == hi - lo


def test_registry_specs_and_seeded_samples(shared_data):
    assert len(load("qmsum:train")) > len(load("qmsum:val")) > 0
    a, b = load("qmsum:val", n=7, seed=3), load("qmsum:val", n=7, seed=3)
    assert [e.example_id for e in a] == [e.example_id for e in b] and len(a) == 7
    assert [e.example_id for e in load("qmsum:val", n=7, seed=4)] != [e.example_id for e in a]
