"""A learned policy's directory: ``policy.json`` names its kind (``features`` | ``lm``) and what it was trained
for. Read by the loaders of every kind (``adactx.rl.features``, ``adactx.rl.lm_policy``) and the dispatcher
(``adactx.rl.learned``), so none of them imports another.
"""

from __future__ import annotations

from pathlib import Path

from adactx.rl.safe_io import read_json

from adactx.errors import AdactxError

KINDS = ("features", "lm")


def read_policy_json(directory: str | Path) -> dict:
    """``DIR/policy.json`` as a dict; a missing directory or file, bad JSON or a bad kind is a clear error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AdactxError(f"learned policy {directory}: no such directory")
    path = directory / "policy.json"
    if not path.is_file():
        raise AdactxError(
            f"learned policy {directory}: missing policy.json (a learned policy directory is written by "
            "`adactx train features|ppo|grpo`)"
        )
    meta = read_json(path)
    if not isinstance(meta, dict):
        raise AdactxError(f"{path}: expected a JSON object")
    kind = meta.get("kind")
    if kind not in KINDS:
        raise AdactxError(f"{path}: field 'kind' {kind!r} is unknown; choose from {', '.join(KINDS)}")
    return meta


__all__ = ["KINDS", "read_policy_json"]
