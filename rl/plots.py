"""Figures of a run directory: the quality-vs-tokens Pareto plot and the decision pictures (PNG).

    draw_all("runs/qmsum-val")       # -> [figures/pareto.png, figures/decisions_threshold.png, figures/context_sizes.png]

pareto.png           mean score (95% CI bars) against mean tokens computed for every policy; fixed settings
                     swept over their knob (first-L, top-K, the oracle's fixed action sequences) are joined
                     by lines; the oracle per λ and the cross-fitted rule are marked; the upper-left frontier
                     is drawn; learned policies (``learned:DIR``) are red plus signs labelled by kind and λ.
decisions_<p>.png    for an adaptive policy: context size over steps per example, each step coloured by action.
context_sizes.png    histograms of final context sizes per group (task / query type / variant) and policy.
learned_actions.png  when the run has learned policies: the share of each action among their steps (and the
                     threshold policies', for comparison).

``learning_curves(curves, path, ylabel)`` draws training curves (scripts/learning_curves.py feeds it the
TensorBoard logs of `adactx train`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from adactx.rl.selection import is_baseline_fixed

from adactx.errors import AdactxError

ACTION_COLOURS = {
    "retrieve": "tab:blue",
    "extend": "tab:orange",
    "refine": "tab:green",
    "answer": "tab:red",
    "summarize": "tab:purple",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_all(run_dir: str | Path, suffix: str = "") -> list[str]:
    from adactx.rl.eval_config import EvalConfig
    from adactx.rl.eval_tables import complete_table
    from adactx.rl.run_dir import read_records

    run_dir = Path(run_dir)
    cfg = EvalConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    summary = json.loads((run_dir / f"summary{suffix}.json").read_text())
    records = read_records(run_dir / "records.jsonl")
    figures = run_dir / f"figures{suffix}"
    figures.mkdir(exist_ok=True)
    from adactx.rl.oracle import tree_labels

    nodes = tree_labels(cfg.oracle_actions, cfg.oracle_depth) if "oracle" in cfg.policies else []
    ids = set(complete_table(records, cfg.baselines + nodes))  # the examples the summary is over
    records = [r for r in records if r["example_id"] in ids]
    if suffix:  # the same outcomes scored by another metric (see EvalConfig.metric)
        for r in records:
            r["score"] = float(r.get("metrics", {}).get(summary["metric"], r["score"]))
    out = [pareto_plot(summary, records, figures / "pareto.png", title=f"{cfg.data} ({summary['metric']})")]
    for policy in cfg.baselines:
        if not is_baseline_fixed(policy):
            out.append(decision_plot(records, policy, figures / f"decisions_{_safe(policy)}.png"))
    out.append(context_histogram(records, cfg.baselines, figures / "context_sizes.png"))
    learned = [p for p in cfg.baselines if p.startswith(("learned:", "threshold"))]
    if any(p.startswith("learned:") for p in learned):
        out.append(action_share_plot(records, learned, figures / "learned_actions.png"))
    return [str(p) for p in out]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def short_label(policy: str) -> str:
    """A plot label: ``learned:DIR`` becomes its kind, λ and any reward ablation (``features λ=0.02 FLOPs``),
    plus the checkpoint (``(step-96)``) when DIR is one."""
    return _label(policy, _learned_meta(policy))


def _label(policy: str, meta: dict | None) -> str:
    if meta is None:
        return policy
    reward = meta.get("reward") or {}
    label = f"{meta.get('kind', 'learned')} λ={meta.get('lambda', reward.get('lam', '?'))}"
    if reward.get("cost", "tokens") != "tokens":
        label += f" {reward['cost'].replace('flops', 'FLOPs')}"
    if reward.get("variant", "linear") == "hard_budget":
        label += f" hard budget {reward.get('hard_budget')}"
    elif reward.get("variant", "linear") != "linear":
        label += f" {reward['variant'].replace('_', ' ')}"
    name = Path(policy[len("learned:") :]).name
    return label + (f" ({name})" if name.startswith("step-") else "")


# what tells apart two learned policies whose kind, λ and reward agree (candidates of one setting)
TRAINING_FIELDS = ("seed", "n", "timesteps")


def short_labels(policies: list[str]) -> dict[str, str]:
    """``short_label`` of each policy, made distinct: policies that would share a label get the training
    fields they differ in (``features λ=0.02 seed=2``, ``features λ=0.02 n=128 timesteps=2048``)."""
    metas = {p: _learned_meta(p) for p in policies}  # each policy.json read once
    labels = {p: _label(p, metas[p]) for p in policies}
    groups: dict[str, list[str]] = defaultdict(list)
    for p, label in labels.items():
        groups[label].append(p)
    for label, members in groups.items():
        if len(members) < 2:
            continue
        group = {p: metas[p] or {} for p in members}
        differing = [f for f in TRAINING_FIELDS if len({str(m.get(f)) for m in group.values()}) > 1]
        default = {f: group[members[0]].get(f) for f in differing}  # the first one keeps the plain label
        for p in members[1:]:
            extra = " ".join(f"{f}={group[p].get(f)}" for f in differing if group[p].get(f) != default[f])
            labels[p] = f"{label} {extra}" if extra else f"{label} [{Path(p[len('learned:') :]).parent.name}]"
    return labels


def _learned_meta(policy: str) -> dict | None:
    if not policy.startswith("learned:"):
        return None
    from adactx.rl.policy_dir import read_policy_json

    try:
        return read_policy_json(Path(policy[len("learned:") :]))
    except AdactxError:  # a plot label never fails a figure
        return None


def _family(policy: str) -> str:
    if policy.startswith("learned:"):
        return "learned"
    if policy.startswith("first-") or policy == "full":
        return "first-L (prefix)"
    if policy.startswith("topk-"):
        return "top-K"
    if policy.startswith("refine-"):
        return "refine-K"
    if policy.startswith("threshold"):
        return "threshold (τ)"
    return policy


def pareto_plot(summary: dict, records: list[dict], path: Path, title: str = "") -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    nodes = _plot_tree_nodes(ax, records)
    points = _plot_policy_families(ax, summary)
    _plot_oracle_and_rule(ax, summary)
    frontier = _frontier(points + [(x, y) for x, y, _ in nodes])
    if len(frontier) > 1:
        ax.plot(*zip(*frontier), color="black", linewidth=0.6, linestyle=":", label="Pareto frontier")
    ax.set_xlabel("mean tokens computed by the reader per query")
    ax.set_ylabel("mean score (95% bootstrap CI)")
    ax.set_title(f"{title}: quality vs tokens (n = {summary['n']})")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _plot_tree_nodes(ax, records: list[dict]) -> list[tuple[float, float, str]]:
    """Every fixed action sequence of the oracle's tree (grey), on the examples in the summary."""
    import numpy as np

    by_label: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_label[r["policy"]].append(r)
    nodes = [
        (np.mean([r["usage"]["tokens_computed"] for r in rs]), np.mean([r["score"] for r in rs]), lb)
        for lb, rs in by_label.items()
        if lb.startswith("seq:") or lb == "none"
    ]
    if nodes:
        ax.scatter(
            [x for x, _, _ in nodes],
            [y for _, y, _ in nodes],
            s=14,
            c="0.6",
            label="oracle tree nodes (fixed)",
        )
    return nodes


