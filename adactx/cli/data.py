"""`adactx data list|show|stats`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Inspect the real data sets: splits, counts, examples, statistics.", no_args_is_help=True)
