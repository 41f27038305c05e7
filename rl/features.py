"""The feature policy: a small MLP over ``Observation.to_vector()`` with action masks, saved without pickle.

    policy = FeaturePolicy.load("runs/features/policy")      # or resolve_policy("learned:runs/features/policy")
    policy.reset()
    action = policy.act(obs)                                  # -> Action("retrieve", 2), ..., Action("answer")

A saved feature policy is a directory (a learned policy directory, see ``adactx.rl.learned``):

    policy.json         {"kind": "features", "actions": [...], "observation": ..., "obs_dim": ..., "hidden": [...],
                         "activation": ..., "lambda": ..., "env": {...}, "reward": {...}, ...}
    model.safetensors   the actor's weights only (``layers.{i}.weight|bias``); the network is rebuilt from the
                        JSON on load, so loading a received directory never unpickles anything

The actor is the policy half of sb3's ``MaskableActorCriticPolicy`` (``mlp_extractor.policy_net`` then
``action_net``; :meth:`FeaturePolicy.from_sb3` copies it out), so the saved policy acts exactly as the
trained one does with ``deterministic=True``: the argmax of the logits over the unmasked actions.
Actions carry explicit amounts (``retrieve-2``, ``extend-1024``): the policy acts the same in an
environment whose default amounts differ. Training lives in ``adactx.rl.features_train``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from adactx.graphs.state import ACTIONS, Action, Observation
from adactx.rl.env import EnvConfig, parse_action

from adactx.errors import AdactxError

KIND = "features"
OBSERVATION_FORMAT = "adactx.graphs.state.Observation.to_vector/v1"
ACTION_GRAMMAR = "NAME[-AMOUNT]; NAME in " + " | ".join(ACTIONS) + "; AMOUNT = chunks (retrieve, refine) or tokens (extend)"
WEIGHTS = "model.safetensors"
_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}


def observation_dim() -> int:
    """Length of ``Observation.to_vector()`` (what the environment and the policy agree on)."""
    blank = Observation("qa", 0, 0, 0, 1, 0, 1, [], 0.0, 0.0, None, None)
    return len(blank.to_vector())


def explicit_actions(env: EnvConfig) -> list[str]:
    """The env's action specs with the default amounts written out (``retrieve`` -> ``retrieve-2``)."""
    defaults = {"retrieve": env.retrieve_k, "extend": env.extend_tokens}
    out = []
    for spec in env.actions:
        action = parse_action(spec)
        amount = action.amount if action.amount is not None else defaults.get(action.name)
        out.append(action.name if amount is None else f"{action.name}-{amount}")
    return out


def build_mlp(obs_dim: int, hidden: list[int], n_actions: int, activation: str) -> torch.nn.Sequential:
    """Linear/activation pairs then the logits layer: the layout of sb3's policy_net + action_net."""
    layers: list[torch.nn.Module] = []
    width = obs_dim
    for size in hidden:
        layers += [torch.nn.Linear(width, size), _ACTIVATIONS[activation]()]
        width = size
    layers.append(torch.nn.Linear(width, n_actions))
    return torch.nn.Sequential(*layers)


