"""The `adactx` command line: a Typer app whose commands live one module per concern.

    sessions.py  ask, summarize, trace list/show       (graphs + reader); live.py prints a running one
    render.py    tables that read well at 80 columns
    data.py      data list/show/stats                  (loaders, metrics)
    train.py     train longlora, sft, features, ppo, grpo (kernels, rl)
    evaluate.py  eval (policies), eval perplexity/passkey

Commands import heavy libraries inside their bodies so that `adactx --help` stays fast. Errors that
come from the user's input are `AdactxError`s: printed as one line, exit code 2, no traceback.
"""

from __future__ import annotations

import sys

import typer

from adactx.cli import data, evaluate, sessions, train
from adactx.errors import AdactxError


def _flags_shown_as_flags() -> None:
    """Typer 0.29 labels every boolean flag ``<bool>`` in ``--help`` (``--json <bool>``), as if it took a
    value; a flag takes none, so its type column is left empty (``--json   The whole trace as JSON.``)."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "adactx_flags", False):  # another Typer, or already done
        return

    def display_type_rich(self, ctx):
        return "" if self.is_flag and self.metavar is None else shown(self, ctx)

    display_type_rich.adactx_flags = True
    TyperOption.display_type_rich = display_type_rich


_flags_shown_as_flags()

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
