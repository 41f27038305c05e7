"""`--threads` measured: `make demo`'s question with 1 thread, 2 threads and torch's default, side by side.

    .venv/bin/python scripts/bench_threads.py --rounds 2 --out runs/bench_threads.json

Each run is a fresh `adactx ask` process (so torch's thread pool starts clean) on the bundled sample, with
the converted model and the index already cached by an untimed warm-up run. Conditions are interleaved
round by round, so a change in the machine's load hits all of them alike. ``OMP_NUM_THREADS`` is removed
from the children's environment: otherwise "torch's default" would be whatever that variable says.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "adactx" / "samples" / "qmsum_product_meeting.txt"
QUESTION = "What are the target price, target cost and target profit of the remote control?"
TIMEOUT_S = 900
CONDITIONS = {"1 thread": 1, "2 threads": 2, "torch default": 0}


def ask_seconds(threads: int, db: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    cmd = [sys.executable, str(ROOT / "cli.py"), "ask", str(DOC), QUESTION, "--threads", str(threads), "--db", str(db)]
    start = time.perf_counter()
    try:
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return float("inf")  # slower than the timeout: reported as such, the rounds go on
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_threads.json"))
    args = parser.parse_args()
    import torch

    default_threads = torch.get_num_threads() if "OMP_NUM_THREADS" not in os.environ else None
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.sqlite"
        warm = ask_seconds(1, db)
        times: dict[str, list[float]] = {name: [] for name in CONDITIONS}
        for _ in range(args.rounds):
            for name, threads in CONDITIONS.items():
                times[name].append(ask_seconds(threads, db))
                print(name, f"{times[name][-1]:.1f} s", flush=True)
    result = {
        "question": QUESTION, "rounds": args.rounds, "warm_up_s": warm, "cpu_count": os.cpu_count(),
        "torch_default_threads": default_threads, "loadavg_after": os.getloadavg(), "seconds": times,
        "median_s": {name: statistics.median(ts) for name, ts in times.items()},
    }
    base = result["median_s"]["1 thread"]
    result["ratio_to_1_thread"] = {name: m / base for name, m in result["median_s"].items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: result[k] for k in ("median_s", "ratio_to_1_thread", "loadavg_after")}, indent=1))


if __name__ == "__main__":
    main()
