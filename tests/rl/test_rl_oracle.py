"""The oracle's exhaustive tree and the cross-fitted bucket rule."""

import numpy as np
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.env import ContextEnv, Workspace
from adactx.rl.memo import MemoReader, OutcomeMemo
from adactx.rl.oracle import ROOT, crossfit, document_halves, explore, oracle_choice, reward_of, tree_labels
from adactx.rl.rewards import RewardConfig
from helpers import tiny_reader
from rl_fixtures import env_config, toy_examples


def test_explore_visits_the_whole_bounded_tree_through_the_memo(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path))
    memo_reader = MemoReader(tiny_reader(), OutcomeMemo(tmp_path / "memo.sqlite"))
    cfg = env_config()
    env = ContextEnv(
        toy_examples(), memo_reader, cfg, workspace=Workspace(memo_reader, HashingEncoder(), cfg)
    )
    actions = ("retrieve-2", "extend-60")
    nodes = explore(env, toy_examples()[0], actions, depth=2)
    assert sorted(nodes) == sorted(tree_labels(actions, 2)) and len(nodes) == 7
    assert nodes[ROOT]["context_tokens"] == 0
    assert nodes["seq:retrieve-2>retrieve-2"]["context_tokens"] > nodes["seq:retrieve-2"]["context_tokens"]
    misses = memo_reader.memo.misses
    again = explore(env, toy_examples()[0], actions, depth=2)  # replay: every node is a memo hit
    assert memo_reader.memo.misses == misses
    assert {k: v["score"] for k, v in again.items()} == {k: v["score"] for k, v in nodes.items()}
    for lam in (0.0, 0.5):
        cfg_r = RewardConfig(lam=lam)
        _label, best = oracle_choice(nodes, cfg_r, 200)
        assert all(reward_of(best, cfg_r, 200) >= reward_of(o, cfg_r, 200) for o in nodes.values())


def _outcome(score, tokens):
    return {"score": score, "usage": {"tokens_computed": tokens, "flops": 0.0}, "context_tokens": tokens}


def test_crossfit_learns_a_per_bucket_rule_and_scores_it_out_of_fold():
    # long documents want "long", short ones want "short": one fixed setting cannot have both
    rng = np.random.default_rng(0)
    table, features = {}, {}
    for i in range(80):
        long_doc = i % 2 == 0
        table[f"e{i}"] = {
            "short": _outcome(0.2 if long_doc else 0.8, 100),
            "long": _outcome(0.8 if long_doc else 0.2, 100),
        }
        features[f"e{i}"] = {
            "task": "qa",
            "doc_tokens": 5000 if long_doc else 500,
            "margin": float(rng.random()),
        }
    cf = crossfit(table, ["short", "long"], features, RewardConfig(), budget=1000, repeats=5, min_bucket=3)
    assert cf.rule_score.mean() > 0.7 and abs(cf.fixed_score.mean() - 0.5) < 0.1
    assert set(cf.choices) == {"short", "long"}


def test_crossfit_halves_split_documents_not_questions():
    doc = np.array([f"doc{i // 4}" for i in range(40)])  # 10 documents, 4 questions each
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = document_halves(doc, rng)
        assert sorted([*a, *b]) == list(range(40))
        assert not set(doc[a]) & set(doc[b]) and len(set(doc[a])) == 5
    # crossfit runs on the same document halves when given the documents
    table = {f"e{i}": {"s": _outcome(0.5, 100), "t": _outcome(0.4, 100)} for i in range(40)}
    features = {e: {"task": "qa", "doc_tokens": 100, "margin": 0.0} for e in table}
    clusters = {f"e{i}": doc[i] for i in range(40)}
    cf = crossfit(table, ["s", "t"], features, RewardConfig(), budget=1000, repeats=3, clusters=clusters)
    assert cf.choices == {"s": 120}
