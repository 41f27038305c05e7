"""The statistics of a run directory, from its records alone (so they can be redrawn offline).

    tables = aggregate_tables("runs/qmsum-val")  # rows per policy, oracle and cross-fit rule per λ, groups
    complete_table(records, labels)          # example_id -> label -> record, for complete examples

Every row has the mean score with a 95% CI, the paired difference against the best fixed setting,
tokens computed, context tokens, TFLOPs, wall seconds and evidence recall. Every CI is a cluster
bootstrap over documents (``adactx.rl.stats``; a record's ``doc_id``, else its example). The best fixed
setting is one of the asked fixed baselines: the one ``selection.json`` names when the run chose on
another split (``--select-on``), else the best on these examples (in-sample, and said so). The oracle
is a ceiling: its rows carry no significance mark.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from adactx.rl.eval_config import EvalConfig
from adactx.rl.eval_report import render
from adactx.rl.run_dir import read_records, record_document
from adactx.rl.selection import Selection, best_of, fixed_candidates, load_selection

from adactx.errors import AdactxError


def complete_table(records: list[dict], labels: list[str]) -> dict[str, dict[str, dict]]:
    """example_id -> label -> record, for the examples that have every label."""
    by_example: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in records:
        by_example[r["example_id"]][r["policy"]] = r
    return {e: rows for e, rows in by_example.items() if all(lb in rows for lb in labels)}


def aggregate_tables(out: str | Path, cfg: EvalConfig | None = None) -> dict:
    """The summary of a run directory, from its records alone (so it can be redrawn offline)."""
    from adactx.rl.oracle import tree_labels

    out = Path(out)
    cfg = cfg or EvalConfig.from_dict(json.loads((out / "config.json").read_text()))
    records = read_records(out / "records.jsonl")
    if cfg.metric != "score":  # score the same outcomes by another of their metrics
        for r in records:
            r["score"] = float(r.get("metrics", {}).get(cfg.metric, r["score"]))
    nodes = tree_labels(cfg.oracle_actions, cfg.oracle_depth) if "oracle" in cfg.policies else []
    table = complete_table(records, cfg.baselines + nodes)
    summary: dict = {"data": cfg.data, "metric": cfg.metric, "n": len(table), "rows": [], "reward_rows": []}
    if not table:
        summary["table"] = f"{cfg.data}: no example has finished every policy yet"
        return summary
    tables = Tables(cfg, table, nodes, load_selection(out) if cfg.select_on else None)
    summary.update(tables.protocol())
    summary["rows"] = [tables.policy_row(p) for p in cfg.baselines]
    for lam in cfg.lambdas:
        rows, entry = tables.at_lambda(lam)
        summary["rows"] += rows
        summary["reward_rows"].append(entry)
    summary["groups"] = _group_scores(table, tables.ids, cfg.baselines)
    in_table = set(tables.ids)  # the sensitivity conditions are reported on the same examples as the tables
    summary["sensitivity"] = (
        _sensitivity([r for r in records if r["example_id"] in in_table], cfg, tables.plain_boot)
        if cfg.sensitivity
        else []
    )
    summary["table"] = render(summary, cfg)
    return summary


class Tables:
    """The complete examples of a run and the rows computed over them (scores against the best fixed)."""

    def __init__(self, cfg: EvalConfig, table: dict, nodes: list[str], selection: Selection | None):
        self.cfg, self.table, self.ids, self.selection = cfg, table, sorted(table), selection
        baselines = cfg.baselines
        first = [table[e][baselines[0]] for e in self.ids]
        self.clusters = [record_document(r) for r in first]
        self.clustered = all(r.get("doc_id") for r in first)
        self.plain_boot = {"n_boot": cfg.n_boot, "seed": cfg.seed}  # for subsets that name their own clusters
        self.boot = {**self.plain_boot, "clusters": self.clusters}
        self.fixed = fixed_candidates(baselines)  # the asked fixed baselines, never an oracle-tree node
        # the cross-fitted rule may also choose any fixed action sequence of the oracle's tree ("none" too)
        self.settings = self.fixed + [lb for lb in nodes if lb not in baselines]
        if selection is not None and selection.best_fixed not in self.fixed:
            raise AdactxError(
                f"selection.json: best fixed {selection.best_fixed!r} is not an asked fixed baseline; rerun"
            )
        means = {p: float(np.mean(self.col(p, "score"))) for p in self.fixed}
        self.best_fixed = selection.best_fixed if selection else best_of(means, self.fixed)
        self.best_scores = self.col(self.best_fixed, "score")
        self.features = {e: table[e][baselines[0]]["features"] for e in self.ids}

    def protocol(self) -> dict:
        """How the comparisons were set up: the reference, where it was chosen, the clusters."""
        return {
            "best_fixed": self.best_fixed,
            "chosen_on": self.selection.data if self.selection else "in-sample",
            "selection": self.selection.to_dict() if self.selection else None,
            "n_documents": len(set(self.clusters)),
            "clustered": self.clustered,
        }

    def col(self, label: str, key: str) -> list:
        return [_get(self.table[e][label], key) for e in self.ids]

    def row(self, name, scores, tokens, ctx_tokens, flops, wall, recall, kind) -> dict:
        from adactx.rl.stats import mean_ci, paired_difference

        m, lo, hi = mean_ci(scores, **self.boot)
        d = paired_difference(scores, self.best_scores, **self.boot)
        recall = [r for r in recall if r is not None]
        return {
            "policy": name,
            "kind": kind,
            "n": len(scores),
            "score": m,
            "ci": [lo, hi],
            "diff": d[0],
            "diff_ci": [d[1], d[2]],
            "tokens": float(np.mean(tokens)),
            "context_tokens": float(np.mean(ctx_tokens)),
            "tflops": float(np.mean(flops)) / 1e12,
            "wall_s": float(np.mean(wall)) if wall else float("nan"),
            "evidence_recall": float(np.mean(recall)) if recall else None,
        }

    def policy_row(self, p: str) -> dict:
        keys = ("score", "tokens", "context_tokens", "flops", "wall_s", "evidence_recall")
        return self.row(p, *(self.col(p, k) for k in keys), "policy")

    def at_lambda(self, lam: float) -> tuple[list[dict], dict]:
        """The oracle's and the cross-fitted rule's rows at this λ, and the rewards entry."""
        from adactx.rl.oracle import crossfit, oracle_choice
        from adactx.rl.rewards import RewardConfig

        cfg, rcfg, rows = self.cfg, RewardConfig(lam=lam), []
        chosen = None
        if "oracle" in cfg.policies:
            chosen = [
                oracle_choice({k: v for k, v in self.table[e].items() if k != "gold"}, rcfg, cfg.budget)[1]
                for e in self.ids
            ]
            rows.append(self.oracle_row(lam, chosen))
        cf = crossfit(
            self.table,
            self.settings,
            self.features,
            rcfg,
            cfg.budget,
            repeats=cfg.crossfit_repeats,
            seed=cfg.seed,
            clusters=dict(zip(self.ids, self.clusters)),
        )
        n = len(self.ids)
        rows.append(
            self.row(f"cross-fit rule λ={lam:g}", list(cf.rule_score), list(cf.rule_tokens), [0] * n, [0] * n,
                     [], [], "crossfit")
        )
        rows[-1].update(context_tokens=None, tflops=None)
        return rows, self.reward_entry(lam, rcfg, chosen, cf)

    def oracle_row(self, lam: float, chosen: list[dict]) -> dict:
        return self.row(
            f"oracle λ={lam:g}",
            [c["score"] for c in chosen],
            [_get(c, "tokens") for c in chosen],
            [c["context_tokens"] for c in chosen],
            [_get(c, "flops") for c in chosen],
            [],
            [c.get("evidence_recall") for c in chosen],
            "oracle",
        )

    def reward_entry(self, lam: float, rcfg, chosen: list[dict] | None, cf) -> dict:
        """Rewards at this λ: the best fixed setting in hindsight, the oracle, the cross-fitted rule."""
        from adactx.rl.oracle import reward_of
        from adactx.rl.stats import mean_ci, paired_difference

        budget, boot = self.cfg.budget, self.boot
        rewards = {s: [reward_of(self.table[e][s], rcfg, budget) for e in self.ids] for s in self.fixed}
        chosen_on = self.selection.best_fixed_at.get(f"{lam:g}") if self.selection else None
        best_at = chosen_on or best_of({p: float(np.mean(r)) for p, r in rewards.items()}, self.fixed)
        ref = rewards[best_at]
        entry = {"lambda": lam, "best_fixed": best_at, "best_fixed_reward": mean_ci(ref, **boot)}
        entry["chosen_on"] = self.selection.data if chosen_on else "in-sample"
        if chosen is not None:
            orc = [reward_of(c, rcfg, budget) for c in chosen]
            entry["oracle_reward"] = mean_ci(orc, **boot)
            entry["oracle_diff"] = paired_difference(orc, ref, **boot)
            entry["gap_closed"] = self.gaps_closed(rcfg, ref, orc)
        entry["crossfit_reward"] = mean_ci(cf.rule_reward, **boot)
        entry["crossfit_fixed_reward"] = mean_ci(cf.fixed_reward, **boot)
        entry["crossfit_diff"] = paired_difference(cf.rule_reward, cf.fixed_reward, **boot)
        entry["crossfit_choices"] = dict(sorted(cf.choices.items(), key=lambda kv: -kv[1])[:4])
        return entry

    def gaps_closed(self, rcfg, ref: list[float], orc: list[float]) -> dict[str, tuple]:
        """Per adaptive baseline (every asked policy that is not a fixed setting): the share of the
        oracle's reward headroom over the best fixed setting it closes, with its CI."""
        from adactx.rl.oracle import reward_of
        from adactx.rl.stats import gap_closed

        out = {}
        for p in (p for p in self.cfg.baselines if p not in self.fixed):
            rewards = [reward_of(self.table[e][p], rcfg, self.cfg.budget) for e in self.ids]
            out[p] = gap_closed(rewards, ref, orc, **self.boot)
        return out


def _get(record: dict, key: str):
    if key == "tokens":
        return record["usage"]["tokens_computed"]
    if key == "flops":
        return record["usage"]["flops"]
    return record.get(key)


def _group_scores(table, ids, baselines) -> dict:
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for e in ids:
        for p in baselines:
            groups[table[e][p]["group"]][p].append(table[e][p]["score"])
    return {
        g: {p: [float(np.mean(v)), len(v)] for p, v in by_p.items()} for g, by_p in sorted(groups.items())
    }


def _sensitivity(records, cfg, boot) -> list[dict]:
    from adactx.rl.sensitivity import sensitivity_rows

    return sensitivity_rows(records, cfg, boot)


__all__ = ["Tables", "aggregate_tables", "complete_table"]
