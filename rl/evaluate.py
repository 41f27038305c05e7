"""Evaluation harness, the orchestration: policies over examples into a resumable run directory.

    cfg = EvalConfig(data="qmsum:val", n=100, policies=("full", "first-1024", "topk-4", "threshold", "oracle"))
    summary = run_eval(cfg, out="runs/qmsum")        # resumes: finished (example, policy) pairs are kept
    print(summary["table"])                          # the markdown tables, also in runs/qmsum/summary.md

The evaluation's other jobs live one module each:
    eval_config.py    EvalConfig (what a run runs; its IDENTITY fields must match when resuming)
    eval_examples.py  load_examples (a seeded sample of a file-backed set, or a generated suite)
    eval_features.py  per-example features, evidence recall, the record written per outcome
    eval_harness.py   the labels an example needs, the harness (memo reader, env), running one example
    run_dir.py        RunDir (config.json, records.jsonl appended as each finishes, memo counters)
    eval_workers.py   Parallelism: --workers N processes over the examples (one run directory, one memo)
    shards.py         --shard i/N for cluster schedulers, and merging shards' run directories
    eval_tables.py    the statistics over the records (bootstrap CIs, paired differences, oracle, cross-fit)
    eval_report.py    the markdown rendering of those tables
    summary_files.py  summary.md / summary.json and the figures
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

import time
from dataclasses import replace
from pathlib import Path

from adactx.rl.eval_config import EvalConfig
from adactx.rl.eval_examples import load_examples
from adactx.rl.eval_features import evidence_recall
from adactx.rl.eval_harness import needed_labels, run_here
from adactx.rl.eval_tables import aggregate_tables
from adactx.rl.eval_workers import Parallelism, run_workers
from adactx.rl.run_dir import RunDir, read_records
from adactx.rl.safe_io import check_data_spec
from adactx.rl.summary_files import write_summary


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
        counters = run_workers(cfg, run, examples, par, memo_path, progress)
    else:
        counters = run_here(cfg, run, base_reader, encoder, memo_path, examples, progress)
    summary = aggregate_tables(out, cfg)
    add_memo_note(summary, run, counters, time.perf_counter() - t_start)
    if par.workers > 1:
        summary["workers"] = counters.processes  # which process ran how many examples
    write_summary(out, summary)
    return summary


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
    n = cfg.select_n if cfg.select_n is not None else cfg.n
    sel_cfg = replace(
        cfg, data=spec, n=n, policies=tuple(cfg.baselines), sensitivity=False, select_on=None, select_n=None
    )
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


__all__ = [
    "EvalConfig",
    "RunDir",
    "aggregate_tables",
    "evidence_recall",
    "load_examples",
    "needed_labels",
    "read_records",
    "run_eval",
    "write_summary",
]
