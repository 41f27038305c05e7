"""Reading the trainers' config files (TOML, JSON or YAML) into a dict, with one-line errors.

    data = read_config_file("configs/sft_smollm2_2k.toml")    # then Config.from_dict(data.get("sft", data))

Used by every training config (``kernels.train_config``, ``kernels.sft_config``, ``rl.train_config``,
``rl.features_config``); the dataclasses check the values (``adactx.config_types``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adactx.errors import AdactxError


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


__all__ = ["read_config_file"]
