"""Replay `adactx eval` at two git revisions and compare the records field by field ("no behaviour change").

    python scripts/check_replay.py --base ddc6162 --head HEAD          # prints a table, exit 1 on any difference
    python scripts/check_replay.py --base ddc6162 --head HEAD --quick  # one small slice (a smoke run)

Each revision is checked out with ``git worktree add`` into ``--work`` (default /tmp/adactx-replay) and
gets its own Python: a hard-linked copy of this checkout's ``.venv`` with that revision installed
editable (``pip install --no-deps --no-build-isolation -e``), so each revision runs its own code. Both
run the same ``adactx eval`` command lines (the CLI, so its options are checked too) on a small fixed
slice, with one shared reader memo (``--memo``) and their own ``ADACTX_CACHE`` (chunk indexes are rebuilt
per revision). The base runs first and fills the memo; an unchanged head then only hits it.

Compared, per (example, policy | oracle node): every field of every record (answer, score, metrics,
usage/tokens, context tokens, pieces, steps, stop reason, features, evidence recall) except ``wall_s``
(a clock); and the summary's tables (rows, rewards per λ, groups) except their wall-clock column.
The default reader is converted from its GGUF once and hard-linked into the other revision's cache.
Sized for a busy 2-core box: a few minutes for the base run, well under one for an unchanged head.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POLICIES = "full,first-1024,topk-4,threshold,oracle"  # the eval defaults: the baselines and the oracle
# (run name, adactx eval options): the settings of scripts/run_evals.sh on a few examples each (sized
# for a 2-core box shared by several jobs; --n grows them: the memo keeps what a smaller run computed)
SLICES = [
    ("mixed-val", ["--data", "mixed:val", "--n", "4", "--budget", "3072", "--max-steps", "6",
                   "--answer-tokens", "12", "--oracle-depth", "2"]),
    ("qmsum-val", ["--data", "qmsum:val", "--n", "1", "--budget", "2048", "--max-steps", "6",
                   "--summary-tokens", "32", "--oracle-depth", "1"]),
    ("squality-dev", ["--data", "squality:dev", "--n", "1", "--budget", "2048", "--max-steps", "6",
                      "--summary-tokens", "32", "--oracle-depth", "1"]),
]
VOLATILE = {"wall_s"}


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def checkout(rev: str, work: Path) -> tuple[str, Path]:
    """A worktree of ``rev`` with its own editable install; returns (sha, its python)."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tree = work / sha[:10]
    python = tree / ".venv" / "bin" / "python"
    if not (tree / ".git").exists():
        git("worktree", "add", "--detach", str(tree), sha)
    if not python.exists():
        subprocess.run(["cp", "-al", str(REPO / ".venv"), str(tree / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
                        str(tree)], check=True, capture_output=True)
    where = subprocess.run([str(python), "-c", "import adactx.rl.evaluate as m; print(m.__file__)"],
                           check=True, capture_output=True, text=True, cwd="/").stdout.strip()
    if not where.startswith(str(tree)):
        raise SystemExit(f"{rev}: its python imports adactx from {where}, not from {tree}")
    return sha, python


def share_converted_model(trees: list[Path]) -> None:
    """The default reader is converted from its GGUF once (minutes on a busy box) and hard-linked into
    the other revision's cache: the same weights are an input of both runs, not what is compared."""
    done = [t / ".replay-cache" / "models" for t in trees if (t / ".replay-cache" / "models").is_dir()]
    for tree in trees:
        target = tree / ".replay-cache" / "models"
        if done and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", str(done[0]), str(target)], check=True)


def run_eval(python: Path, tree: Path, out: Path, memo: Path, options: list[str]) -> float:
    env = {**os.environ, "ADACTX_CACHE": str(tree / ".replay-cache"), "OMP_NUM_THREADS": "1",
           "ADACTX_DATA": os.environ.get("ADACTX_DATA", str(REPO.parent / "shared" / "data"))}
    argv = ["eval", *options, "--policies", POLICIES, "--lambda", "0,0.02,0.05", "--out", str(out), "--memo", str(memo)]
    code = f"from adactx.cli import main; main({argv!r})"
    t0 = time.perf_counter()
    with (out.parent / f"{out.name}.log").open("w") as log:
        subprocess.run([str(python), "-c", code], cwd=tree, env=env, check=True, stdout=log, stderr=log)
    return time.perf_counter() - t0


def records(out: Path) -> dict[tuple[str, str], dict]:
    rows = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines() if line.strip()]
    return {(r["example_id"], r["policy"]): {k: v for k, v in r.items() if k not in VOLATILE} for r in rows}


