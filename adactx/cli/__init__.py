"""The `adactx` command line: a Typer app whose commands live one module per concern.

    sessions.py  ask, summarize, trace list/show       (graphs + reader)
    data.py      data list/show/stats                  (loaders, metrics)
    train.py     train longlora (and train ppo)        (kernels, rl)
    evaluate.py  eval (policies), eval perplexity/passkey

Commands import heavy libraries inside their bodies so that `adactx --help` stays fast. Errors that
come from the user's input are `AdactxError`s: printed as one line, exit code 2, no traceback.
"""

from __future__ import annotations

import sys

import typer

from adactx.cli import data, evaluate, sessions, train
from adactx.errors import AdactxError

app = typer.Typer(
    name="adactx",
    help="Adaptive context for long documents: grow a reader's context step by step, stop when good enough.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)
sessions.register(app)
app.add_typer(data.app, name="data")
app.add_typer(train.app, name="train")
app.add_typer(evaluate.app, name="eval")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the app and turns user errors into one clean line."""
    try:
        app(args=argv, prog_name="adactx")
    except AdactxError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
