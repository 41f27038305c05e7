"""Haystack helpers: insertion at sentence boundaries with exact spans, token-exact cuts."""

from helpers import tiny_tokenizer

from adactx.data.haystack import boundary_before, count_tokens, cut_to_tokens, insert_sentences

TEXT = "One two three. Four five six.\nSeven eight. Nine ten eleven twelve."


def test_insert_sentences_returns_exact_spans_at_boundaries():
    out, spans = insert_sentences(TEXT, [(0.5, "Fact B."), (0.0, "Fact A."), (1.0, "Fact Z.")])
    assert [out[s.start : s.end] for s in spans] == ["Fact B.", "Fact A.", "Fact Z."]
    assert out.startswith("Fact A. One two") and out.endswith("twelve. Fact Z.")
    assert out.replace("Fact A. ", "").replace("Fact B.", "").replace(" Fact Z.", "").split() == TEXT.split()
    assert boundary_before(TEXT, TEXT.index("five")) == TEXT.index("Four")


def test_cut_to_tokens_ends_a_sentence_within_budget():
    tok = tiny_tokenizer()
    text = " ".join(["The sky is blue today."] * 50)
    cut = cut_to_tokens(text, 40, tok)
    assert count_tokens(tok, cut) <= 40 and cut.endswith(".") and len(cut) > 40
    assert cut_to_tokens("short.", 40, tok) == "short."
