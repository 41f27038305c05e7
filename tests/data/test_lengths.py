"""Answer lengths from the data: the summary cap is the median train reference length in reader tokens."""

import numpy as np
import pytest
from helpers import tiny_tokenizer

from adactx.data.lengths import answer_length, reference_lengths, summary_length
from adactx.errors import AdactxError
from adactx.types import Document, Example


def _summary(refs: list[str], task: str = "query_summary") -> Example:
    return Example("e", task, [Document("d", "text")], "q?", refs)


def test_answer_length_is_the_reference_length_quantile_in_tokenizer_tokens():
    tok = tiny_tokenizer()
    refs = ["one two", "one two three four five six", "a much longer reference " * 6]
    examples = [_summary(refs[:2]), _summary(refs[2:]), _summary(["not counted"], task="qa")]
    lengths = reference_lengths(examples, tok)
    expected = [len(tok(r, add_special_tokens=False)["input_ids"]) for r in refs]
    assert lengths == expected  # every reference of every summary example, QA examples left out
    assert answer_length(examples, tok) == int(np.ceil(np.median(expected)))
    assert answer_length(examples, tok, quantile=1.0) == max(expected)
    with pytest.raises(AdactxError, match="quantile"):
        answer_length(examples, tok, quantile=0.0)
    with pytest.raises(AdactxError, match="no summary references"):
        answer_length([_summary(["x"], task="qa")], tok)


def test_summary_length_of_real_sets_comes_from_their_train_split(shared_data):
    from adactx.data.registry import load

    tok = tiny_tokenizer()  # the measure is the tokenizer's; the reader's own is loaded by `adactx eval`
    qmsum = summary_length("qmsum:val", tok)
    squality = summary_length("squality:dev", tok)
    assert qmsum.source == "qmsum:train" and squality.source == "squality:train"
    assert qmsum.tokens == answer_length(load("qmsum:train"), tok)
    # SQuALITY's references are about three times as long as QMSum's, in words and in tokens
    assert squality.median_words > 2 * qmsum.median_words and squality.tokens > 2 * qmsum.tokens
    assert qmsum.tokens > qmsum.median_words  # more tokens than words for English prose
    assert summary_length("mixed:val", tok) is None  # QA sets keep their answer cap
