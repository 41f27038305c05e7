"""Evaluation harness, the orchestration: policies over examples into a resumable run directory.

    cfg = EvalConfig(data="qmsum:val", n=100, policies=("full", "first-1024", "topk-4", "threshold", "oracle"))
    summary = run_eval(cfg, out="runs/qmsum")        # resumes: finished (example, policy) pairs are kept
    print(summary["table"])                          # the markdown tables, also in runs/qmsum/summary.md

The evaluation's other jobs live one module each:
    eval_config.py    EvalConfig (what a run runs; its IDENTITY fields must match when resuming)
    eval_examples.py  load_examples (a seeded sample of a file-backed set, or a generated suite)
    eval_features.py  per-example features, evidence recall, the record written per outcome
    run_dir.py        RunDir (config.json, records.jsonl appended as each finishes, memo counters)
    eval_workers.py   Parallelism: --workers N processes over the examples (one run directory, one memo)
    shards.py         --shard i/N for cluster schedulers, and merging shards' run directories
    eval_tables.py    the statistics over the records (bootstrap CIs, paired differences, oracle, cross-fit)
    eval_report.py    the markdown rendering of those tables
    plots.py          the figures (Pareto plot, decision pictures)

Run directory:
    config.json       the EvalConfig (a resumed run must match it, except ``n`` and ``policies`` may grow)
    records.jsonl     one line per (example, policy | oracle tree node | sensitivity condition), appended
                      and flushed as each finishes, so an interrupted run loses at most one episode
    summary.json/.md  the tables (bootstrap 95% CIs; paired differences against the best fixed setting)
    figures/          Pareto plot (quality vs tokens), decision pictures (``adactx.rl.plots``)

Reader outcomes are memoized (``adactx.rl.memo``, default ``$ADACTX_CACHE/memo.sqlite``) and shared by all
policies, the oracle's tree and the sensitivity conditions, so a context two of them reach is read once;
the reported tokens and FLOPs are what each policy would have cost on its own, hit or miss.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from adactx.rl.eval_config import EvalConfig
from adactx.rl.eval_examples import load_examples
from adactx.rl.eval_features import evidence_recall, make_record, retrieval_features
from adactx.rl.eval_tables import aggregate_tables
from adactx.rl.run_dir import RunDir, read_records
from adactx.rl.safe_io import LookupJournal, check_data_spec
from adactx.rl.settings import EpisodeSettings

from adactx.config import values_of


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


def run_eval(
    cfg: EvalConfig,
    out: str | Path,
    reader=None,
    encoder=None,
    memo_path: str | Path | None = None,
    progress=None,
    examples=None,
    select_examples=None,
    parallel=None,
) -> dict:
    """Run (or resume) the evaluation into ``out`` and return the summary (also written there).
    With ``cfg.select_on`` the selection split runs first into ``out/select-SPLIT`` (``select_examples``
    stand in for its examples, as ``examples`` do for the reported split). ``parallel``
    (``eval_workers.Parallelism``): worker processes (``--workers N``) or one shard of the examples
    (``--shard i/N``); the default is this process, every example."""
    from adactx.rl.eval_workers import Parallelism

    par = parallel or Parallelism()
    if examples is None:
        check_data_spec(cfg.data)  # an unknown data set fails before the run directory or the reader
    par.check(reader, encoder)
    reader = reader if reader is not None else par.server_reader()  # a server's client costs nothing
    cfg = with_summary_length(cfg, reader)
    run = RunDir(out, cfg)  # first: a mismatched run directory fails before any loading
    base_reader = reader if reader is not None else par.parent_reader(cfg)
    if cfg.select_on:
        select_settings(cfg, out, base_reader, encoder, memo_path, progress, select_examples, par)
    examples = examples if examples is not None else load_examples(cfg, par.tokenizer(base_reader))
    examples = par.shard.take(examples) if par.shard else examples
    t_start = time.perf_counter()
    if par.workers > 1:
        from adactx.rl.eval_workers import run_workers

        counters = run_workers(cfg, run, examples, par, memo_path, progress)
    else:
        counters = run_here(cfg, run, base_reader, encoder, memo_path, examples, progress)
    summary = aggregate_tables(out, cfg)
    add_memo_note(summary, run, counters, time.perf_counter() - t_start)
    if par.workers > 1:
        summary["workers"] = counters.processes  # which process ran how many examples
    write_summary(out, summary)
    return summary


def run_here(cfg: EvalConfig, run: RunDir, reader, encoder, memo_path, examples, progress):
    """Every example in this process; returns the memo's ``MemoCounters`` for the summary."""
    from adactx.rl.eval_workers import MemoCounters

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


