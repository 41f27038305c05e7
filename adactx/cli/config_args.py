"""`adactx train X --config F --FIELD VALUE ...`: a config file plus command-line overrides of any field.

    @app.command("sft", **config_command("adactx.kernels.sft_config:SFTTrainConfig"))
    def sft(ctx: typer.Context, config: ConfigOption = None, print_config: PrintConfigOption = False):
        cfg = load_train_config(SFTTrainConfig, config, ctx.args, print_config)

The fields are HfArgumentParser-style flags (``--learning_rate 1e-4``, ``--max-steps=5``, ``--env.budget
4096``) parsed and checked by ``adactx.config_files`` against the dataclass; the command's ``--help`` lists
every field with its type, default and help, read from the dataclass only when help is asked for (so
``adactx --help`` imports no config module).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import typing
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML/JSON/YAML config file (its fields are listed below); omit for the defaults."),
]
PrintConfigOption = Annotated[
    bool, typer.Option("--print-config", help="Print the resolved config as JSON and exit (nothing is trained).")
]
OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}
_LOGGING_FIELDS = ("report_to", "logging_dir", "logging_steps")  # adactx.training_args.LoggingArgs


def config_command(target: str) -> dict[str, Any]:
    """``app.command`` keyword arguments: extra ``--FIELD VALUE`` args allowed, the fields listed in help."""
    help_class = type("ConfigFieldsCommand", (_ConfigFieldsCommand,), {"config_target": target})
    return {"cls": help_class, "context_settings": OVERRIDES}


def load_train_config(cls: type, config: Path | None, args: list[str], print_config: bool = False):
    """The config from ``--config`` (or the defaults) with ``args`` laid over it; ``--print-config`` exits."""
    cfg = cls.from_file(config, overrides=list(args))
    if print_config:
        typer.echo(json.dumps(_plain(cfg), indent=2, default=list))
        raise typer.Exit()
    return cfg


class _ConfigFieldsCommand(TyperCommand):
    config_target = ""

    def format_help(self, ctx, formatter) -> None:
        self.epilog = fields_help(_resolve(self.config_target))
        return super().format_help(ctx, formatter)


def fields_help(cls: type) -> str:
    """Markdown paragraphs: how to override, old names, then one line per field (type, default, help)."""
    hints = typing.get_type_hints(cls)
    lines = [(f"**Config fields** ({cls.__name__}): set any of them in the file or on the command line as "
              "`--FIELD VALUE` or `--FIELD=VALUE` (`-` and `_` alike; a list as `a,b`; a table's field as "
              "`--TABLE.FIELD VALUE`).")]
    renamed = getattr(cls, "RENAMED", {})
    if renamed:
        lines.append("Old names still read (with a notice): "
                     + ", ".join(f"`{old}` → `{new}`" for old, new in renamed.items()) + ".")
    logging_last = sorted(dataclasses.fields(cls), key=lambda f: f.name in _LOGGING_FIELDS)  # own fields first
    for f in logging_last:
        kind, default = _type_name(getattr(cls, "TABLES", {}).get(f.name, hints[f.name])), _default_text(f)
        lines.append(f"- `--{f.name}` {kind} = {default}: {f.metadata.get('help', '')}")
    return "\n\n".join(lines)


def _type_name(hint: Any) -> str:
    if dataclasses.is_dataclass(hint):
        return f"table ({hint.__name__})"
    text = str(hint).replace("typing.", "")
    return getattr(hint, "__name__", text) if not typing.get_args(hint) else text


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if dataclasses.is_dataclass(value) or value == {}:
        return "its defaults"
    if value is None:
        return "empty"
    return f"`{json.dumps(list(value) if isinstance(value, tuple) else value)}`"


def _resolve(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _plain(cfg: Any) -> Any:
    return dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else cfg


__all__ = ["OVERRIDES", "ConfigOption", "PrintConfigOption", "config_command", "fields_help", "load_train_config"]
