"""Shards of an evaluation for cluster schedulers, and the merge of their run directories.

    shard = parse_shard("1/4")                   # the second of four shards (0-based, like SLURM arrays)
    mine = shard.take(examples)                  # examples 1, 5, 9, ... of the seeded sample
    run_eval(cfg, "runs/x-shard-1-of-4", shard=shard)          # each shard its own run directory ...
    summary = merge_runs(["runs/x-shard-0-of-4", ...], "runs/x")   # ... merged: the tables of one run

Every shard loads the same seeded sample (``eval_examples.load_examples``) and keeps every N-th example
from its index, so the shards of a run cover its examples exactly once, whichever machine runs which.
Shards may also share one ``--out`` on a local disk (records are appended under a lock,
``safe_io.append_record``); a merge is then not needed.

A merge checks that the directories hold the same run (the IDENTITY fields of their config.json, the
policies and whether sensitivity ran), copies each (example, policy) record once into the merged
directory, adds up their memo lookups and writes the summary from the merged records, so its tables are
the ones a single process would have written (wall-clock columns aside: they are measured per machine).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from adactx.rl.eval_config import EvalConfig
from adactx.rl.run_dir import RunDir, identity_diff, read_records
from adactx.rl.safe_io import LOOKUPS_LOG, read_lookups, read_run_config

from adactx.errors import AdactxError

SAME_RUN = ("policies", "sensitivity", "lambdas", "metric")  # besides IDENTITY, what merged shards share


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based): every ``count``-th example from ``index`` on."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise AdactxError(
                f"--shard {self.index}/{self.count}: need i/N with N >= 1 and 0 <= i < N (0-based, e.g. 0/4 .. 3/4)"
            )

    def take(self, examples: list) -> list:
        return list(examples)[self.index :: self.count]

    def label(self) -> str:
        return f"shard-{self.index}-of-{self.count}"


def parse_shard(text: str) -> Shard:
    """``"i/N"`` -> ``Shard(i, N)``, or a one-line error naming the option."""
    index, sep, count = str(text).strip().partition("/")
    try:
        if not sep:
            raise ValueError
        return Shard(int(index), int(count))
    except ValueError:
        raise AdactxError(f"--shard {text!r}: expected i/N, two whole numbers (e.g. 0/4)") from None


def merge_runs(sources: list[str | Path], out: str | Path) -> dict:
    """Merge the run directories ``sources`` (shards of one run) into ``out`` and return its summary."""
    from adactx.rl.eval_tables import aggregate_tables
    from adactx.rl.summary_files import write_summary

    sources = [Path(s) for s in sources]
    cfg = _common_config(sources)
    out = Path(out)
    run = RunDir(out, cfg)  # refuses an ``out`` that holds another run; keeps records already there
    copied = 0
    for source in sources:
        if source.resolve() == out.resolve():
            continue
        for record in read_records(source / "records.jsonl"):
            if (record["example_id"], record["policy"]) not in run.done:
                run.write(record)
                copied += 1
    _merge_lookups(sources, out)
    _copy_selection(sources, out, cfg)
    summary = aggregate_tables(out, cfg)
    summary["merged_from"] = [str(s) for s in sources]
    summary["table"] += f"\n\nMerged from {len(sources)} run directories ({copied} records copied)."
    write_summary(out, summary)
    return summary


def _common_config(sources: list[Path]) -> EvalConfig:
    """The run config every source holds, or a one-line error naming the directory and the fields."""
    if not sources:
        raise AdactxError("eval merge: name the run directories to merge")
    configs = []
    for source in sources:
        path = source / "config.json"
        if not path.is_file():
            raise AdactxError(f"{source}: not a run directory (no config.json)")
        configs.append(read_run_config(path))
    first = configs[0]
    for source, other in zip(sources[1:], configs[1:]):
        diff = identity_diff(first, other) + [k for k in SAME_RUN if first.get(k) != other.get(k)]
        if diff:
            raise AdactxError(
                f"{source}: holds another run than {sources[0]} ({', '.join(diff)}); merge only shards of one run"
            )
    return EvalConfig.from_dict(first)


def _merge_lookups(sources: list[Path], out: Path) -> None:
    """The merged directory's memo lookups: the sum over the sources (a journal, as a run keeps it)."""
    counts = [read_lookups(s) for s in sources]  # read before writing: ``out`` may be one of them
    hits, misses = sum(c["hits"] for c in counts), sum(c["misses"] for c in counts)
    (out / LOOKUPS_LOG).write_bytes(b"h" * hits + b"m" * misses)
    total = {"hits": hits, "misses": misses, "hit_rate": hits / max(1, hits + misses)}
    (out / "memo_lookups.json").write_text(json.dumps(total))


def _copy_selection(sources: list[Path], out: Path, cfg: EvalConfig) -> None:
    """A run that chose its settings on another split carries ``selection.json``: the same in every source."""
    if not cfg.select_on:
        return
    found = {(s / "selection.json").read_text() for s in sources if (s / "selection.json").is_file()}
    if len(found) != 1:
        raise AdactxError(
            "eval merge: the sources chose their settings differently (selection.json missing or unequal); "
            "run the selection split once (without --shard) and give every shard its selection.json"
        )
    (out / "selection.json").write_text(found.pop())


__all__ = ["Shard", "merge_runs", "parse_shard"]
