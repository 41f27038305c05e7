"""One evaluation's work in one process: the labels an example needs, the harness, running an example.

    h = build_harness(cfg, RunDir(out, cfg), reader, encoder, memo_path)
    run_example(h, cfg, example)          # every (example, label) record still missing, written to h.run
    counters = run_here(cfg, run, reader, encoder, memo_path, examples, progress)   # all of them, in order

``adactx.rl.evaluate.run_eval`` calls :func:`run_here` in its own process; each ``--workers`` process
(``adactx.rl.eval_workers``) builds a harness and calls :func:`run_example` on the examples it takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adactx.rl.eval_config import EvalConfig
from adactx.rl.eval_features import make_record, retrieval_features
from adactx.rl.run_dir import RunDir
from adactx.rl.safe_io import LookupJournal
from adactx.rl.settings import EpisodeSettings

from adactx.config import values_of


@dataclass
class MemoCounters:
    """An invocation's memo lookups and model time, over however many processes ran it."""

    hits: int = 0
    misses: int = 0
    model_seconds: float = 0.0
    entries: int = 0
    processes: list = field(default_factory=list)  # per worker: {"pid": .., "examples": ..}

    def stats(self) -> dict:
        lookups = self.hits + self.misses
        rate = self.hits / lookups if lookups else 0.0
        return {"hits": self.hits, "misses": self.misses, "hit_rate": rate, "entries": self.entries}


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


@dataclass
class Harness:
    """What one evaluation invocation runs with: the run directory, the memoized reader, the env."""

    run: RunDir
    memo: Any  # adactx.rl.memo.OutcomeMemo
    memo_reader: Any  # adactx.rl.memo.MemoReader over the base reader
    workspace: Any  # adactx.rl.env.Workspace (chunk tree + index per document)
    env: Any  # adactx.rl.env.ContextEnv
    sens_policies: list[str]


def build_harness(cfg: EvalConfig, run: RunDir, base_reader, encoder, memo_path) -> Harness:
    from adactx.retrieval.encoders import load_encoder
    from adactx.rl.env import ContextEnv, EnvConfig, Workspace
    from adactx.rl.memo import MemoReader, OutcomeMemo
    from adactx.rl.sensitivity import condition_policies

    from adactx.reader import cache_dir

    memo = OutcomeMemo(memo_path or cache_dir() / "memo.sqlite")
    memo.on_lookup = LookupJournal(run.path).record
    memo_reader = MemoReader(base_reader, memo)
    encoder = encoder or load_encoder(cfg.encoder)
    env_cfg = EnvConfig(
        **values_of(EpisodeSettings, cfg),
        actions=tuple(
            dict.fromkeys([*cfg.oracle_actions, "retrieve", "extend", "refine", "answer", "summarize"])
        ),
    )
    workspace = Workspace(memo_reader, encoder, env_cfg, cache_dir())
    env = ContextEnv([], memo_reader, env_cfg, workspace=workspace)
    sens_policies = list(condition_policies(cfg).values()) if cfg.sensitivity else []
    return Harness(run, memo, memo_reader, workspace, env, sens_policies)


def run_example(h: Harness, cfg: EvalConfig, example) -> None:
    """Every missing (example, label) record: the baselines, the oracle's tree, the sensitivity conditions."""
    from adactx.rl.env import play_actions, run_episode
    from adactx.rl.learned import resolve_policy as make_policy  # baselines or learned:DIR
    from adactx.rl.oracle import explore
    from adactx.rl.sensitivity import gold_outcome

    run, env, eid = h.run, h.env, example.example_id
    feats = retrieval_features(example, h.workspace.prepare(example))

    def write(label, outcome, kind):
        run.write(make_record(example, label, outcome, kind, feats))

    for name in list(dict.fromkeys([*cfg.baselines, *h.sens_policies])):
        if (eid, name) not in run.done:
            write(name, run_episode(env, make_policy(name), example), "policy")
    if "oracle" in cfg.policies:
        done = {lb: r for (e, lb), r in run.done.items() if e == eid}
        explore(
            env,
            example,
            cfg.oracle_actions,
            cfg.oracle_depth,
            done=done,
            on_node=lambda label, outcome: write(label, outcome, "node"),
        )
    if cfg.sensitivity:
        if (eid, "none") not in run.done:
            write("none", play_actions(env, example, []), "node")
        if example.evidence and (eid, "gold") not in run.done:
            write("gold", gold_outcome(h.memo_reader, example, cfg), "sensitivity")


def run_here(cfg: EvalConfig, run: RunDir, reader, encoder, memo_path, examples, progress):
    """Every example in this process; returns the memo's ``MemoCounters`` for the summary."""
    h = build_harness(cfg, run, reader, encoder, memo_path)
    try:
        for i, example in enumerate(examples):
            labels = needed_labels(cfg, example)
            if any((example.example_id, lb) not in h.run.done for lb in labels):
                run_example(h, cfg, example)
                h.run.save_memo_lookups(h.memo.hits, h.memo.misses)
            if progress:
                progress(i + 1, len(examples), example.example_id, h.memo.stats())
    finally:
        h.run.close()
    stats = h.memo.stats()
    return MemoCounters(stats["hits"], stats["misses"], h.memo_reader.model_seconds, stats["entries"])


__all__ = ["Harness", "MemoCounters", "build_harness", "needed_labels", "run_example", "run_here"]