def _plot_policy_families(ax, summary: dict) -> list[tuple[float, float]]:
    """The policies, a line per family swept over its knob; returns every row's (tokens, score)."""
    import numpy as np

    families: dict[str, list[dict]] = defaultdict(list)
    labels = short_labels([row["policy"] for row in summary["rows"] if row["kind"] == "policy"])
    stacked: dict[tuple[float, float], int] = defaultdict(int)  # policies on one point: stack their labels
    points = []
    for row in summary["rows"]:
        if row["kind"] == "policy":
            families[_family(row["policy"])].append(row)
        points.append((row["tokens"], row["score"]))
    for family, rows in families.items():
        rows = sorted(rows, key=lambda r: r["tokens"])
        xs, ys = [r["tokens"] for r in rows], [r["score"] for r in rows]
        err = np.array([[r["score"] - r["ci"][0] for r in rows], [r["ci"][1] - r["score"] for r in rows]])
        learned = family == "learned"  # one point per trained policy (λ), not a knob sweep: no line
        ax.errorbar(
            xs,
            ys,
            yerr=err,
            marker="P" if learned else "o",
            markersize=8 if learned else 6,
            capsize=3,
            label=family,
            linestyle="-" if len(rows) > 1 and not learned else "",
            color="tab:red" if learned else None,
        )
        for r in rows:
            at = (round(r["tokens"]), round(r["score"], 4))
            ax.annotate(
                labels[r["policy"]],
                (r["tokens"], r["score"]),
                fontsize=7,
                xytext=(3, 3 + 8 * stacked[at]),
                textcoords="offset points",
            )
            stacked[at] += 1
    return points


