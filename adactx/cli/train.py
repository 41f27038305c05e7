"""`adactx train longlora` (and later `adactx train ppo`)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Train: extend the reader's window with LongLoRA; train the controller policy.", no_args_is_help=True)
