"""CLI options built from a settings dataclass's fields: the default and the help come from the field.

    budget: int = option(ControllerSettings, "budget", "--budget", "-b")
    policies: str = option(EvalConfig, "policies")        # a tuple field becomes "a,b,c" (split_list)

So a default lives only in its dataclass (``adactx.config``, ``adactx.rl.eval_config``) and the command
line cannot drift from it; ``help=`` replaces the field's help where the command means it differently.
"""

from __future__ import annotations

from typing import Any

import typer

from adactx.config import field_default, field_help


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def option(cls: type, name: str, *flags: str, help: str | None = None, default: Any = None) -> Any:
    """A ``typer.Option`` for the field ``name`` of the dataclass ``cls`` (``default`` overrides it: a
    command that deliberately differs, say so where it is called)."""
    value = field_default(cls, name) if default is None else default
    if isinstance(value, tuple):
        value = ",".join(_text(x) for x in value)
    return typer.Option(value, *flags, help=help or field_help(cls, name))


def split_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (the comma-separated form of a tuple field)."""
    return [part.strip() for part in text.split(",") if part.strip()]


__all__ = ["option", "split_list"]
