"""Evaluation harness: policies over examples, a resumable run directory, and the summary tables.

    cfg = EvalConfig(data="qmsum:val", n=100, policies=("full", "first-1024", "topk-4", "threshold", "oracle"))
    summary = run_eval(cfg, out="runs/qmsum")        # resumes: finished (example, policy) pairs are kept
    print(summary["table"])                          # the markdown tables, also in runs/qmsum/summary.md

Run directory:
    config.json       the EvalConfig (a resumed run must match it, except ``n`` and ``policies`` may grow)
    records.jsonl     one line per (example, policy | oracle tree node | sensitivity condition), appended
                      and flushed as each finishes, so an interrupted run loses at most one episode
    summary.json/.md  the tables (bootstrap 95% CIs; paired differences against the best fixed setting)
    figures/          Pareto plot (quality vs tokens), decision pictures (``adactx.rl.plots``)

Reader outcomes are memoized (``adactx.rl.memo``, default ``$ADACTX_CACHE/memo.sqlite``) and shared by all
policies, the oracle's tree and the sensitivity conditions, so a context two of them reach is read once;
the reported tokens and FLOPs are what each policy would have cost on its own, hit or miss.

Examples: a file-backed set is loaded whole and taken in a seeded random order (so the first ``n`` are a
random sample and a larger ``n`` extends a run); the mixed suite is generated (``mixed_lengths`` sets its
document lengths) in its own balanced order.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from adactx.config import require_positive
from adactx.errors import AdactxError

FIXED_PREFIXES = ("full", "first-", "topk-")
IDENTITY = (
    "data",
    "seed",
    "budget",
    "max_steps",
    "answer_tokens",
    "summary_tokens",
    "draft_tokens",
    "chunk_tokens",
    "index_kind",
    "encoder",
    "oracle_actions",
    "oracle_depth",
    "mixed_lengths",
    "model",
)


@dataclass
class EvalConfig:
    data: str = field(default="qmsum:val", metadata={"help": "data set NAME[:SPLIT] (adactx data list)"})
    n: int | None = field(
        default=100, metadata={"help": "examples (a seeded random sample of a file-backed set)"}
    )
    seed: int = field(default=0, metadata={"help": "seed for sampling, generation and bootstrap"})
    policies: tuple[str, ...] = field(
        default=("full", "first-1024", "topk-4", "threshold", "oracle"),
        metadata={"help": "baseline policy names (adactx.graphs.policies) and `oracle`"},
    )
    budget: int = field(
        default=4096, metadata={"help": "most document tokens per query (`full` reads this much)"}
    )
    max_steps: int = field(default=8, metadata={"help": "most controller steps per query"})
    answer_tokens: int = field(default=16, metadata={"help": "most tokens in a QA answer"})
    summary_tokens: int = field(default=64, metadata={"help": "most tokens in a query-focused summary"})
    draft_tokens: int = field(default=6, metadata={"help": "tokens in a confidence draft"})
    chunk_tokens: int = field(default=256, metadata={"help": "tokens per chunk"})
    index_kind: str = field(default="hybrid", metadata={"help": "hybrid | dense | bm25"})
    encoder: str = field(default="minilm", metadata={"help": "minilm | hashing"})
    lambdas: tuple[float, ...] = field(
        default=(0.0, 0.02, 0.05), metadata={"help": "λ per 1k tokens computed"}
    )
    oracle_actions: tuple[str, ...] = field(
        default=("retrieve-2", "extend-1024"), metadata={"help": "actions of the oracle's bounded tree"}
    )
    oracle_depth: int = field(
        default=2, metadata={"help": "most actions before answering in the oracle's tree"}
    )
    sensitivity: bool = field(default=False, metadata={"help": "also run the reader-sensitivity conditions"})
    prefix_tokens: int = field(default=1024, metadata={"help": "sensitivity: the fixed prefix (first-L)"})
    topk: int = field(default=4, metadata={"help": "sensitivity: top-k retrieval"})
    mixed_lengths: tuple[int, ...] = field(
        default=(1000, 2000, 3000), metadata={"help": "mixed suite doc lengths"}
    )
    model: str | None = field(
        default=None, metadata={"help": "reader model (default: SmolLM2-135M-Instruct)"}
    )
    n_boot: int = field(default=2000, metadata={"help": "bootstrap resamples"})
    crossfit_repeats: int = field(
        default=20, metadata={"help": "random halvings for the cross-fitted estimate"}
    )
    metric: str = field(
        default="score",
        metadata={
            "help": "what the tables score: the task's headline `score`, or a key of its metrics (contains)"
        },
    )

    def __post_init__(self) -> None:
        from adactx.rl.env import parse_action
        from adactx.rl.learned import resolve_policy as make_policy  # baselines or learned:DIR

        self.policies = tuple(p.strip() for p in self.policies if p.strip())
        self.lambdas = tuple(float(x) for x in self.lambdas)
        self.oracle_actions = tuple(self.oracle_actions)
        self.mixed_lengths = tuple(int(x) for x in self.mixed_lengths)
        if not self.policies:
            raise AdactxError("EvalConfig.policies: name at least one policy")
        for name in self.policies:
            if name != "oracle":
                make_policy(name)
        for spec in self.oracle_actions:
            parse_action(spec)
        if self.n is not None and self.n < 1:
            raise AdactxError(f"EvalConfig.n: must be >= 1, got {self.n}")
        require_positive(self, "budget", "max_steps", "answer_tokens", "summary_tokens", "draft_tokens",
                         "chunk_tokens", "n_boot", "prefix_tokens", "topk")
        if self.oracle_depth < 0:
            raise AdactxError(f"EvalConfig.oracle_depth: must be >= 0, got {self.oracle_depth}")
        if any(x < 0 for x in self.lambdas) or not self.lambdas:
            raise AdactxError(f"EvalConfig.lambdas: need one or more values >= 0, got {self.lambdas}")

    @property
    def baselines(self) -> list[str]:
        return [p for p in self.policies if p != "oracle"]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> EvalConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names})


def is_fixed(policy: str) -> bool:
    return policy.startswith(FIXED_PREFIXES) or policy.startswith("seq:") or policy == "none"


def is_baseline_fixed(policy: str) -> bool:
    return policy.startswith(FIXED_PREFIXES)


# --- examples --------------------------------------------------------------------------------------
def load_examples(cfg: EvalConfig, tokenizer):
    from adactx.data.registry import load, parse_spec

    dataset, split = parse_spec(cfg.data)
    if dataset.name == "mixed":
        from adactx.data.mixed import MixedConfig, mixed_suite

        return mixed_suite(
            MixedConfig(lengths=cfg.mixed_lengths), tokenizer, split=split, n=cfg.n or 200, seed=cfg.seed
        )
    if dataset.generated:
        return load(cfg.data, n=cfg.n, seed=cfg.seed, tokenizer=tokenizer)
    examples = load(cfg.data)
    order = np.random.default_rng(cfg.seed).permutation(len(examples))
    return [examples[i] for i in order[: cfg.n or len(examples)]]


def group_of(example) -> str:
    meta = example.meta or {}
    return str(meta.get("query_type") or meta.get("variant") or example.task)


def evidence_recall(example, pieces: list[list[int]]) -> float | None:
    """Share of the gold evidence characters (first document) that the context covers; None without gold."""
    spans = [(s.start, s.end) for s in example.evidence if s.doc_index == 0 and s.end > s.start]
    if not spans:
        return None
    covered = 0
    merged = _merge([tuple(p) for p in pieces])
    for start, end in spans:
        for a, b in merged:
            covered += max(0, min(end, b) - max(start, a))
    return covered / sum(e - s for s, e in spans)


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def retrieval_features(example, prepared) -> dict:
    scores = np.sort(np.asarray(prepared.index.scores(example.query), dtype=float))[::-1]
    return {
        "task": example.task,
        "group": group_of(example),
        "doc_tokens": int(prepared.tree.total_tokens),
        "top": float(scores[0]) if scores.size else 0.0,
        "margin": float(scores[0] - scores[1]) if scores.size > 1 else 0.0,
    }


# --- run directory ---------------------------------------------------------------------------------
class RunDir:
    def __init__(self, path: str | Path, cfg: EvalConfig):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.records_path = self.path / "records.jsonl"
        config_path = self.path / "config.json"
        if config_path.exists():
            old = json.loads(config_path.read_text())
            new = json.loads(json.dumps(cfg.to_dict()))
            diff = [k for k in IDENTITY if old.get(k) != new.get(k)]
            if diff:
                raise AdactxError(
                    f"{self.path}: holds a run with other settings ({', '.join(diff)}); use another --out"
                )
        config_path.write_text(json.dumps(cfg.to_dict(), indent=2))
        self._drop_torn_tail()
        self.done: dict[tuple[str, str], dict] = {}
        for record in read_records(self.records_path):
            self.done[(record["example_id"], record["policy"])] = record
        self._fh = self.records_path.open("a", encoding="utf-8")
        self.memo_path = self.path / "memo_lookups.json"
        self.memo_before = (
            json.loads(self.memo_path.read_text()) if self.memo_path.exists() else {"hits": 0, "misses": 0}
        )

    def save_memo_lookups(self, hits: int, misses: int) -> dict:
        """This run's memo lookups over all its invocations (earlier ones + this one so far), kept on disk."""
        total = {"hits": self.memo_before["hits"] + hits, "misses": self.memo_before["misses"] + misses}
        total["hit_rate"] = total["hits"] / max(1, total["hits"] + total["misses"])
        tmp = self.memo_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(total))
        tmp.replace(self.memo_path)
        return total

    def _drop_torn_tail(self) -> None:
        """A crash mid-write leaves a last line without its newline: cut it so appends start clean."""
        if not self.records_path.exists():
            return
        data = self.records_path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.records_path.open("r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()
        self.done[(record["example_id"], record["policy"])] = record

    def close(self) -> None:
        self._fh.close()


def read_records(path: Path) -> list[dict]:
    """Records of a run; a torn last line (a crash mid-write) is skipped."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


# --- running ---------------------------------------------------------------------------------------
def needed_labels(cfg: EvalConfig, example) -> list[str]:
    from adactx.rl.oracle import tree_labels

    labels = list(cfg.baselines)
    if "oracle" in cfg.policies:
        labels += tree_labels(cfg.oracle_actions, cfg.oracle_depth)
    if cfg.sensitivity:
        labels += sensitivity_labels(cfg, example)
    return list(dict.fromkeys(labels))


def sensitivity_labels(cfg: EvalConfig, example) -> list[str]:
    from adactx.rl.sensitivity import condition_policies

    labels = ["none", *condition_policies(cfg).values()]
    if example.evidence:
        labels.append("gold")
    return labels


def run_eval(
    cfg: EvalConfig,
    out: str | Path,
    reader=None,
    encoder=None,
    memo_path: str | Path | None = None,
    progress=None,
    examples=None,
) -> dict:
    """Run (or resume) the evaluation into ``out`` and return the summary (also written there)."""
    from adactx.retrieval.encoders import load_encoder
    from adactx.rl.env import ContextEnv, EnvConfig, Workspace, play_actions, run_episode
    from adactx.rl.learned import resolve_policy as make_policy  # baselines or learned:DIR
    from adactx.rl.memo import MemoReader, OutcomeMemo
    from adactx.rl.oracle import explore
    from adactx.rl.sensitivity import condition_policies, gold_outcome

    from adactx.reader import cache_dir, load_reader

    run = RunDir(out, cfg)
    base_reader = reader or load_reader(cfg.model)
    memo = OutcomeMemo(memo_path or cache_dir() / "memo.sqlite")
    memo_reader = MemoReader(base_reader, memo)
    encoder = encoder or load_encoder(cfg.encoder)
    env_cfg = EnvConfig(
        budget=cfg.budget,
        max_steps=cfg.max_steps,
        draft_tokens=cfg.draft_tokens,
        answer_tokens=cfg.answer_tokens,
        summary_tokens=cfg.summary_tokens,
        chunk_tokens=cfg.chunk_tokens,
        index_kind=cfg.index_kind,
        actions=tuple(
            dict.fromkeys([*cfg.oracle_actions, "retrieve", "extend", "refine", "answer", "summarize"])
        ),
    )
    workspace = Workspace(memo_reader, encoder, env_cfg, cache_dir())
    env = ContextEnv([], memo_reader, env_cfg, workspace=workspace)
    examples = examples if examples is not None else load_examples(cfg, base_reader.tokenizer)
    sens_policies = list(condition_policies(cfg).values()) if cfg.sensitivity else []
    t_start = time.perf_counter()
    try:
        for i, example in enumerate(examples):
            labels = needed_labels(cfg, example)
            missing = [lb for lb in labels if (example.example_id, lb) not in run.done]
            if missing:
                prepared = workspace.prepare(example)
                feats = retrieval_features(example, prepared)

                def write(label, outcome, kind, example=example, feats=feats):
                    run.write(_record(example, label, outcome, kind, feats))

                for name in list(dict.fromkeys([*cfg.baselines, *sens_policies])):
                    if (example.example_id, name) not in run.done:
                        write(name, run_episode(env, make_policy(name), example), "policy")
                if "oracle" in cfg.policies:
                    done = {lb: r for (eid, lb), r in run.done.items() if eid == example.example_id}
                    explore(
                        env,
                        example,
                        cfg.oracle_actions,
                        cfg.oracle_depth,
                        done=done,
                        on_node=lambda label, outcome: write(label, outcome, "node"),
                    )
                if cfg.sensitivity:
                    if (example.example_id, "none") not in run.done:
                        write("none", play_actions(env, example, []), "node")
                    if example.evidence and (example.example_id, "gold") not in run.done:
                        write("gold", gold_outcome(memo_reader, example, cfg), "sensitivity")
            if missing:
                run.save_memo_lookups(memo.hits, memo.misses)
            if progress:
                progress(i + 1, len(examples), example.example_id, memo.stats())
    finally:
        run.close()
    summary = summarize(out, cfg)
    summary["memo"] = memo.stats()
    summary["memo_run"] = run.save_memo_lookups(memo.hits, memo.misses)
    summary["model_seconds"] = memo_reader.model_seconds
    summary["run_seconds"] = time.perf_counter() - t_start
    stats, total = summary["memo"], summary["memo_run"]
    summary["table"] += (
        f"\n\nReader memo: this run directory, all invocations: {total['hits']} hits, {total['misses']} misses, "
        f"hit rate {total['hit_rate']:.0%}; this invocation: {stats['hits']} hits, {stats['misses']} misses, "
        f"{summary['model_seconds']:.0f} s in the model of {summary['run_seconds']:.0f} s; "
        f"{stats['entries']} outcomes stored in the memo. "
        "Wall s per episode is measured with memo hits (not a latency)."
    )
    write_summary(out, summary)
    return summary


def _record(example, label: str, outcome: dict, kind: str, feats: dict) -> dict:
    outcome = dict(outcome)
    recall = evidence_recall(example, outcome.get("pieces", []))
    return {
        "example_id": example.example_id,
        "policy": label,
        "kind": kind,
        "group": feats["group"],
        "features": feats,
        **{k: v for k, v in outcome.items() if k != "example_id"},
        "evidence_recall": recall,
    }


# --- summary ---------------------------------------------------------------------------------------
def complete_table(records: list[dict], labels: list[str]) -> dict[str, dict[str, dict]]:
    """example_id -> label -> record, for the examples that have every label."""
    by_example: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in records:
        by_example[r["example_id"]][r["policy"]] = r
    return {e: rows for e, rows in by_example.items() if all(lb in rows for lb in labels)}


def summarize(out: str | Path, cfg: EvalConfig | None = None) -> dict:
    """The summary of a run directory, from its records alone (so it can be redrawn offline)."""
    from adactx.rl.oracle import crossfit, oracle_choice, reward_of, tree_labels
    from adactx.rl.rewards import RewardConfig
    from adactx.rl.stats import mean_ci, paired_difference

    out = Path(out)
    cfg = cfg or EvalConfig.from_dict(json.loads((out / "config.json").read_text()))
    records = read_records(out / "records.jsonl")
    if cfg.metric != "score":  # score the same outcomes by another of their metrics
        for r in records:
            r["score"] = float(r.get("metrics", {}).get(cfg.metric, r["score"]))
    baselines = cfg.baselines
    oracle_on = "oracle" in cfg.policies
    nodes = tree_labels(cfg.oracle_actions, cfg.oracle_depth) if oracle_on else []
    table = complete_table(records, baselines + nodes)
    ids = sorted(table)
    n = len(ids)
    summary: dict = {"data": cfg.data, "metric": cfg.metric, "n": n, "rows": [], "reward_rows": []}
    if n == 0:
        summary["table"] = f"{cfg.data}: no example has finished every policy yet"
        return summary
    boot = {"n_boot": cfg.n_boot, "seed": cfg.seed}

    def col(label, key):
        return [_get(table[e][label], key) for e in ids]

    # fixed settings: the fixed baselines and every fixed action sequence of the oracle's tree ("none" too)
    fixed = ([p for p in baselines if is_baseline_fixed(p)] or baselines) + [
        lb for lb in nodes if lb not in baselines
    ]
    best_fixed = max(fixed, key=lambda p: np.mean(col(p, "score")))
    best_scores = col(best_fixed, "score")
    summary["best_fixed"] = best_fixed

    def row(name, scores, tokens, ctx_tokens, flops, wall, recall, kind):
        m, lo, hi = mean_ci(scores, **boot)
        d = paired_difference(scores, best_scores, **boot)
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

    for p in baselines:
        summary["rows"].append(
            row(
                p,
                col(p, "score"),
                col(p, "tokens"),
                col(p, "context_tokens"),
                col(p, "flops"),
                col(p, "wall_s"),
                col(p, "evidence_recall"),
                "policy",
            )
        )
    features = {e: table[e][baselines[0]]["features"] for e in ids}
    settings = fixed
    for lam in cfg.lambdas:
        rcfg = RewardConfig(lam=lam)
        if oracle_on:
            chosen = [
                oracle_choice({k: v for k, v in table[e].items() if k != "gold"}, rcfg, cfg.budget)[1]
                for e in ids
            ]
            summary["rows"].append(
                row(
                    f"oracle λ={lam:g}",
                    [c["score"] for c in chosen],
                    [_get(c, "tokens") for c in chosen],
                    [c["context_tokens"] for c in chosen],
                    [_get(c, "flops") for c in chosen],
                    [],
                    [c.get("evidence_recall") for c in chosen],
                    "oracle",
                )
            )
        cf = crossfit(
            table, settings, features, rcfg, cfg.budget, repeats=cfg.crossfit_repeats, seed=cfg.seed
        )
        summary["rows"].append(
            row(
                f"cross-fit rule λ={lam:g}",
                list(cf.rule_score),
                list(cf.rule_tokens),
                [0] * n,
                [0] * n,
                [],
                [],
                "crossfit",
            )
        )
        summary["rows"][-1].update(context_tokens=None, tflops=None)
        # rewards at this λ
        rewards = {s: [reward_of(table[e][s], rcfg, cfg.budget) for e in ids] for s in settings}
        best_at = max(fixed, key=lambda p: np.mean(rewards[p]))
        ref = rewards[best_at]
        entry = {"lambda": lam, "best_fixed": best_at, "best_fixed_reward": mean_ci(ref, **boot)}
        if oracle_on:
            orc = [reward_of(c, rcfg, cfg.budget) for c in chosen]
            entry["oracle_reward"] = mean_ci(orc, **boot)
            entry["oracle_diff"] = paired_difference(orc, ref, **boot)
        entry["crossfit_reward"] = mean_ci(cf.rule_reward, **boot)
        entry["crossfit_fixed_reward"] = mean_ci(cf.fixed_reward, **boot)
        entry["crossfit_diff"] = paired_difference(cf.rule_reward, cf.fixed_reward, **boot)
        entry["crossfit_choices"] = dict(sorted(cf.choices.items(), key=lambda kv: -kv[1])[:4])
        summary["reward_rows"].append(entry)
    summary["groups"] = _group_scores(table, ids, baselines)
    in_table = set(ids)  # the sensitivity conditions are reported on the same examples as the tables
    summary["sensitivity"] = (
        _sensitivity([r for r in records if r["example_id"] in in_table], cfg, boot)
        if cfg.sensitivity
        else []
    )
    summary["table"] = render(summary, cfg)
    return summary


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


def render(summary: dict, cfg: EvalConfig) -> str:
    from adactx.rl.stats import fmt_ci, fmt_diff

    lines = [
        (
            f"### {cfg.data}: {cfg.metric}, n = {summary['n']} examples, budget {cfg.budget} tokens "
            f"(best fixed setting: {summary['best_fixed']}; * = paired 95% CI excludes 0)"
        ),
        "",
        (
            "| policy | score [95% CI] | Δ vs best fixed [95% CI] | tokens computed | context tokens | TFLOPs "
            "| wall s | evidence recall |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["rows"]:
        diff = "—" if r["policy"] == summary["best_fixed"] else fmt_diff(r["diff"], *r["diff_ci"])
        lines.append(
            f"| {r['policy']} | {fmt_ci(r['score'], *r['ci'])} | {diff} | {r['tokens']:.0f} | "
            f"{_num(r['context_tokens'], 0)} | {_num(r['tflops'], 3)} | {_num(r['wall_s'], 1)} | "
            f"{_num(r['evidence_recall'], 2)} |"
        )
    lines += [
        "",
        (
            "Reward = score − λ·(tokens computed / 1000). Oracle: per-example best in hindsight; "
            "cross-fit: best fixed setting per bucket (task × length × margin) chosen on one half, "
            "scored on the other, vs the single best fixed setting chosen the same way."
        ),
        "",
        (
            "| λ | best fixed (hindsight) | its reward | oracle reward | oracle − best fixed | cross-fit rule "
            "| cross-fit best fixed | rule − fixed | rule's top choices |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in summary["reward_rows"]:
        orc = fmt_ci(*e["oracle_reward"]) if "oracle_reward" in e else "—"
        od = fmt_diff(*e["oracle_diff"]) if "oracle_diff" in e else "—"
        choices = ", ".join(f"{k} ({v})" for k, v in e["crossfit_choices"].items())
        lines.append(
            f"| {e['lambda']:g} | {e['best_fixed']} | {fmt_ci(*e['best_fixed_reward'])} | {orc} | {od} | "
            f"{fmt_ci(*e['crossfit_reward'])} | {fmt_ci(*e['crossfit_fixed_reward'])} | "
            f"{fmt_diff(*e['crossfit_diff'])} | {choices} |"
        )
    if summary.get("groups") and len(summary["groups"]) > 1:
        pols = list(next(iter(summary["groups"].values())))
        lines += [
            "",
            "Mean score per group:",
            "",
            "| group (n) | " + " | ".join(pols) + " |",
            "|---|" + "---|" * len(pols),
        ]
        for g, by_p in summary["groups"].items():
            n_g = next(iter(by_p.values()))[1]
            lines.append(f"| {g} ({n_g}) | " + " | ".join(f"{by_p[p][0]:.3f}" for p in pols) + " |")
    if summary.get("sensitivity"):
        lines += [
            "",
            "Reader sensitivity (same examples per row's n):",
            "",
            "| condition | n | score [95% CI] | Δ vs none (paired) [95% CI] | context tokens |",
            "|---|---|---|---|---|",
        ]
        for s in summary["sensitivity"]:
            d = fmt_diff(*s["diff_vs_none"]) if s.get("diff_vs_none") else "—"
            lines.append(
                f"| {s['condition']} | {s['n']} | {fmt_ci(s['score'], *s['ci'])} | {d} | "
                f"{s['context_tokens']:.0f} |"
            )
    lines += ["", *summary.get("verdict_lines", verdict_lines(summary))]
    return "\n".join(lines)


def verdict_lines(summary: dict) -> list[str]:
    out = []
    for e in summary["reward_rows"]:
        lam = e["lambda"]
        if "oracle_diff" in e:
            m, lo, hi = e["oracle_diff"]
            beats = "beats" if lo > 0 else "does NOT beat"
            out.append(
                f"- λ={lam:g}: the oracle {beats} the best fixed setting ({e['best_fixed']}) beyond the 95% CI "
                f"(Δ reward {m:+.3f} [{lo:+.3f}, {hi:+.3f}])."
            )
        m, lo, hi = e["crossfit_diff"]
        beats = "beats" if lo > 0 else "does NOT beat"
        out.append(
            f"- λ={lam:g}: the cross-fitted bucket rule {beats} the cross-fitted best fixed setting beyond the "
            f"CI (Δ reward {m:+.3f} [{lo:+.3f}, {hi:+.3f}])."
        )
    return out


def _num(x, digits):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}f}"


def write_summary(out: str | Path, summary: dict) -> None:
    out = Path(out)
    suffix = "" if summary.get("metric", "score") == "score" else f"-{summary['metric']}"
    (out / f"summary{suffix}.md").write_text(summary["table"] + "\n")
    (out / f"summary{suffix}.json").write_text(json.dumps(summary, indent=2, default=_jsonable))
    try:
        from adactx.rl.plots import draw_all

        summary["figures"] = draw_all(out, suffix)
    except (
        ImportError,
        OSError,
        ValueError,
        KeyError,
        RuntimeError,
    ) as exc:  # figures never cost the numbers
        summary["figures_error"] = repr(exc)


def _jsonable(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, tuple):
        return list(x)
    return str(x)


__all__ = ["EvalConfig", "RunDir", "evidence_recall", "load_examples", "run_eval", "summarize"]
