"""The learned-policy figures of adactx.rl.plots: action shares, labels, learning curves, the Pareto marker."""

import pytest
from adactx.rl.plots import (
    action_share_plot,
    action_shares,
    learning_curves,
    pareto_plot,
    short_label,
    short_labels,
)
from test_rl_targets import learned_dir


def steps(*actions):
    return [{"action": a, "context_tokens": 100 * i} for i, a in enumerate(actions, start=1)]


def test_action_shares_count_every_step_of_the_policy_only():
    records = [
        {"policy": "p", "steps": steps("retrieve", "answer")},
        {"policy": "p", "steps": steps("retrieve", "extend", "answer")},
        {"policy": "q", "steps": steps("refine", "answer")},
    ]
    shares = action_shares(records, "p")
    assert shares == pytest.approx({"retrieve": 2 / 5, "extend": 1 / 5, "answer": 2 / 5})


def test_learned_label_and_figures(tmp_path):
    label = learned_dir(tmp_path / "checkpoints" / "step-96", 0.05)
    assert short_label(label) == "features λ=0.05 (step-96)"
    assert short_label("topk-2") == "topk-2" and short_label("learned:/nowhere") == "learned:/nowhere"
    records = [{"policy": label, "steps": steps("retrieve", "answer")}]
    assert action_share_plot(records, [label], tmp_path / "a.png").stat().st_size > 0
    curves = {"features λ=0.02": [(32, 0.1), (64, 0.2)], "empty": []}
    assert learning_curves(curves, tmp_path / "c.png", "mean return").stat().st_size > 0
    row = {"kind": "policy", "tokens": 500.0, "score": 0.3, "ci": [0.2, 0.4], "n": 4}
    summary = {"n": 4, "rows": [{**row, "policy": "topk-2"}, {**row, "policy": label, "tokens": 300.0}]}
    assert pareto_plot(summary, [], tmp_path / "p.png").stat().st_size > 0


def test_learned_labels_name_the_ablation_and_tell_candidates_apart(tmp_path):
    plain = learned_dir(tmp_path / "a" / "policy", 0.02, seed=1, n=64)
    seed2 = learned_dir(tmp_path / "b" / "policy", 0.02, seed=2, n=64)
    more = learned_dir(tmp_path / "c" / "policy", 0.02, seed=1, n=128)
    flops = learned_dir(tmp_path / "d" / "policy", 0.08, {"lam": 0.08, "cost": "flops"})
    budget = learned_dir(
        tmp_path / "e" / "policy", 0.02, {"lam": 0.02, "variant": "hard_budget", "hard_budget": 0.6}
    )
    labels = short_labels([plain, seed2, more, flops, budget, "topk-4"])
    assert labels == {
        plain: "features λ=0.02",
        seed2: "features λ=0.02 seed=2",
        more: "features λ=0.02 n=128",
        flops: "features λ=0.08 FLOPs",
        budget: "features λ=0.02 hard budget 0.6",
        "topk-4": "topk-4",
    }
    twins = [learned_dir(tmp_path / name / "policy", 0.05) for name in ("x", "y")]
    assert short_labels(twins) == {twins[0]: "features λ=0.05", twins[1]: "features λ=0.05 [y]"}
