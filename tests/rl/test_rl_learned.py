"""`learned:DIR`: a learned policy directory loads by its kind, round-trips, and works in api, eval and CLI."""

import json

import numpy as np
import pytest
import torch
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.env import ContextEnv, Workspace, run_episode
from adactx.rl.features import FeaturePolicy, build_mlp, explicit_actions, observation_dim
from adactx.rl.learned import load_policy, resolve_policy
from adactx.rl.rewards import RewardConfig
from helpers import tiny_reader
from rl_fixtures import TEXT, env_config, toy_examples

from adactx.cli import main
from adactx.errors import AdactxError


def saved_policy(path, seed=0, bias_to=None):
    """A feature policy with seeded random weights (or one biased to an action), saved to ``path``."""
    cfg = env_config()
    actions = explicit_actions(cfg)
    torch.manual_seed(seed)
    net = build_mlp(observation_dim(), [16], len(actions), "tanh")
    if bias_to is not None:
        with torch.no_grad():
            net[-1].bias[actions.index(bias_to)] += 100.0
    FeaturePolicy(net, actions, {"lambda": 0.02, "hidden": [16], "activation": "tanh"}).save(path)
    return path


@pytest.fixture(scope="module")
def reader():
    return tiny_reader()


def make_env(reader):
    cfg = env_config()
    return ContextEnv(toy_examples(), reader, cfg, RewardConfig(), workspace=Workspace(reader, HashingEncoder(), cfg))


def test_save_load_acts_identically(tmp_path, reader, tmp_cache):
    policy = FeaturePolicy.load(saved_policy(tmp_path / "p", seed=3))
    again = resolve_policy(f"learned:{tmp_path / 'p'}")
    rng = np.random.default_rng(0)
    for _ in range(100):
        vector = rng.normal(size=observation_dim()).astype(np.float32)
        mask = rng.random(4) < 0.7
        assert torch.equal(policy.logits(vector), again.logits(vector))
        assert policy.choose(vector, mask) == again.choose(vector, mask)
    env = make_env(reader)
    for example in toy_examples():
        a, b = run_episode(env, policy, example), run_episode(env, again, example)
        assert [s["action"] for s in a["steps"]] == [s["action"] for s in b["steps"]]
        assert a["return"] == b["return"] and a["answer"] == b["answer"]
    assert again.name == f"learned:{tmp_path / 'p'}"
    meta = json.loads((tmp_path / "p" / "policy.json").read_text())
    assert meta["kind"] == "features" and meta["lambda"] == 0.02 and "action_grammar" in meta


def test_masked_actions_are_never_chosen(tmp_path):
    from adactx.graphs.state import Observation

    policy = load_policy(saved_policy(tmp_path / "p", bias_to="refine"))
    obs = Observation("qa", 3000, 12, 500, 1000, 1, 4, [0.5], 0.1, 0.2, -1.0, 0.1,
                      {"retrieve": True, "extend": True, "refine": True, "answer": True})
    assert policy.act(obs).name == "refine"  # the biased favourite, while allowed
    obs.mask["refine"] = False
    assert policy.act(obs).name in ("retrieve", "extend", "answer")
    obs.mask.update(retrieve=False, extend=False, answer=False, summarize=True)
    assert policy.act(obs).name == "summarize"  # none of its actions allowed: stop as the task stops


def test_probabilities_are_the_masked_softmax_whose_argmax_act_takes(tmp_path):
    from adactx.graphs.state import Observation

    policy = load_policy(saved_policy(tmp_path / "p", seed=3))
    obs = Observation("qa", 3000, 12, 500, 1000, 1, 4, [0.5], 0.1, 0.2, -1.0, 0.1,
                      {"retrieve": True, "extend": True, "refine": False, "answer": True})
    p = policy.probabilities(obs)
    names = [a.split("-")[0] for a in policy.actions]
    allowed = [obs.mask.get(n, False) for n in names]
    assert p.sum() == pytest.approx(1.0) and all(p[i] == 0 for i, ok in enumerate(allowed) if not ok)
    logits = policy.logits(obs.to_vector()).numpy()[allowed]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(p[allowed], expected)
    assert names[int(np.argmax(p))] == policy.act(obs).name
    obs.mask.update(retrieve=False, extend=False, answer=False)
    assert not policy.probabilities(obs).any()  # none of its actions allowed


