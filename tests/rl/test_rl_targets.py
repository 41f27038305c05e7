"""scripts/policy_targets.py's arithmetic (adactx.rl.targets) on a tiny synthetic run directory."""

import json

import numpy as np
import pytest
import torch
from adactx.rl.eval_config import EvalConfig
from adactx.rl.features import FeaturePolicy, build_mlp, explicit_actions, observation_dim
from adactx.rl.selection import Selection, save_selection
from adactx.rl.targets import policy_targets, read_curve, read_throughput, render_targets
from rl_fixtures import env_config

from adactx.errors import AdactxError

# per example: score and tokens computed of each policy (λ = 0.02 → reward = score − 0.02 · tokens / 1000)
TEST = {
    "full": [(0.5, 1000), (0.0, 1000), (1.0, 1000), (0.0, 1000)],
    "topk-2": [(0.3, 500), (0.0, 500), (1.0, 500), (0.0, 500)],
    "A": [(0.6, 500), (0.5, 500), (1.0, 500), (0.0, 500)],  # the learned policy chosen on val
    "B": [(1.0, 0), (1.0, 0), (1.0, 0), (1.0, 0)],  # better on test, worse on val: must not be chosen
}
VAL = {"full": [(0.5, 1000)], "topk-2": [(0.2, 500)], "A": [(0.9, 500)], "B": [(0.0, 500)]}


def learned_dir(path, lam, reward=None, **training):
    cfg = env_config()
    actions = explicit_actions(cfg)
    torch.manual_seed(0)
    net = build_mlp(observation_dim(), [4], len(actions), "tanh")
    meta = {"lambda": lam, "hidden": [4], "activation": "tanh", **training}
    if reward is not None:
        meta["reward"] = reward
    FeaturePolicy(net, actions, meta).save(path)
    return f"learned:{path}"


def write_records(path, outcomes, labels, split):
    path.mkdir(parents=True, exist_ok=True)
    with (path / "records.jsonl").open("w") as fh:
        for name, rows in outcomes.items():
            for i, (score, tokens) in enumerate(rows):
                usage = {
                    "tokens_computed": tokens,
                    "tokens_reused": 0,
                    "tokens_generated": 0,
                    "flops": 0.0,
                    "calls": 1,
                }
                fh.write(
                    json.dumps(
                        {
                            "example_id": f"{split}-{i}",
                            "doc_id": f"{split}-doc{i}",
                            "policy": labels[name],
                            "score": score,
                            "usage": usage,
                            "context_tokens": tokens,
                        }
                    )
                    + "\n"
                )


@pytest.fixture
def run(tmp_path):
    labels = {
        "full": "full",
        "topk-2": "topk-2",
        "A": learned_dir(tmp_path / "A", 0.02),
        "B": learned_dir(tmp_path / "B", 0.02),
    }
    cfg = EvalConfig(
        data="mixed:test", select_on="val", policies=tuple(labels.values()), lambdas=(0.02, 0.05)
    )
    out = tmp_path / "run"
    write_records(out, TEST, labels, "test")
    write_records(out / "select-val", VAL, labels, "val")
    (out / "config.json").write_text(json.dumps(cfg.to_dict()))
    save_selection(
        out,
        Selection(
            data="mixed:val",
            n=1,
            n_documents=1,
            best_fixed="full",
            best_fixed_at={"0.02": "topk-2", "0.05": "topk-2"},
        ),
    )
    return out, labels


def test_targets_choose_on_val_and_compute_diff_and_gap(run):
    out, labels = run
    row = policy_targets(out)["rows"][0]
    assert row["learned"] == labels["A"] and row["fixed"] == "topk-2" and row["n"] == 4
    a = np.array([0.6, 0.5, 1.0, 0.0]) - 0.01
    f = np.array([0.3, 0.0, 1.0, 0.0]) - 0.01
    o = np.maximum(
        np.array([0.5, 0.0, 1.0, 0.0]) - 0.02, f
    )  # ceiling over full and topk-2 (learned excluded)
    assert row["learned_reward"] == pytest.approx(a.mean())
    assert row["diff"][0] == pytest.approx((a - f).mean())
    assert row["oracle_reward"] == pytest.approx(o.mean())
    assert row["gap_closed"][0] == pytest.approx((a - f).sum() / (o - f).sum())
    assert row["diff"][1] <= row["diff"][0] <= row["diff"][2]
    assert row["learned_tokens"] == 500 and row["fixed_tokens"] == 500


def test_the_ceiling_leaves_out_reader_sensitivity_conditions(run):
    # an eval run with --sensitivity stores a "gold" record per example (the gold evidence as context);
    # no policy can play it, so it must not raise the oracle (sitting 6's QMSum run had it)
    out, _ = run
    before = policy_targets(out)["rows"][0]
    write_records(out.parent / "gold", {"gold": [(1.0, 10)] * 4}, {"gold": "gold"}, "test")
    with (out / "records.jsonl").open("a") as fh:
        fh.write((out.parent / "gold" / "records.jsonl").read_text())
    after = policy_targets(out)["rows"][0]
    assert after["oracle_reward"] == pytest.approx(before["oracle_reward"])
    assert before["oracle_reward"] < 0.5  # counting gold (1 − 0.02 · 0.01 on every example) would give 0.9998
    assert after["gap_closed"][0] == pytest.approx(before["gap_closed"][0])


