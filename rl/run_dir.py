"""An evaluation's run directory: its config, its records (appended as they finish), its memo counters.

    run = RunDir("runs/qmsum-val", cfg)      # refuses a directory that holds a run with other settings
    run.done[(example_id, label)]            # the records already there (a rerun resumes)
    run.write(record); run.close()
    read_records(path)                       # every record; a torn last line (a crash mid-write) is skipped

Files: config.json (the EvalConfig; a resumed run must match its IDENTITY fields), records.jsonl (one line
per example and policy / oracle node / sensitivity condition), memo_lookups.json (memo hits and misses
over all invocations).

Several processes may hold one run directory at once (``adactx eval --workers N``, or shards of a cluster
job given the same ``--out``): each record is appended under ``records.jsonl.lock`` (``safe_io.append_record``),
so lines never interleave and a torn line can only come from a killed process. ``flock`` works on local
disks; on a network file system give each shard its own directory and merge them (``adactx.rl.shards``).
"""

from __future__ import annotations

import json
from pathlib import Path

from adactx.rl.eval_config import IDENTITY, EvalConfig
from adactx.rl.safe_io import (
    append_record,
    read_lookups,
    read_run_config,
    repair_records,
    write_json_atomically,
)

from adactx.errors import AdactxError


def identity_diff(old: dict, new: dict) -> list[str]:
    """The IDENTITY fields two run configs (``to_dict`` form) disagree on; absent ones count as defaults."""
    old, new = json.loads(json.dumps(old)), json.loads(json.dumps(new))
    defaults = json.loads(json.dumps(EvalConfig().to_dict()))  # fields a config.json predates
    return [k for k in IDENTITY if old.get(k, defaults.get(k)) != new.get(k, defaults.get(k))]


class RunDir:
    def __init__(self, path: str | Path, cfg: EvalConfig):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.records_path = self.path / "records.jsonl"
        config_path = self.path / "config.json"
        if config_path.exists():
            diff = identity_diff(read_run_config(config_path), cfg.to_dict())
            if diff:
                raise AdactxError(
                    f"{self.path}: holds a run with other settings ({', '.join(diff)}); use another --out"
                )
        write_json_atomically(config_path, cfg.to_dict())
        repair_records(self.records_path)
        self.done: dict[tuple[str, str], dict] = {}
        for record in read_records(self.records_path):
            self.done[(record["example_id"], record["policy"])] = record
        self.memo_path = self.path / "memo_lookups.json"
        self.memo_before = read_lookups(self.path)

    def save_memo_lookups(self, hits: int, misses: int) -> dict:
        """This run's memo lookups over all its invocations (earlier ones + this one so far), kept on disk."""
        total = {"hits": self.memo_before["hits"] + hits, "misses": self.memo_before["misses"] + misses}
        total["hit_rate"] = total["hits"] / max(1, total["hits"] + total["misses"])
        write_json_atomically(self.memo_path, total)  # a per-process temporary: workers may save at once
        return total

    def write(self, record: dict) -> None:
        append_record(self.records_path, record)
        self.done[(record["example_id"], record["policy"])] = record

    def close(self) -> None:
        """Nothing stays open between records (each append opens the file); kept for callers."""


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


def record_document(record: dict) -> str:
    """The cluster a CI resamples: the record's document (its example when none was recorded)."""
    return record.get("doc_id") or record["example_id"]


__all__ = ["RunDir", "identity_diff", "read_records", "record_document"]
