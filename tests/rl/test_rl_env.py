"""The Gymnasium env drives the controller's own mechanics: same episode as the LangGraph graph."""

import numpy as np
import pytest
from adactx.graphs.context import ControllerContext
from adactx.graphs.graph import build_controller, recursion_limit
from adactx.graphs.policies import make_policy
from adactx.graphs.state import initial_state
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.env import ContextEnv, Workspace, run_episode
from adactx.rl.rewards import RewardConfig
from helpers import tiny_reader
from rl_fixtures import env_config, toy_examples

from adactx.errors import AdactxError


@pytest.fixture(scope="module")
def reader():
    return tiny_reader()


def make_env(reader, **reward):
    cfg = env_config()
    workspace = Workspace(reader, HashingEncoder(), cfg, cache_dir=None)
    return ContextEnv(toy_examples(), reader, cfg, RewardConfig(**reward), workspace=workspace)


def test_env_episode_equals_the_graph_episode(reader, tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path))
    env = make_env(reader)
    example = toy_examples()[1]
    outcome = run_episode(env, make_policy("topk-2"), example)
    prepared = env.workspace.prepare(example)
    ctx = ControllerContext(
        reader=reader,
        tree=prepared.tree,
        index=prepared.index,
        policy=make_policy("topk-2"),
        settings=env.config.settings(),
    )
    final = build_controller().invoke(
        initial_state("g", example.query, "qa"), {"recursion_limit": recursion_limit(4)}, context=ctx
    )
    assert (
        [s["action"] for s in outcome["steps"]]
        == [s["action"] for s in final["steps"]]
        == ["retrieve", "answer"]
    )
    assert outcome["steps"][0]["chunks_added"] == final["steps"][0]["chunks_added"]
    assert outcome["answer"] == final["answer"]
    assert outcome["context_tokens"] == final["context_tokens"]
    graph_computed = sum(s["usage"]["tokens_computed"] for s in final["steps"])
    assert outcome["usage"]["tokens_computed"] == graph_computed


def test_observation_vector_text_and_masks(reader, tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path))
    env = make_env(reader)
    obs, info = env.reset(options={"index": 0})
    assert env.observation_space.contains(obs)
    assert "valid actions" in info["text"] and "task: qa" in info["text"]
    assert info["action_mask"].dtype == bool and info["action_mask"].shape == (env.action_space.n,)
    assert info["action_mask"][env.action_index("answer")]
    obs, reward, terminated, _, info = env.step(env.action_index("retrieve-2"))
    assert not terminated and reward == 0.0  # λ = 0: the expansion costs nothing
    assert info["observation"].context_tokens > 0 and info["observation"].confidence is not None
    obs, reward, terminated, _, info = env.step(env.action_index("answer"))
    assert terminated and reward == pytest.approx(info["outcome"]["score"])
    with pytest.raises(AdactxError):
        env.step(0)


def test_rewards_sum_to_score_minus_lambda_cost(reader, tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path))
    env = make_env(reader, lam=0.5)
    outcome = run_episode(env, make_policy("first-60"), toy_examples()[0])
    expected = outcome["score"] - 0.5 * outcome["usage"]["tokens_computed"] / 1000
    assert outcome["return"] == pytest.approx(expected)


def test_budget_and_step_limit_mask_expansions(reader, tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path))
    env = make_env(reader)
    _, info = env.reset(options={"index": 2})
    for _ in range(env.config.max_steps):
        if not info["action_mask"][env.action_index("retrieve-2")]:
            break
        _, _, terminated, _, info = env.step(env.action_index("retrieve-2"))
        assert not terminated
    assert not np.any(info["action_mask"][[env.action_index("retrieve-2"), env.action_index("extend-60")]])
    assert env.state["context_tokens"] <= env.config.budget
    _, _, terminated, _, _ = env.step(env.action_index("retrieve-2"))  # masked: stops with an answer
    assert terminated and env.outcome["steps"][-1]["action"] == "answer"


def test_env_charges_the_prompt_head_with_and_without_the_memo(reader, tmp_path):
    """tokens computed = head + document + tail + fed-back tokens, through the real session and the
    memo's (#11 item 1: the head used to be left out)."""
    from adactx.rl.memo import MemoReader, OutcomeMemo

    example = toy_examples()[2]
    memo_reader = MemoReader(reader, OutcomeMemo(tmp_path / "memo.sqlite"))
    outcomes = []
    for r in (reader, memo_reader, memo_reader):  # the last one is served by memo hits
        cfg = env_config()
        env = ContextEnv([example], r, cfg, RewardConfig(), workspace=Workspace(r, HashingEncoder(), cfg))
        outcomes.append(run_episode(env, make_policy("topk-2"), example))
    head, tail = (len(reader.encode(p)) for p in reader.prompt_parts(example.query, "qa"))
    generated = outcomes[0]["usage"]["tokens_generated"]
    fed_back = generated if generated < 3 else 2  # answer_tokens = 3: the last token is never fed back
    expected = head + outcomes[0]["context_tokens"] + tail + fed_back
    assert [o["usage"]["tokens_computed"] for o in outcomes] == [expected] * 3
    assert memo_reader.memo.stats()["hits"] == 1