def test_fixed_among_chooses_again_on_val_within_the_named_families(run):
    out, labels = run
    # on val at λ = 0.02: full 0.5 − 0.02 = 0.48 beats topk-2 0.2 − 0.01 = 0.19; the run's selection says topk-2
    row = policy_targets(out, fixed_among=("full",))["rows"][0]
    assert row["fixed"] == "full" and row["learned"] == labels["A"]
    f = np.array([0.5, 0.0, 1.0, 0.0]) - 0.02
    assert row["fixed_reward"] == pytest.approx(f.mean())
    assert policy_targets(out, fixed_among=("full", "topk-"))["rows"][0]["fixed"] == "full"
    assert "among full" in render_targets(policy_targets(out, fixed_among=("full",)))
    with pytest.raises(AdactxError, match="none of the run's fixed settings"):
        policy_targets(out, fixed_among=("refine-",))


def test_against_compares_with_a_named_setting_on_the_report_split(run):
    out, labels = run
    row = policy_targets(out, against="full")["rows"][0]  # at λ = 0.02 val chose topk-2; full is named
    assert row["fixed"] == "full" and row["learned"] == labels["A"]
    assert row["fixed_reward"] == pytest.approx((np.array([0.5, 0.0, 1.0, 0.0]) - 0.02).mean())
    text = render_targets(policy_targets(out, against="full"))
    assert "full (named, not chosen on val" in text and "| n/a |" in text and "missed" not in text
    with pytest.raises(AdactxError, match="--against none: not one of the run's settings"):
        policy_targets(out, against="none")


def test_a_reward_ablation_is_no_candidate_for_the_lambda_it_names(tmp_path):
    from adactx.rl.targets import policy_lambda

    linear = {"lam": 0.02, "cost": "tokens", "cost_scale": 1000.0, "variant": "linear"}
    assert policy_lambda(learned_dir(tmp_path / "a", 0.02, linear)) == 0.02
    assert policy_lambda(learned_dir(tmp_path / "b", 0.02)) == 0.02  # older policy.json: no reward table
    hard = dict(linear, variant="hard_budget")
    flops = dict(linear, lam=0.08, cost="flops", cost_scale=1e12)
    assert policy_lambda(learned_dir(tmp_path / "c", 0.02, hard)) is None
    assert policy_lambda(learned_dir(tmp_path / "d", 0.08, flops)) is None


def test_lambda_without_a_learned_policy_and_render(run):
    out, _ = run
    result = policy_targets(out)
    assert "missing" in result["rows"][1]  # both policies were trained for 0.02
    text = render_targets(result)
    assert "| 0.02 |" in text and "no learned policy trained for this λ" in text


def test_throughput_and_missing_selection_are_clear(run, tmp_path):
    out, _ = run
    train = tmp_path / "train"
    train.mkdir()
    (train / "throughput.json").write_text(
        json.dumps({"decisions": 10, "decisions_per_hour": 1200.0, "memo_hit_rate": 0.5})
    )
    assert "1,200 decisions/hour" in render_targets(policy_targets(out, train_dirs=[train]))
    ppo = tmp_path / "ppo"
    ppo.mkdir()
    rows = [
        {"queries": 8, "throughput/decisions_per_hour": 900.0},
        {"queries": 8, "throughput/decisions_per_hour": 950.0, "throughput/memo_hit_rate": 0.75},
    ]
    (ppo / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = render_targets(policy_targets(out, train_dirs=[ppo]))
    assert "950 decisions/hour over 16 decisions, memo hit rate 75%" in text
    (train / "throughput.json").write_text(
        json.dumps({"decisions": 0, "decisions_per_hour": 0.0})
    )  # finalized
    (train / "curve.jsonl").write_text(json.dumps({"decisions": 96, "decisions_per_hour": 225.0}) + "\n")
    assert "225 decisions/hour over 96 decisions" in render_targets(policy_targets(out, train_dirs=[train]))
    with pytest.raises(AdactxError, match="throughput.json"):
        policy_targets(out, train_dirs=[tmp_path])
    (out / "selection.json").unlink()
    with pytest.raises(AdactxError, match="selection.json"):
        policy_targets(out)


def test_read_curve_of_features_ppo_and_grpo_runs(tmp_path):
    feats, ppo = tmp_path / "features-l0.02", tmp_path / "ppo"
    feats.mkdir(), ppo.mkdir()
    rows = [
        {"decisions": 16, "return": 0.1},
        {"decisions": 32, "return": None},
        {"decisions": 32, "return": 0.3},
    ]
    (feats / "curve.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows)
    )  # a resumed rollout: last wins
    assert read_curve(feats) == ("features features-l0.02", [(16, 0.1), (32, 0.3)])
    hist = [{"queries": 8, "rollout/return": 0.2}, {"queries": 6, "rollout/return": 0.25}]
    (ppo / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in hist))
    assert read_curve(ppo) == ("LM ppo", [(8.0, 0.2), (14.0, 0.25)])
    grpo = tmp_path / "grpo"
    for step, logs in ((4, hist[:1]), (8, hist)):  # the newest checkpoint holds every step's logs
        (grpo / f"checkpoint-{step}").mkdir(parents=True)
        state = {
            "train_batch_size": 8,
            "log_history": [
                {
                    "rollout/return": r["rollout/return"],
                    "rollout/decisions_per_episode": r["queries"] / 8,
                    "throughput/decisions_per_hour": 100.0 * len(logs),
                    "throughput/memo_hit_rate": 0.5,
                }
                for r in logs
            ]
            + [{"train_runtime": 1.0}],
        }
        (grpo / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(state))
    assert read_curve(grpo) == ("LM grpo", [(8.0, 0.2), (14.0, 0.25)])
    assert read_throughput(grpo) == {
        "dir": str(grpo),
        "decisions": 14,
        "decisions_per_hour": 200.0,
        "memo_hit_rate": 0.5,
    }
    with pytest.raises(AdactxError, match="curve.jsonl"):
        read_curve(tmp_path)
