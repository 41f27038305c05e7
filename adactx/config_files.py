"""Reading the trainers' configs: a TOML / JSON / YAML file, renamed fields, command-line overrides.

    data = read_config_file("configs/sft_smollm2_2k.toml")    # then Config.from_dict(data.get("sft", data))
    cfg = load_config(SFTTrainConfig, "configs/sft.toml", section="sft",
                      overrides=["--learning_rate", "1e-4", "--max_steps=5", "--data.sources", "mixed:train"])

Used by every training config (``kernels.train_config``, ``kernels.sft_config``, ``rl.train_config``,
``rl.features_config``); the dataclasses check the values (``adactx.config_types``). Overrides are
HfArgumentParser-style ``--FIELD VALUE`` (or ``--FIELD=VALUE``; ``-`` and ``_`` are the same; a table's
field is ``--TABLE.FIELD``), checked against the dataclass: an unknown field or a value of the wrong
type is one line naming it. Fields renamed to their ``TrainingArguments`` names (a config's
``RENAMED = {"steps": "max_steps", ...}``) are still read under the old name, with a one-line notice.
Every problem is an ``AdactxError`` of one line.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import types
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from adactx.config_types import coerce_value, describe_type
from adactx.errors import AdactxError

log = logging.getLogger("adactx.config")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A TOML / JSON / YAML config file's top-level mapping; every problem is one line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise AdactxError(f"--config {path}: no such file")
    if path.suffix not in (".toml", ".json", ".yaml", ".yml"):
        raise AdactxError(f"--config {path}: use a .toml, .json or .yaml file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdactxError(f"--config {path}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        data = _parse_text(path.suffix, text)
    except Exception as exc:  # noqa: BLE001 -- tomllib, json and yaml each raise their own error types
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise AdactxError(f"--config {path}: cannot parse: {reason}") from None
    if data is None:
        raise AdactxError(f"--config {path}: the file is empty")
    if not isinstance(data, dict):
        raise AdactxError(f"--config {path}: expected a mapping of fields, got a {type(data).__name__}")
    return data


def _parse_text(suffix: str, text: str) -> Any:
    if suffix == ".toml":
        import tomllib

        return tomllib.loads(text)
    if suffix == ".json":
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        raise AdactxError("YAML configs need PyYAML: pip install pyyaml (or use TOML)") from None
    return yaml.safe_load(text)


# --- fields renamed to TrainingArguments names ----------------------------------------------------------
def rename_deprecated(data: dict[str, Any], cls: type, where: str) -> dict[str, Any]:
    """``data`` with ``cls.RENAMED`` old names moved to the new ones; a one-line notice for each."""
    renamed = getattr(cls, "RENAMED", {})
    out = dict(data)
    for old, new in renamed.items():
        if old not in out:
            continue
        if new in out:
            raise AdactxError(f"{where}: both {old!r} and {new!r} are set; {old!r} is the old name of {new!r}, keep one")
        log.warning("%s: %r is deprecated, use %r (read as %s = %r)", where, old, new, new, out[old])
        out[new] = out.pop(old)
    return out


def accept_renamed(cls: type) -> type:
    """Class decorator (above ``@dataclass``): ``Config(steps=3)`` is read as ``Config(max_steps=3)``, with
    the notice :func:`rename_deprecated` gives, so Python callers of the old names keep working too."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **rename_deprecated(kwargs, cls, cls.__name__))

    cls.__init__ = __init__
    return cls