@dataclass
class FeaturePolicy:
    """Acts by the argmax of the MLP's logits over the actions the observation's mask allows."""

    net: torch.nn.Sequential
    actions: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = "features"
    needs_draft: bool = True

    def __post_init__(self) -> None:
        self._parsed = [parse_action(spec) for spec in self.actions]
        self.net.eval()

    def reset(self) -> None:
        pass

    def mask_of(self, obs: Observation) -> np.ndarray:
        return np.array([obs.mask.get(a.name, False) for a in self._parsed], dtype=bool)

    @torch.no_grad()
    def logits(self, vector) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(vector, dtype=np.float32)).reshape(1, -1)  # (1, obs_dim)
        return self.net(x)[0]  # (n_actions,)

    def _masked_logits(self, vector, mask: np.ndarray) -> np.ndarray:
        logits = self.logits(vector).numpy().astype(np.float64)
        logits[~mask] = -np.inf
        return logits

    def choose(self, vector, mask: np.ndarray) -> int | None:
        """Index of the best allowed action; None when the mask allows none of this policy's actions."""
        if not mask.any():
            return None
        return int(np.argmax(self._masked_logits(vector, mask)))

    def probabilities(self, obs: Observation) -> np.ndarray:
        """Per action of ``self.actions``: the softmax over the allowed actions' logits (masked ones get 0), the
        distribution MaskablePPO samples from in training; ``act`` takes its argmax. All zeros when none is allowed."""
        mask = self.mask_of(obs)
        if not mask.any():
            return np.zeros(len(self.actions))
        logits = self._masked_logits(obs.to_vector(), mask)
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def act(self, obs: Observation) -> Action:
        index = self.choose(obs.to_vector(), self.mask_of(obs))
        if index is None:
            return Action("summarize" if obs.mask.get("summarize") else "answer")
        return self._parsed[index]

    # --- the policy directory ----------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``policy.json`` + ``model.safetensors`` into ``directory`` (created; files replaced atomically)."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {f"layers.{k}": v.detach().contiguous().clone() for k, v in self.net.state_dict().items()}
        tmp = directory / (WEIGHTS + ".tmp")
        save_file(tensors, str(tmp))
        tmp.replace(directory / WEIGHTS)
        meta = {**self.meta, "kind": KIND, "actions": list(self.actions), "action_grammar": ACTION_GRAMMAR,
                "observation": OBSERVATION_FORMAT, "obs_dim": observation_dim(), "needs_draft": self.needs_draft,
                "weights": WEIGHTS}
        tmp = directory / "policy.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2, default=_jsonable) + "\n")
        tmp.replace(directory / "policy.json")
        return directory

    @classmethod
    def load(cls, directory: str | Path, meta: dict | None = None, name: str | None = None) -> FeaturePolicy:
        """Rebuild the MLP from ``policy.json`` and fill it from ``model.safetensors`` (no pickle)."""
        from adactx.rl.policy_dir import read_policy_json

        directory = Path(directory)
        meta = meta if meta is not None else read_policy_json(directory)
        spec = _checked_spec(directory, meta)
        net = build_mlp(spec["obs_dim"], spec["hidden"], len(spec["actions"]), spec["activation"])
        _fill(net, directory / spec["weights"], directory)
        return cls(net, spec["actions"], meta, name=name or f"learned:{directory}",
                   needs_draft=bool(meta.get("needs_draft", True)))

    @classmethod
    def from_sb3(cls, model, env: EnvConfig, meta: dict[str, Any]) -> FeaturePolicy:
        """Copy the actor out of a trained ``MaskablePPO`` (its policy_net + action_net)."""
        hidden, activation = list(meta["hidden"]), meta["activation"]
        actions = explicit_actions(env)
        net = build_mlp(observation_dim(), hidden, len(actions), activation)
        source = model.policy.state_dict()
        target = {}
        for i in range(len(hidden)):
            for part in ("weight", "bias"):
                target[f"{2 * i}.{part}"] = source[f"mlp_extractor.policy_net.{2 * i}.{part}"]
        for part in ("weight", "bias"):
            target[f"{2 * len(hidden)}.{part}"] = source[f"action_net.{part}"]
        net.load_state_dict({k: v.detach().cpu().clone() for k, v in target.items()})
        return cls(net, actions, {**meta, "env": env.to_dict()}, name="features", needs_draft=env.draft)


def _checked_spec(directory: Path, meta: dict) -> dict:
    """The fields a feature policy needs, each checked; errors name the file and the field."""
    where = directory / "policy.json"
    actions, hidden = meta.get("actions"), meta.get("hidden")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
        raise AdactxError(f"{where}: field 'actions' must be a non-empty list of action specs")
    for spec in actions:
        try:
            parse_action(spec)
        except AdactxError as exc:
            raise AdactxError(f"{where}: field 'actions': {exc}") from None
    if not isinstance(hidden, list) or not hidden or not all(isinstance(h, int) and h > 0 for h in hidden):
        raise AdactxError(f"{where}: field 'hidden' must be a non-empty list of positive integers")
    if meta.get("activation") not in _ACTIVATIONS:
        raise AdactxError(f"{where}: field 'activation' must be one of {', '.join(_ACTIVATIONS)}")
    if meta.get("observation") != OBSERVATION_FORMAT or meta.get("obs_dim") != observation_dim():
        raise AdactxError(
            f"{where}: field 'observation' {meta.get('observation')!r} (obs_dim {meta.get('obs_dim')}) does not "
            f"match this adactx ({OBSERVATION_FORMAT}, obs_dim {observation_dim()}); retrain the policy"
        )
    weights = meta.get("weights", WEIGHTS)
    if not isinstance(weights, str) or Path(weights).name != weights:
        raise AdactxError(f"{where}: field 'weights' must be a file name inside the directory")
    return {"actions": actions, "hidden": hidden, "activation": meta["activation"], "obs_dim": observation_dim(),
            "weights": weights}


def _fill(net: torch.nn.Sequential, path: Path, directory: Path) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise AdactxError(f"{directory}: missing {path.name} (the policy's weights)")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise AdactxError(f"{path}: not a readable safetensors file: {exc}") from None
    state = {k.removeprefix("layers."): v for k, v in tensors.items()}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise AdactxError(f"{path}: weights do not match policy.json's network: {first}") from None


def _jsonable(x):
    if isinstance(x, tuple):
        return list(x)
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    raise TypeError(f"not JSON-serializable: {type(x).__name__}")


__all__ = ["FeaturePolicy", "build_mlp", "explicit_actions", "observation_dim"]
