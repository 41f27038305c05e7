"""Type checks for the dataclass configs, so a config file with a wrong value is one clear line.

    @dataclass
    class TrainConfig:
        steps: int = field(default=100, metadata={"help": "..."})
        def __post_init__(self):
            check_field_types(self)          # TrainConfig.steps: expected an integer, got 'ten' (str)

Config files arrive as TOML, JSON or YAML, and YAML 1.1 reads ``2e-5`` as a *string*: a float field
accepts a string that is a finite number (and stores the float); everything else must have the field's
type. Supported annotations: int, float, bool, str, list[str], and any of them ``| None``.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import fields
from typing import Any

from adactx.errors import AdactxError

_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list of strings",
          tuple: "a list"}


def check_field_types(config: object) -> None:
    """Check (and, for YAML-string floats, convert) every field against its annotation."""
    hints = typing.get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        checked = _checked(value, hints[f.name])
        if checked is _BAD:
            raise AdactxError(
                f"{type(config).__name__}.{f.name}: expected {_describe(hints[f.name])}, "
                f"got {_show(value)} ({type(value).__name__})"
            )
        if checked is not value:
            setattr(config, f.name, checked)


_BAD = object()


def coerce_value(value: Any, hint: Any) -> Any:
    """``value`` as the annotation ``hint`` takes it (a numeric string for a float); ValueError if it cannot."""
    checked = _checked(value, hint)
    if checked is _BAD:
        raise ValueError(f"expected {_describe(hint)}, got {_show(value)}")
    return checked


def describe_type(hint: Any) -> str:
    """``int | None`` -> ``an integer (or empty)``: the words the one-line errors use."""
    return _describe(hint)


def _checked(value: Any, hint: Any) -> Any:
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    if value is None:
        return value if type(None) in options else _BAD
    for option in options:
        result = _as(value, option)
        if result is not _BAD:
            return result
    return _BAD


def _as(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint) or hint
    if origin is bool:
        return value if isinstance(value, bool) else _BAD
    if origin is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _BAD
    if origin is float:
        return _as_float(value)
    if origin is str:
        return value if isinstance(value, str) else _BAD
    if origin in (list, tuple):
        (item,) = typing.get_args(hint)[:1] or (Any,)
        if not isinstance(value, (list, tuple)):
            return _BAD
        return value if item is Any or all(_as(v, item) is not _BAD for v in value) else _BAD
    return value  # an annotation this helper does not know: left to __post_init__


def _as_float(value: Any) -> Any:
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, str):  # YAML 1.1: `2e-5` is a string
        try:
            value = float(value)
        except ValueError:
            return _BAD
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    return _BAD


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _describe(hint: Any) -> str:
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    named = [_name(o) for o in options if o is not type(None)]
    text = " or ".join(named)
    return text + (" (or empty)" if type(None) in options else "")


def _name(hint: Any) -> str:
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if origin is tuple and args and args[0] is not Any:
        return f"a list ({_name(args[0])} each)"
    return _NAMES.get(origin, str(hint))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