# --- command-line overrides ------------------------------------------------------------------------------
def parse_overrides(args: list[str], cls: type) -> dict[str, Any]:
    """``["--max_steps", "5", "--env.budget=4096"]`` -> ``{"max_steps": 5, "env": {"budget": 4096}}``, typed."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise AdactxError(f"{arg}: unexpected argument (config fields are set as --FIELD VALUE)")
        name, has_value, value = arg[2:].partition("=")
        if not has_value:
            if i + 1 >= len(args):
                raise AdactxError(f"--{name}: needs a value (--{name} VALUE or --{name}=VALUE)")
            value, i = args[i + 1], i + 1
        i += 1
        key, typed = override_value(cls, name.replace("-", "_"), value)
        _set_dotted(out, key, typed)
    return out


def override_value(cls: type, name: str, raw: str, prefix: str = "") -> tuple[str, Any]:
    """The field path and the value of ``--name raw``, checked against ``cls`` (old names accepted)."""
    head, _, rest = name.partition(".")
    flag = f"--{prefix}{name}"
    names = _field_names(cls)
    target = head if head in names else getattr(cls, "RENAMED", {}).get(head, head)  # an old name: noticed later
    if target not in names:
        raise AdactxError(f"--{prefix}{head}: unknown {cls.__name__} field{_suggest(head, names, prefix)}")
    hint = typing.get_type_hints(cls)[target]
    table = _table_class(cls, target, hint) if rest else _table_or_none(cls, target, hint)
    if not rest:
        if table is not None or hint is dict:
            raise AdactxError(f"{flag}: a table; set its fields as --{prefix}{head}.FIELD VALUE")
        return head, _typed(flag, raw, hint)
    if table is None:
        return f"{head}.{rest}", _typed(flag, raw, Any)
    _, value = override_value(table, rest, raw, f"{prefix}{head}.")
    return f"{head}.{rest}", value


def merge_overrides(data: dict[str, Any], overrides: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """``data`` with ``overrides`` laid over it; a table's fields are merged one by one."""
    out = dict(data)
    for key, value in overrides.items():
        if isinstance(value, dict):
            base = out.get(key, {})
            if not isinstance(base, dict):
                raise AdactxError(f"{where}: `{key}` must be a table of fields to take --{key}.FIELD")
            out[key] = merge_overrides(base, value, where)
        else:
            out[key] = value
    return out


def load_config(cls: type, path: str | Path | None, *, section: str | None = None,
                overrides: list[str] | dict[str, Any] | None = None):
    """``cls`` from a config file (or its defaults when ``path`` is None) with overrides laid over it."""
    where = f"--config {path}" if path is not None else "command line"
    data: Any = read_config_file(path) if path is not None else {}
    if section is not None and section in data:
        data = data[section]
        if not isinstance(data, dict):
            raise AdactxError(f"{where}: `{section}` must be a table of fields")
    data = rename_deprecated(data, cls, where)
    if overrides:
        parsed = parse_overrides(list(overrides), cls) if isinstance(overrides, list) else overrides
        data = merge_overrides(data, rename_deprecated(parsed, cls, "command line"), where)
    try:
        return cls.from_dict(data)
    except AdactxError as exc:
        raise AdactxError(f"{where}: {exc}") from None


def _typed(flag: str, raw: str, hint: Any) -> Any:
    """The command-line string as the field's type (a TOML literal, else the plain string)."""
    value = _literal(raw, hint)
    if hint is Any:
        return value
    try:
        return coerce_value(value, hint)
    except ValueError:
        raise AdactxError(f"{flag}: expected {describe_type(hint)}, got {raw!r}") from None


def _literal(raw: str, hint: Any) -> Any:
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if type(None) in options and raw.strip().lower() in ("", "none", "null"):
        return None
    if str in options:
        return raw
    if bool in options and raw.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return raw.strip().lower() in ("true", "yes", "1")
    import tomllib

    is_list = any(typing.get_origin(o) in (list, tuple) for o in options)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
        return [value] if is_list and not isinstance(value, list) else value
    except tomllib.TOMLDecodeError:
        pass
    if is_list:
        return [_literal(part.strip(), Any) for part in raw.split(",") if part.strip()]
    return raw


def _table_or_none(cls: type, name: str, hint: Any) -> type | None:
    """The dataclass a table field holds (its annotation, or ``cls.TABLES[name]`` for a plain dict)."""
    if isinstance(hint, type) and is_dataclass(hint):
        return hint
    return getattr(cls, "TABLES", {}).get(name)


def _table_class(cls: type, name: str, hint: Any) -> type | None:
    table = _table_or_none(cls, name, hint)
    if table is None and not (hint is dict or typing.get_origin(hint) is dict):
        raise AdactxError(f"--{name}.*: {cls.__name__}.{name} is not a table of fields")
    return table


def _set_dotted(out: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        out = out.setdefault(part, {})
    out[last] = value


def _field_names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def _suggest(name: str, names: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean --{prefix}{close[0]}?)" if close else f" (known: {', '.join(sorted(names))})"


__all__ = ["accept_renamed", "load_config", "merge_overrides", "override_value", "parse_overrides", "read_config_file",
           "rename_deprecated"]
