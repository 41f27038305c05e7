"""`adactx eval merge DIR... --out DIR`: the run directories of shards (`eval --shard i/N`) as one run."""

from __future__ import annotations

import typer


def merge(
    dirs: list[str] = typer.Argument(..., help="run directories of the shards of one evaluation"),
    out: str = typer.Option(..., "--out", help="the merged run directory (may be new, or one of DIRS)"),
) -> None:
    """Merge shards' run directories: each record once, memo lookups added up, the tables of one run."""
    from adactx.rl.shards import merge_runs

    summary = merge_runs(dirs, out)
    print(summary["table"])
    print(f"\nrun directory: {out}")


__all__ = ["merge"]