def with_summary_length(cfg: EvalConfig, reader=None) -> EvalConfig:
    """``cfg`` with ``summary_tokens`` set from the data (``adactx.data.lengths``) when it asks for it:
    ``summary_quantile`` > 0 and a summary set; the source is recorded in ``summary_tokens_from``."""
    from adactx.data.lengths import SUMMARY_TASKS, summary_length
    from adactx.data.registry import parse_spec
    from adactx.data.user import is_data_file

    if is_data_file(cfg.data):  # a user's file: its answers set their own lengths (--summary-tokens)
        return cfg
    dataset, _split = parse_spec(cfg.data)  # an unknown set fails here, before any loading
    if cfg.summary_quantile <= 0 or cfg.summary_tokens_from or dataset.task not in SUMMARY_TASKS:
        return cfg
    from adactx.reader import load_tokenizer

    tokenizer = reader.tokenizer if reader is not None else load_tokenizer(cfg.model)
    length = summary_length(cfg.data, tokenizer, cfg.summary_quantile)
    return replace(cfg, summary_tokens=length.tokens, summary_tokens_from=length.describe())


def select_settings(cfg: EvalConfig, out, reader, encoder, memo_path, progress, examples, par=None) -> dict:
    """Run the asked baselines on the selection split (``out/select-SPLIT``, resumable) and record what
    it chooses in ``out/selection.json`` (``adactx.rl.selection``). A shard runs the whole selection split
    (every shard then makes the same choice); workers share it out as they do the reported split."""
    from adactx.rl.selection import save_selection, selection_from_summary, selection_spec

    spec = selection_spec(cfg.data, cfg.select_on)
    sel_cfg = replace(cfg, data=spec, policies=tuple(cfg.baselines), sensitivity=False, select_on=None)
    whole = replace(par, shard=None) if par is not None else None
    summary = run_eval(
        sel_cfg,
        Path(out) / f"select-{cfg.select_on}",
        reader,
        encoder,
        memo_path,
        progress,
        examples,
        parallel=whole,
    )
    selection = selection_from_summary(summary, cfg.baselines)
    save_selection(out, selection)
    return summary


def add_memo_note(summary: dict, run: RunDir, counters, run_seconds: float) -> None:
    """The memo's counters (``eval_workers.MemoCounters``) into the summary, and a line about them under
    its tables."""
    summary["memo"] = counters.stats()
    summary["memo_run"] = run.save_memo_lookups(counters.hits, counters.misses)
    summary["model_seconds"] = counters.model_seconds
    summary["run_seconds"] = run_seconds
    stats, total = summary["memo"], summary["memo_run"]
    summary["table"] += (
        f"\n\nReader memo: this run directory, all invocations: {total['hits']} hits, {total['misses']} misses, "
        f"hit rate {total['hit_rate']:.0%}; this invocation: {stats['hits']} hits, {stats['misses']} misses, "
        f"{summary['model_seconds']:.0f} s in the model of {summary['run_seconds']:.0f} s; "
        f"{stats['entries']} outcomes stored in the memo. "
        "Wall s per episode is measured with memo hits (not a latency)."
    )


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


__all__ = [
    "EvalConfig",
    "RunDir",
    "aggregate_tables",
    "evidence_recall",
    "load_examples",
    "read_records",
    "run_eval",
    "write_summary",
]
