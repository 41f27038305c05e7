"""The learned-policy figures of adactx.rl.plots: action shares, labels, learning curves, the Pareto marker."""

import pytest
from adactx.rl.plots import action_share_plot, action_shares, learning_curves, pareto_plot, short_label
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
