"""An evaluation's run directory: its config, its records (appended as they finish), its memo counters.

    run = RunDir("runs/qmsum-val", cfg)      # refuses a directory that holds a run with other settings
    run.done[(example_id, label)]            # the records already there (a rerun resumes)
    run.write(record); run.close()
    read_records(path)                       # every record; a torn last line (a crash mid-write) is skipped

Files: config.json (the EvalConfig; a resumed run must match its IDENTITY fields), records.jsonl (one line
per example and policy / oracle node / sensitivity condition), memo_lookups.json (memo hits and misses
over all invocations).
"""

from __future__ import annotations

import json
from pathlib import Path

from adactx.rl.eval_config import IDENTITY, EvalConfig

from adactx.errors import AdactxError


class RunDir:
    def __init__(self, path: str | Path, cfg: EvalConfig):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.records_path = self.path / "records.jsonl"
        config_path = self.path / "config.json"
        if config_path.exists():
            old = json.loads(config_path.read_text())
            new = json.loads(json.dumps(cfg.to_dict()))
            defaults = json.loads(json.dumps(EvalConfig().to_dict()))  # fields a config.json predates
            diff = [k for k in IDENTITY if old.get(k, defaults.get(k)) != new.get(k)]
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


__all__ = ["RunDir", "read_records"]
