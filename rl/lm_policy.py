"""A learned context policy backed by a causal LM + PEFT adapter, saved as a directory.

    policy = LMPolicy.load("runs/ppo/policy")            # policy.json + adapter + tokenizer
    policy.reset(); action = policy.act(obs)              # greedy: render -> generate -> parse
    policy.respond(["<observation text>"], sample=True)   # what the trainers call (sampled responses)
    policy.save("runs/ppo/policy")

Directory layout (``save``): the PEFT adapter (``adapter_config.json``, ``adapter_model.safetensors``),
the tokenizer, and ``policy.json``::

    {"kind": "lm", "grammar": [...], "observation_format": "obs-text-v1", "lambda": 0.02,
     "base_model": "smollm2-135m", "multi_turn": false, "max_new_tokens": 8, "trainer": "ppo", ...}

``base_model`` is ``smollm2-135m`` (the bundled reader's base, see ``adactx.reader.resolve_model``) or a
local Hugging Face model directory. ``multi_turn`` policies (GRPO's closed loop) keep the conversation of
the episode: each observation is a new user turn after the previous actions, as in training.

The query is a chat: a short system line, then the observation text (``render_observation``). The
tokenizer's pad token is ``<|endoftext|>`` (id 0 in SmolLM2), distinct from its EOS ``<|im_end|>``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from adactx.graphs.state import Action, Observation
from adactx.rl.observation_text import (
    DEFAULT_GRAMMAR,
    OBSERVATION_FORMAT,
    parse_response,
    render_observation,
    validate_grammar,
)

from adactx.errors import AdactxError

SYSTEM = "Choose the next action for reading the document. Reply with one action."
PAD_TOKEN = "<|endoftext|>"


@dataclass
class PolicyMeta:
    """What ``policy.json`` records about a learned LM policy."""

    kind: str = "lm"
    grammar: tuple[str, ...] = DEFAULT_GRAMMAR
    observation_format: str = OBSERVATION_FORMAT
    lam: float = 0.0
    base_model: str = "smollm2-135m"
    multi_turn: bool = False
    max_new_tokens: int = 8
    needs_draft: bool = True
    trainer: str = ""
    env: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.grammar = validate_grammar(self.grammar, "policy.json grammar")
        if self.kind != "lm":
            raise AdactxError(f"policy.json kind: {self.kind!r} is not an LM policy ('lm')")

    def to_json(self) -> dict:
        data = asdict(self)
        data["lambda"] = data.pop("lam")
        data["grammar"] = list(self.grammar)
        return data

    @classmethod
    def from_json(cls, data: dict, where: str) -> PolicyMeta:
        data = dict(data)
        if "lambda" in data:
            data["lam"] = data.pop("lambda")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AdactxError(f"{where}: unknown field {unknown[0]!r}")
        return cls(**data)


def prepare_tokenizer(tokenizer):
    """Left padding and a pad token distinct from EOS (PPO's response masking needs both)."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        if PAD_TOKEN not in tokenizer.get_vocab():
            raise AdactxError(f"the policy tokenizer has no {PAD_TOKEN} to pad with (pad must differ from EOS)")
        tokenizer.pad_token = PAD_TOKEN
    return tokenizer


def chat_text(tokenizer, messages: list[dict], generation_prompt: bool = True) -> str:
    return tokenizer.apply_chat_template(
        [{"role": "system", "content": SYSTEM}, *messages], tokenize=False, add_generation_prompt=generation_prompt
    )


def query_ids(tokenizer, text: str) -> list[int]:
    """The token ids of one single-turn query (what PPO's dataset holds)."""
    return tokenizer(chat_text(tokenizer, [{"role": "user", "content": text}]), add_special_tokens=False).input_ids


def generate_ids(model, tokenizer, prompts: list[list[int]], max_new_tokens: int, sample: bool,
                 temperature: float = 1.0) -> list[list[int]]:
    """Left-padded batch generation; per prompt the new ids up to and including the first EOS."""
    import torch

    width = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])  # (B, T)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    kwargs = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0} if sample else {"do_sample": False}
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                             pad_token_id=pad, eos_token_id=tokenizer.eos_token_id, **kwargs)
    new = out[:, width:].tolist()
    result = []
    for row in new:
        cut = row.index(tokenizer.eos_token_id) + 1 if tokenizer.eos_token_id in row else len(row)
        result.append(row[:cut])  # ids sampled before EOS are real tokens, even the pad id
    return result


class LMPolicy:
    """``adactx.graphs.policies.Policy`` over a causal LM + adapter (see the module docstring)."""

    def __init__(self, model, tokenizer, meta: PolicyMeta, name: str = "lm"):
        self.model, self.tokenizer, self.meta, self.name = model, prepare_tokenizer(tokenizer), meta, name
        self.needs_draft = meta.needs_draft
        self._messages: list[dict] = []

    def reset(self) -> None:
        self._messages = []

    def respond(self, texts: list[str], sample: bool = False, temperature: float = 1.0) -> list[str]:
        """One single-turn response per observation text."""
        prompts = [query_ids(self.tokenizer, t) for t in texts]
        out = generate_ids(self.model, self.tokenizer, prompts, self.meta.max_new_tokens, sample, temperature)
        return [self.tokenizer.decode(ids, skip_special_tokens=True) for ids in out]

    def act(self, obs: Observation) -> Action:
        text = render_observation(obs, self.meta.grammar)
        if self.meta.multi_turn:
            self._messages.append({"role": "user", "content": text})
            prompt = self.tokenizer(chat_text(self.tokenizer, self._messages), add_special_tokens=False).input_ids
            ids = generate_ids(self.model, self.tokenizer, [prompt], self.meta.max_new_tokens, sample=False)[0]
            response = self.tokenizer.decode(ids, skip_special_tokens=True)
            self._messages.append({"role": "assistant", "content": response})
        else:
            response = self.respond([text])[0]
        action = parse_response(response, self.meta.grammar)
        if action is None:  # unparseable: stop (answer, or summarize where answering is masked)
            return Action("summarize" if obs.mask.get("summarize") else "answer")
        return action

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        (directory / "policy.json").write_text(json.dumps(self.meta.to_json(), indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> LMPolicy:
        directory = Path(directory)
        meta = read_meta(directory)
        return cls(*_load_model(directory, meta), meta, name=f"learned:{directory}")


def read_meta(directory: Path) -> PolicyMeta:
    path = directory / "policy.json"
    if not path.is_file():
        raise AdactxError(f"{directory}: not a learned policy directory (no policy.json)")
    from adactx.rl.safe_io import read_json

    return PolicyMeta.from_json(read_json(path), str(path))


def _load_model(directory: Path, meta: PolicyMeta) -> tuple[Any, Any]:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adactx.reader import resolve_model

    if not (directory / "adapter_config.json").is_file():
        raise AdactxError(f"{directory}: no adapter_config.json (save the policy with LMPolicy.save)")
    base = AutoModelForCausalLM.from_pretrained(resolve_model(meta.base_model), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, directory).eval()
    return model, AutoTokenizer.from_pretrained(directory)


__all__ = ["LMPolicy", "PolicyMeta", "chat_text", "generate_ids", "prepare_tokenizer", "query_ids", "read_meta"]