def test_bad_directories_give_clear_errors(tmp_path):
    with pytest.raises(AdactxError, match="no such directory"):
        resolve_policy(f"learned:{tmp_path / 'nope'}")
    with pytest.raises(AdactxError, match="give a directory"):
        resolve_policy("learned:")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdactxError, match="missing policy.json"):
        load_policy(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "policy.json").write_text("{not json")
    with pytest.raises(AdactxError, match="policy.json: not valid JSON"):
        load_policy(bad)
    (bad / "policy.json").write_text('{"kind": "tree"}')
    with pytest.raises(AdactxError, match="field 'kind' 'tree' is unknown"):
        load_policy(bad)
    good = saved_policy(tmp_path / "good")
    (good / "model.safetensors").unlink()
    with pytest.raises(AdactxError, match="missing model.safetensors"):
        load_policy(good)
    other = saved_policy(tmp_path / "other")
    meta = json.loads((other / "policy.json").read_text())
    (other / "policy.json").write_text(json.dumps({**meta, "hidden": [8]}))
    with pytest.raises(AdactxError, match="weights do not match"):
        load_policy(other)
    (other / "policy.json").write_text(json.dumps({**meta, "obs_dim": 3}))
    with pytest.raises(AdactxError, match="field 'observation'"):
        load_policy(other)
    (other / "policy.json").write_text(json.dumps({**meta, "actions": ["jump"]}))
    with pytest.raises(AdactxError, match="field 'actions'"):
        load_policy(other)


def test_lm_kind_without_the_lm_policy_module_is_a_clear_error(tmp_path):
    from adactx.optional import has

    if has("adactx.rl.lm_policy"):
        pytest.skip("adactx.rl.lm_policy exists: its own tests cover kind 'lm'")
    (tmp_path / "policy.json").write_text('{"kind": "lm"}')
    with pytest.raises(AdactxError, match="kind 'lm' needs adactx.rl.lm_policy"):
        load_policy(tmp_path)


def test_context_manager_accepts_learned_dir(tmp_path, tmp_cache, reader):
    from adactx.api import ContextManager

    path = saved_policy(tmp_path / "p", bias_to="retrieve-2")
    cm = ContextManager(reader=reader, encoder=HashingEncoder(), policy=f"learned:{path}", budget=300,
                        max_steps=3, chunk_tokens=24, db=tmp_path / "s.sqlite")
    result = cm.ask("What about the battery?", cm.add_text(TEXT, "doc"))
    assert [s.action for s in result.trace.steps][:2] == ["retrieve", "retrieve"]
    assert result.trace.steps[0].chunks_added and len(result.trace.steps[0].chunks_added) == 2
    with pytest.raises(AdactxError, match="no such directory"):
        ContextManager(reader=reader, policy=f"learned:{tmp_path / 'nope'}")


def test_eval_runs_a_learned_policy_next_to_the_baselines(tmp_path, reader):
    from adactx.rl.evaluate import EvalConfig, read_records, run_eval

    path = saved_policy(tmp_path / "p", seed=1)
    name = f"learned:{path}"
    cfg = EvalConfig(data="mixed:val", n=2, policies=("topk-2", name), budget=200, max_steps=4, chunk_tokens=24,
                     answer_tokens=3, summary_tokens=3, draft_tokens=2, encoder="hashing", n_boot=50,
                     crossfit_repeats=2, lambdas=(0.0,))
    summary = run_eval(cfg, tmp_path / "run", reader=reader, encoder=HashingEncoder(),
                       memo_path=tmp_path / "memo.sqlite", examples=toy_examples(2))
    records = [r for r in read_records(tmp_path / "run" / "records.jsonl") if r["policy"] == name]
    assert len(records) == 2 and name in summary["table"]
    env = make_env(reader)
    direct = run_episode(env, FeaturePolicy.load(path), toy_examples(2)[0])
    first = next(r for r in records if r["example_id"] == "toy0")
    assert first["answer"] == direct["answer"]
    assert [s["action"] for s in first["steps"]] == [s["action"] for s in direct["steps"]]
    with pytest.raises(AdactxError, match="no such directory"):
        EvalConfig(policies=("topk-2", f"learned:{tmp_path / 'nope'}"))


def test_cli_ask_and_eval_accept_learned_dir(tmp_path, tmp_cache, capsys):
    from helpers import tiny_llama, tiny_tokenizer

    model_dir = tmp_path / "tiny"
    tiny_llama(len(tiny_tokenizer())).save_pretrained(model_dir)
    tiny_tokenizer().save_pretrained(model_dir)
    doc = tmp_path / "doc.txt"
    doc.write_text(TEXT)
    path = saved_policy(tmp_path / "p", bias_to="retrieve-2")
    with pytest.raises(SystemExit) as exc:
        main(["ask", str(doc), "What about the battery?", "--policy", f"learned:{path}", "--model",
              str(model_dir), "--encoder", "hashing", "--budget", "300", "--max-steps", "3", "--chunk-tokens",
              "24", "--db", str(tmp_path / "s.sqlite")])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "retrieve" in out
    for argv in (["ask", str(doc), "q", "--policy", f"learned:{tmp_path / 'nope'}"],
                 ["eval", "--policies", f"topk-2,learned:{tmp_path / 'nope'}", "--n", "1"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "no such directory" in err and len(err.strip().splitlines()) == 1