def _plot_oracle_and_rule(ax, summary: dict) -> None:
    stacked: dict[str, int] = defaultdict(int)  # oracle λ points often coincide: stack their labels
    for row in summary["rows"]:
        if row["kind"] in ("oracle", "crossfit"):
            marker = "*" if row["kind"] == "oracle" else "D"
            ax.errorbar(
                [row["tokens"]],
                [row["score"]],
                yerr=[[row["score"] - row["ci"][0]], [row["ci"][1] - row["score"]]],
                marker=marker,
                markersize=9 if marker == "*" else 5,
                capsize=3,
                linestyle="",
                color="black" if row["kind"] == "oracle" else "tab:gray",
            )
            ax.annotate(
                row["policy"],
                (row["tokens"], row["score"]),
                fontsize=6,
                xytext=(4, -8 - 7 * stacked[row["kind"]]),
                textcoords="offset points",
            )
            stacked[row["kind"]] += 1


def _frontier(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, best = [], float("-inf")
    for x, y in sorted(points):
        if y > best:
            out.append((x, y))
            best = y
    return out


def decision_plot(records: list[dict], policy: str, path: Path, limit: int = 40) -> Path:
    """Context size after each step, one line per example, each step's marker coloured by its action."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    rows = [r for r in records if r["policy"] == policy][:limit]
    for r in rows:
        sizes = [0] + [s["context_tokens"] for s in r["steps"]]
        ax.plot(range(len(sizes)), sizes, color="0.8", linewidth=0.8, zorder=1)
        for i, s in enumerate(r["steps"], start=1):
            ax.scatter(
                [i], [s["context_tokens"]], s=14, color=ACTION_COLOURS.get(s["action"], "black"), zorder=2
            )
    for name, colour in ACTION_COLOURS.items():
        if any(s["action"] == name for r in rows for s in r["steps"]):
            ax.scatter([], [], color=colour, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("document tokens in the context")
    ax.set_title(f"{policy}: context size over steps ({len(rows)} examples)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def context_histogram(records: list[dict], policies: list[str], path: Path) -> Path:
    """Final context sizes per group (task, query type or variant), one histogram per policy."""
    plt = _plt()
    groups = sorted({r["group"] for r in records})
    fig, axes = plt.subplots(1, max(len(groups), 1), figsize=(3.2 * max(len(groups), 1), 3.2), squeeze=False)
    for ax, group in zip(axes[0], groups):
        for policy in policies:
            sizes = [r["context_tokens"] for r in records if r["group"] == group and r["policy"] == policy]
            if sizes:
                ax.hist(sizes, bins=12, alpha=0.45, label=policy)
        ax.set_title(group, fontsize=9)
        ax.set_xlabel("final context tokens", fontsize=8)
    axes[0][0].set_ylabel("examples")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def action_shares(records: list[dict], policy: str) -> dict[str, float]:
    """Share of each action among all the steps ``policy`` took (its decisions, the final answer included)."""
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        if r["policy"] == policy:
            for s in r["steps"]:
                counts[s["action"]] += 1
    total = sum(counts.values()) or 1
    return {a: c / total for a, c in counts.items()}


def action_share_plot(records: list[dict], policies: list[str], path: Path) -> Path:
    """One stacked bar per policy: the share of its steps that were each action."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(policies) + 1.6))
    for i, policy in enumerate(policies):
        left = 0.0
        for action, share in sorted(action_shares(records, policy).items()):
            ax.barh(i, share, left=left, color=ACTION_COLOURS.get(action, "black"))
            left += share
    from matplotlib.patches import Patch

    used = {s["action"] for r in records if r["policy"] in policies for s in r["steps"]}
    handles = [Patch(color=colour, label=name) for name, colour in ACTION_COLOURS.items() if name in used]
    labels = short_labels(policies)
    ax.set_yticks(range(len(policies)), [labels[p] for p in policies], fontsize=7)
    ax.set_xlabel("share of steps")
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def learning_curves(curves: dict[str, list[tuple[float, float]]], path: Path, ylabel: str) -> Path:
    """One line per training run: (decisions so far, mean episode reward) per rollout / update."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, points in curves.items():
        if points:
            ax.plot(*zip(*points), marker="o", markersize=3, label=label)
    ax.set_xlabel("policy decisions trained on")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


__all__ = [
    "action_share_plot",
    "action_shares",
    "context_histogram",
    "decision_plot",
    "draw_all",
    "learning_curves",
    "pareto_plot",
    "short_label",
    "short_labels",
]
