"""The PPO reward module returns exactly the environment's return; LMPolicy round-trips save -> load."""

import json

import pytest
import torch
from adactx.graphs.state import Action
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.env import ContextEnv, Workspace
from adactx.rl.episodes import ControllerTextEnv, EnvPool
from adactx.rl.lm_policy import LMPolicy, PolicyMeta, query_ids
from adactx.rl.observation_text import parse_response, render_observation
from adactx.rl.ppo import DecisionReturns, env_return_reward
from adactx.rl.rewards import RewardConfig
from adactx.rl.train_config import PPOTrainConfig
from adactx.rl.training import build_policy
from helpers import tiny_llama, tiny_reader, tiny_tokenizer
from rl_fixtures import env_config, toy_examples

from adactx.errors import AdactxError

GRAMMAR = ("retrieve 2", "extend 60", "refine", "answer")
PENALTY = 0.5


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    import os

    os.environ["ADACTX_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    reader = tiny_reader()
    cfg = env_config()
    workspace = Workspace(reader, HashingEncoder(), cfg)

    def make_env():
        return ContextEnv(toy_examples(), reader, cfg, RewardConfig(lam=0.5), workspace=workspace)

    return make_env


def scripted(texts):
    """A continuation policy: retrieve while nothing is read, then answer."""
    return ["retrieve 2" if "Read: 0 tokens" in t else "answer" for t in texts]


def expected_return(env, example, before, response, then=scripted):
    """Play it by hand with ContextEnv: replay ``before``, run ``response``, continue with ``then``."""
    env.reset(options={"example": example})
    for spec in before:
        env.step(parse_response(spec, GRAMMAR))
    total, text, first = 0.0, render_observation(env.observation, GRAMMAR), True
    while True:
        reply = response if first else then([text])[0]
        first = False
        action = parse_response(reply, GRAMMAR)
        _, reward, done, _, _ = env.step(action or Action("answer"))
        total += reward - (0.0 if action else PENALTY)
        if done:
            return total
        text = render_observation(env.observation, GRAMMAR)


def test_reward_module_returns_exactly_the_env_return(setting):
    from trl.experimental.utils import get_reward

    tok = tiny_tokenizer()
    assert tok.pad_token_id != tok.eos_token_id
    env = setting()
    example = toy_examples()[1]
    env.reset(options={"example": example})
    env.step(Action("extend", 60))
    query = query_ids(tok, render_observation(env.observation, GRAMMAR))
    returns = DecisionReturns(EnvPool(lambda: ControllerTextEnv(setting(), GRAMMAR)), tok, scripted, GRAMMAR, PENALTY)
    returns.register(query, 1, example, ["extend 60"])
    responses = ["retrieve 2", "refine", "garbage words", "answer"]
    ids = [tok(r, add_special_tokens=False).input_ids + [tok.eos_token_id] for r in responses]
    width = max(len(r) for r in ids)
    rows = torch.tensor([query + r + [tok.pad_token_id] * (width - len(r)) for r in ids])
    _, scores, _ = get_reward(env_return_reward(returns, tok.pad_token_id), rows, tok.pad_token_id, len(query))
    want = [expected_return(setting(), example, ["extend 60"], r) for r in responses]
    assert scores.tolist() == pytest.approx(want, abs=1e-6)
    assert len({round(w, 6) for w in want}) >= 3  # the responses lead to different returns
    assert want[2] == pytest.approx(expected_return(setting(), example, ["extend 60"], "answer") - PENALTY)
    with pytest.raises(AdactxError, match="no rollout registered"):
        returns([[5, 6, 7]])


def test_reward_with_one_step_lookahead_and_a_state_baseline(setting):
    """decision_return = "answer": the action, then answer; state_baseline: less the grammar's mean."""
    from trl.experimental.utils import get_reward

    tok = tiny_tokenizer()
    example, before = toy_examples()[1], ["extend 60"]
    env = setting()
    env.reset(options={"example": example})
    env.step(Action("extend", 60))
    query = query_ids(tok, render_observation(env.observation, GRAMMAR))
    responses = ["retrieve 2", "refine", "garbage words", "answer"]
    ids = [tok(r, add_special_tokens=False).input_ids + [tok.eos_token_id] for r in responses]
    width = max(len(r) for r in ids)
    rows = torch.tensor([query + r + [tok.pad_token_id] * (width - len(r)) for r in ids])

    def answer_at_once(texts):
        return ["answer"] * len(texts)

    def never(texts):
        raise AssertionError("the one-step lookahead must not ask the policy")

    def keep_reading(texts):
        return ["retrieve 2"] * len(texts)

    lookahead = {r: expected_return(setting(), example, before, r, then=answer_at_once)
                 for r in dict.fromkeys((*responses, *GRAMMAR))}  # each play once: the responses, then the grammar
    assert lookahead["refine"] != pytest.approx(expected_return(setting(), example, before, "refine", keep_reading))
    mean = sum(lookahead[a] for a in GRAMMAR) / len(GRAMMAR)
    for baseline, want in ((False, [lookahead[r] for r in responses]),
                           (True, [lookahead[r] - mean for r in responses])):
        returns = DecisionReturns(EnvPool(lambda: ControllerTextEnv(setting(), GRAMMAR)), tok, never, GRAMMAR,
                                  PENALTY, continuation="answer", baseline=baseline)
        returns.register(query, 1, example, before)
        _, scores, _ = get_reward(env_return_reward(returns, tok.pad_token_id), rows, tok.pad_token_id, len(query))
        assert scores.tolist() == pytest.approx(want, abs=1e-6)
    assert len(returns.baselines) == 1  # one state: its baseline played once for the four rows


def test_ppo_config_checks_decision_return():
    with pytest.raises(AdactxError, match="decision_return"):
        PPOTrainConfig(decision_return="greedy")


def test_lm_policy_save_load_acts_identically(setting, tmp_path):
    tok = tiny_tokenizer()
    base = tiny_llama(len(tok), initializer_range=0.2)
    base.save_pretrained(tmp_path / "base")
    cfg = PPOTrainConfig(base_model=str(tmp_path / "base"), grammar=GRAMMAR, report_to=("none",))
    model, tok = build_policy(cfg, base=base, tokenizer=tok)
    torch.manual_seed(1)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)  # an adapter that changes what the model says
    meta = PolicyMeta(grammar=GRAMMAR, lam=0.02, base_model=str(tmp_path / "base"), trainer="test")
    first = LMPolicy(model.eval(), tok, meta)
    first.save(tmp_path / "policy")
    saved = json.loads((tmp_path / "policy" / "policy.json").read_text())
    assert saved["kind"] == "lm" and saved["lambda"] == 0.02 and saved["grammar"] == list(GRAMMAR)
    assert saved["observation_format"] == "obs-text-v1"
    second = LMPolicy.load(tmp_path / "policy")
    env = setting()
    texts, actions = [], []
    for example in toy_examples():
        env.reset(options={"example": example})
        texts.append(render_observation(env.observation, GRAMMAR))
        first.reset(), second.reset()
        actions.append((first.act(env.observation), second.act(env.observation)))
    assert all(a == b for a, b in actions)
    replies = first.respond(texts)
    assert replies == second.respond(texts) and any(r.strip() for r in replies)
    with model.disable_adapter():
        plain = first.respond(texts)
    assert plain != replies  # the round trip carried the adapter, not just the base


def test_policy_json_errors_name_the_file(tmp_path):
    (tmp_path / "policy.json").write_text('{"kind": "lm", "grammar": ["jump"]}')
    with pytest.raises(AdactxError, match="grammar"):
        LMPolicy.load(tmp_path)
    with pytest.raises(AdactxError, match="no policy.json"):
        LMPolicy.load(tmp_path / "missing")
