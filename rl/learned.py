"""Learned policies as directories, and the one resolver of policy names the façades call.

    policy = load_policy("runs/features/policy")          # dispatches on policy.json's "kind"
    policy = resolve_policy("learned:runs/features/policy")
    policy = resolve_policy("topk-2")                     # not learned: adactx.graphs.policies.make_policy

A learned policy directory holds ``policy.json`` — ``{"kind": "features" | "lm", "actions": [...],
"action_grammar": ..., "observation": ..., "lambda": ..., ...}`` — next to its weights:

    kind "features"   adactx.rl.features.FeaturePolicy (MLP over the observation vector, safetensors)
    kind "lm"         adactx.rl.lm_policy.LMPolicy (a language model + PEFT adapter, save_pretrained)

``learned:DIR`` is accepted wherever a policy name is (``adactx ask --policy``, ``adactx eval
--policies``, ``ContextManager(policy=...)``): the façades call :func:`resolve_policy`, so
``adactx.graphs`` never imports ``adactx.rl``. A loaded directory is cached by its path and the
modification time of its ``policy.json`` (an evaluation asks for the policy once per example).
"""

from __future__ import annotations

from pathlib import Path

from adactx.rl.policy_dir import KINDS, read_policy_json

from adactx.errors import AdactxError

PREFIX = "learned:"
_CACHE: dict[tuple[str, int], object] = {}


def is_learned(name: str) -> bool:
    return isinstance(name, str) and name.strip().startswith(PREFIX)


def load_policy(directory: str | Path, name: str | None = None):
    """The policy a learned directory holds, built by its kind's loader."""
    directory = Path(directory)
    meta = read_policy_json(directory)
    name = name or f"{PREFIX}{directory}"
    if meta["kind"] == "features":
        from adactx.rl.features import FeaturePolicy

        return FeaturePolicy.load(directory, meta=meta, name=name)
    try:
        from adactx.rl.lm_policy import LMPolicy
    except ImportError as exc:
        raise AdactxError(
            f"{directory / 'policy.json'}: kind 'lm' needs adactx.rl.lm_policy, which this install lacks ({exc})"
        ) from None
    policy = LMPolicy.load(directory)
    if hasattr(policy, "name"):
        try:
            policy.name = name
        except AttributeError:
            pass
    return policy


def resolve_policy(name: str):
    """A policy by name: ``learned:DIR`` loads the directory; any other name goes to ``make_policy``."""
    if not is_learned(name):
        from adactx.graphs.policies import make_policy

        return make_policy(name)
    raw = name.strip()[len(PREFIX):]
    if not raw:
        raise AdactxError(f"policy {name!r}: give a directory after '{PREFIX}' (learned:DIR)")
    directory = Path(raw).expanduser()
    stamp = _stamp(directory)
    key = (str(directory.resolve()), stamp)
    if stamp < 0 or key not in _CACHE:
        _CACHE[key] = load_policy(directory, name=name.strip())
    policy = _CACHE[key]
    policy.reset()
    return policy


def _stamp(directory: Path) -> int:
    try:
        return (directory / "policy.json").stat().st_mtime_ns
    except OSError:
        return -1


__all__ = ["KINDS", "PREFIX", "is_learned", "load_policy", "read_policy_json", "resolve_policy"]