def differences(a, b, path: str = "") -> list[str]:
    """Paths where two JSON values differ (exact: greedy decoding and one memo give identical floats)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}[len {len(a)} vs {len(b)}]"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path or "."]


def tables(out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    rows = [{k: v for k, v in r.items() if k not in VOLATILE} for r in summary["rows"]]
    return {"n": summary["n"], "best_fixed": summary.get("best_fixed"), "rows": rows,
            "reward_rows": summary["reward_rows"], "groups": summary.get("groups")}


def compare(name: str, base: Path, head: Path) -> tuple[bool, str]:
    rb, rh = records(base), records(head)
    diffs = {key: differences(rb[key], rh[key]) for key in sorted(set(rb) & set(rh))}
    changed = {key: d for key, d in diffs.items() if d}
    only = sorted(set(rb) ^ set(rh))
    table_diffs = differences(tables(base), tables(head))
    memo = [json.loads((p / "summary.json").read_text())["memo"] for p in (base, head)]
    steps = sum(len(r.get("steps", [])) for r in rb.values())
    line = (f"| {name} | {len(rb)} | {len(rh)} | {len(diffs) - len(changed)} | {len(changed)} | {len(only)} | "
            f"{steps} | {'identical' if not table_diffs else f'{len(table_diffs)} differ'} | "
            f"{memo[0]['hits']}/{memo[0]['misses']} | {memo[1]['hits']}/{memo[1]['misses']} |")
    for key, d in list(changed.items())[:5]:
        line += f"\n    {key}: {', '.join(d[:6])}"
    if table_diffs:
        line += f"\n    tables: {', '.join(table_diffs[:6])}"
    ok = not changed and not only and not table_diffs and len(rb) > 0
    return ok, line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="ddc6162")
    parser.add_argument("--head", default="HEAD")
    parser.add_argument("--work", type=Path, default=Path("/tmp/adactx-replay"))
    parser.add_argument("--quick", action="store_true", help="only the first slice, 4 examples")
    parser.add_argument("--only", nargs="*", help="run only these slices (by name)")
    parser.add_argument("--n-scale", type=int, default=1, help="multiply every slice's --n (4: 16/4/4)")
    parser.add_argument("--clean", action="store_true", help="remove the worktrees afterwards")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    slices = [(name, [*opts[:3], str(int(opts[3]) * args.n_scale), *opts[4:]]) for name, opts in SLICES]
    slices = [(slices[0][0], [*slices[0][1][:3], "4", *slices[0][1][4:]])] if args.quick else slices
    slices = [s for s in slices if not args.only or s[0] in args.only]
    (base_sha, base_py), (head_sha, head_py) = checkout(args.base, args.work), checkout(args.head, args.work)
    memo = args.work / f"memo-{base_sha[:10]}.sqlite"  # one memo, shared by both revisions
    print(f"base {args.base} = {base_sha[:10]}, head {args.head} = {head_sha[:10]}; memo {memo}")
    print("| slice | records base | records head | identical | differing | only in one | steps | tables "
          "| memo hits/misses base | head | ")
    print("|---|---|---|---|---|---|---|---|---|---|")
    all_ok = True
    for name, options in slices:
        outs = []
        for sha, python in ((base_sha, base_py), (head_sha, head_py)):
            out = args.work / "runs" / sha[:10] / name
            shutil.rmtree(out, ignore_errors=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            share_converted_model([base_py.parents[2], head_py.parents[2]])
            seconds = run_eval(python, python.parents[2], out, memo, options)
            print(f"  ran {name} at {sha[:10]} in {seconds:.0f} s", file=sys.stderr)
            outs.append(out)
        ok, line = compare(name, *outs)
        all_ok &= ok
        print(line, flush=True)
    print("NO BEHAVIOUR CHANGE: every record and table identical" if all_ok else "DIFFERENCES FOUND")
    if args.clean:
        for sha in {base_sha, head_sha}:
            git("worktree", "remove", "--force", str(args.work / sha[:10]))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
