"""The observation as query text, and the action grammar a language-model policy answers in."""

import pytest
from adactx.graphs.state import Action
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.env import ContextEnv, Workspace
from adactx.rl.observation_text import parse_response, render_observation, validate_grammar
from helpers import tiny_reader
from rl_fixtures import env_config, toy_examples

from adactx.errors import AdactxError

GRAMMAR = ("retrieve 2", "extend 1024", "refine", "answer")


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("retrieve 2", Action("retrieve", 2)),
        ("  Extend 512\nbecause", Action("extend", 512)),
        ("refine", Action("refine")),
        ("answer now", Action("answer")),
        ("retrieve", Action("retrieve")),
        ("I would retrieve 3 more chunks", Action("retrieve", 3)),
    ],
)
def test_parse_response_reads_name_and_amount(text, action):
    assert parse_response(text, GRAMMAR) == action


@pytest.mark.parametrize("text", ["", "hello", "summarize", "retrieve 0", "first summarize, then answer", "ok\nanswer"])
def test_parse_response_rejects_what_the_grammar_lacks(text):
    assert parse_response(text, GRAMMAR) is None


def test_validate_grammar_names_the_bad_entry():
    with pytest.raises(AdactxError, match="jump 2"):
        validate_grammar(("retrieve 2", "jump 2"), "cfg.grammar")


def test_observation_text_carries_question_candidates_draft(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path))
    reader = tiny_reader()
    cfg = env_config()
    env = ContextEnv(toy_examples(), reader, cfg, workspace=Workspace(reader, HashingEncoder(), cfg))
    env.reset(options={"index": 1})
    obs = env.observation
    assert obs.question == toy_examples()[1].query and len(obs.candidates) == 3 and obs.read_chunks == []
    text = render_observation(obs, GRAMMAR)
    assert obs.question in text and obs.candidates[0][0] in text and "Read: 0 tokens" in text
    env.step(env.action_index("retrieve-2"))
    obs = env.observation
    assert len(obs.read_chunks) == 2 and obs.draft == env.state["draft"]
    text = render_observation(obs, GRAMMAR)
    assert "Draft (" in text and f"chunks {obs.read_chunks[0]},{obs.read_chunks[1]}" in text
    assert text.splitlines()[-1].startswith("Reply with one action: retrieve 2")
    assert len(reader.encode(text)) < 400  # short: the trainers' cost grows with the prompt
