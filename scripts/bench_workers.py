"""`adactx eval --workers 2` vs `--workers 1`, side by side in one run: the speed-up as a ratio.

    .venv/bin/python scripts/bench_workers.py --n 8 --out runs/bench_workers.json

Each arm is a fresh `adactx eval` process on the same examples (default `mixed:val`, n=8, the real reader)
with its own empty memo, run directory and index cache (a fresh ``ADACTX_CACHE`` that links only the
converted reader model, so neither arm reuses an outcome or an index the other computed). The load average
is printed before and after each arm: on a shared machine the ratio is only as good as the load was steady.
The two arms' records are compared (wall-clock fields aside): the workers must not change a result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 3600


def fresh_cache(root: Path, name: str) -> Path:
    """An empty ADACTX_CACHE whose ``models`` links the converted reader (converted once, untimed)."""
    from adactx.reader import cache_dir, convert_default_model

    convert_default_model()
    cache = root / name
    cache.mkdir()
    (cache / "models").symlink_to(cache_dir() / "models", target_is_directory=True)
    return cache


def run_arm(workers: int, args, root: Path) -> dict:
    out = root / f"run-{workers}"
    cmd = [sys.executable, str(ROOT / "cli.py"), "eval", "--data", args.data, "--n", str(args.n),
           "--policies", args.policies, "--workers", str(workers), "--out", str(out),
           "--memo", str(root / f"memo-{workers}.sqlite")]
    env = {**os.environ, "ADACTX_CACHE": str(fresh_cache(root, f"cache-{workers}")), "OMP_NUM_THREADS": "1"}
    load_before = os.getloadavg()
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"workers={workers}: adactx eval failed:\n{done.stderr[-2000:]}")
    arm = {"workers": workers, "seconds": seconds, "load_before": load_before, "load_after": os.getloadavg()}
    print(f"workers={workers}: {seconds:.1f} s  load average before {_load(load_before)}, after "
          f"{_load(arm['load_after'])}", flush=True)
    arm["records"] = _records(out)
    return arm


def _load(avg) -> str:
    return " ".join(f"{x:.2f}" for x in avg)


def _records(out: Path) -> dict:
    """(example, policy) -> the record without its wall-clock fields."""
    records = {}
    for line in (out / "records.jsonl").read_text().splitlines():
        r = json.loads(line)
        records[f"{r['example_id']}|{r['policy']}"] = json.dumps(
            {k: v for k, v in r.items() if "wall" not in k and k != "seconds"}, sort_keys=True
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mixed:val")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--policies", default="full,first-1024,topk-4,threshold")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_workers.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        arms = [run_arm(w, args, Path(tmp)) for w in (1, 2)]
    one, two = arms
    same = one.pop("records") == two.pop("records")
    result = {"data": args.data, "n": args.n, "policies": args.policies, "cpu_count": os.cpu_count(),
              "arms": arms, "speedup": one["seconds"] / two["seconds"], "records_equal": same}
    print(f"speed-up of --workers 2 over 1: {result['speedup']:.2f}x on {os.cpu_count()} CPUs; "
          f"records equal: {same}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
