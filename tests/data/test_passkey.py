"""Passkey examples follow LongLoRA's passkey_retrivial.py: same text, same RNG draws, lengths in tokens."""

import numpy as np
import pytest
from helpers import tiny_tokenizer

from adactx.data.passkey import (
    FILLER,
    FINAL_QUESTION,
    TASK_DESCRIPTION,
    PasskeyConfig,
    passkey_document_text,
    passkey_example,
    passkey_prompt,
    passkey_suite,
)


def longlora_prompt(n_garbage: int, seed: int) -> tuple[str, str]:
    """LongLoRA's generate_prompt_landmark, restated with numpy's global legacy RNG as it uses it."""
    state = np.random.get_state()
    np.random.seed(seed)
    n_prefix = np.random.randint(0, n_garbage)
    garbage_inf = " ".join([FILLER] * 5000)
    pass_key = np.random.randint(1, 50000)
    lines = [
        TASK_DESCRIPTION,
        garbage_inf[:n_prefix],
        f"The pass key is {pass_key}. Remember it. {pass_key} is the pass key.",
        garbage_inf[: n_garbage - n_prefix],
        FINAL_QUESTION,
    ]
    np.random.set_state(state)
    return "\n".join(lines), str(pass_key)


@pytest.mark.parametrize("n_tokens", [200, 700])
@pytest.mark.parametrize("seed", [0, 1, 666])
def test_prompt_is_longloras_and_fits_the_token_budget(n_tokens, seed):
    tok = tiny_tokenizer()
    ex = passkey_example(n_tokens, tok, seed=seed)
    prompt, key = longlora_prompt(ex.meta["n_garbage"], seed)
    assert passkey_prompt(ex) == prompt
    assert ex.references == [key] and ex.meta["key"] == int(key)
    n = len(tok(prompt)["input_ids"])
    assert n == ex.meta["prompt_tokens"] and n_tokens - 8 <= n <= n_tokens
    assert ex.task == "passkey" and ex.query == FINAL_QUESTION


def test_evidence_is_the_key_line_and_depth_is_controllable():
    tok = tiny_tokenizer()
    keys = set()
    for depth in (0.0, 0.25, 0.5, 1.0):
        ex = passkey_example(400, tok, seed=3, depth=depth)
        (span,) = ex.evidence
        line = ex.document.text[span.start : span.end]
        assert line == f"The pass key is {ex.references[0]}. Remember it. {ex.references[0]} is the pass key."
        assert abs(ex.meta["depth"] - depth) < 0.01
        assert abs(span.start / len(ex.document.text) - depth) < 0.2
        keys.add(ex.references[0])
    assert len(keys) == 1  # same seed, same key at every depth


def test_seeds_change_the_key_and_are_reproducible():
    tok = tiny_tokenizer()
    a, b = passkey_example(300, tok, seed=1), passkey_example(300, tok, seed=1)
    assert a.to_dict() == b.to_dict()
    assert len({passkey_example(300, tok, seed=s).references[0] for s in range(6)}) > 1


def test_document_text_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_garbage"):
        passkey_document_text(0, seed=0)
    with pytest.raises(ValueError, match="too short"):
        passkey_example(10, tiny_tokenizer(), seed=0)
    with pytest.raises(ValueError, match="depth"):
        passkey_example(300, tiny_tokenizer(), seed=0, depth=1.5)


def test_suite_cycles_lengths_and_seeds():
    exs = passkey_suite(PasskeyConfig(lengths=(200, 400), depths=(0.1, 0.9)), tiny_tokenizer(), n=8, seed=5)
    cells = [(e.meta["n_tokens"], e.meta["depth_requested"], e.meta["seed"]) for e in exs]
    assert cells[:4] == [(200, 0.1, 5), (200, 0.9, 5), (400, 0.1, 5), (400, 0.9, 5)]
    assert cells[4][2] == 6
    with pytest.raises(ValueError, match="PasskeyConfig.depths"):
        PasskeyConfig(depths=(2.0,))
