"""BAMBOO on the real files: counts, the malformed line, options, evidence located in the document."""

import pytest

from adactx.data.bamboo import (
    load_bamboo,
    locate_evidence,
    parse_options,
    read_jsonl_lenient,
    split_altqa_content,
)
from adactx.metrics import option_letter


def test_locate_evidence_is_whitespace_insensitive_and_merges_fragments():
    doc = "Intro text here.\nThe model   uses shifted sparse attention during training.  It is fast at inference time too."
    evidence = (
        "The model uses shifted sparse attention during training. ... It is fast at inference time too."
    )
    spans, located = locate_evidence(evidence, doc)
    assert located == 1.0 and len(spans) == 1
    assert (
        doc[spans[0].start : spans[0].end].startswith("The model")
        and doc[spans[0].end - 4 : spans[0].end] == "too."
    )
    assert locate_evidence("A paraphrase written by an annotator, not in the text.", doc) == ([], 0.0)


def test_lenient_jsonl_skips_a_bad_line_with_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": 2,, }\n{"a": "tab\there"}\n')
    with pytest.warns(UserWarning, match=r"x\.jsonl:2: skipped a malformed line"):
        rows = list(read_jsonl_lenient(path))
    assert [n for n, _ in rows] == [1, 3] and rows[1][1]["a"] == "tab\there"


def test_options_and_altqa_layouts():
    assert parse_options('["A. x", "B. y"]') == parse_options("['A. x', 'B. y']") == ["A. x", "B. y"]
    head, doc, question = split_altqa_content("Answer it.\n\nQuestion:\nwhen?\n\nDocument:\nsome text\n")
    assert (head, doc, question) == ("Answer it.", "some text", "when?")
    assert split_altqa_content("Answer.\n\nDocument:\nbody\n\nQuestion:\nwho?\n")[1:] == ("body", "who?")


@pytest.mark.parametrize(
    ("subset", "lines", "unusable"),
    [("meetingqa_4k", 100, 13), ("paperqa_4k", 100, 6), ("paperqa_16k", 99, 8), ("altqa_4k", 200, 0)],
)
def test_real_subsets(shared_data, subset, lines, unusable, recwarn):
    if subset == "paperqa_16k":
        with pytest.warns(UserWarning, match=r"paperqa_16k\.jsonl:26: skipped a malformed line"):
            examples = load_bamboo(subset)
    else:
        examples = load_bamboo(subset)
    assert len(examples) == lines - unusable
    if unusable:
        assert any(f"{subset}.jsonl: skipped lines" in str(w.message) for w in recwarn)
    if subset == "altqa_4k":
        assert all(e.references[0].isdigit() and "Document:" not in e.query for e in examples)
        return
    for ex in examples:
        letters = [option_letter(o, i) for i, o in enumerate(ex.options)]
        assert len(ex.options) >= 2 and ex.references[0] in letters
        for span in ex.evidence:
            assert 0 <= span.start < span.end <= len(ex.document.text)
    located = [e for e in examples if e.meta["evidence_located"] == 1.0]
    assert (
        len(located) > len(examples) // 3
    )  # most evidence is copied text; annotator paraphrases are not found
