"""What the PPO and GRPO policy trainers share: models, the training environment, checkpoints, meters.

    policy, tokenizer = build_policy(cfg)                 # base LM + LoRA (PEFT), pad distinct from EOS
    pool, examples, memo_stats = build_environment(cfg, tokenizer_reader)   # memoized ContextEnv as text
    ckpt = Checkpoints(out)                               # atomic: survives kill -9, resumes
    meter = Throughput(); meter.add(decisions); meter.per_hour()

Checkpoints are directories written next to the final one and renamed into place (``checkpoint``), so a
kill at any moment leaves the previous complete checkpoint; ``history.jsonl`` holds one metrics line per
finished iteration (the learning curve), truncated back to the checkpoint on resume.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adactx.rl.train_config import PolicyTrainConfig

from adactx.errors import AdactxError

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def build_policy(cfg: PolicyTrainConfig, base=None, tokenizer=None):
    """The trainable policy: ``base`` (default: ``cfg.base_model``) + a fresh LoRA adapter."""
    import torch
    from adactx.rl.lm_policy import prepare_tokenizer
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adactx.reader import resolve_model

    if base is None:
        path = resolve_model(cfg.base_model)
        base = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        tokenizer = tokenizer or AutoTokenizer.from_pretrained(path)
    torch.manual_seed(cfg.seed)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=0.0, target_modules=LORA_TARGETS,
                      task_type="CAUSAL_LM")
    return get_peft_model(base, lora), prepare_tokenizer(tokenizer)


def _choices(text: str, grammar: tuple[str, ...]) -> list[str]:
    """The actions an observation text offers (its last line), else the whole grammar."""
    marker = "Reply with one action: "
    return text.rsplit(marker, 1)[1].split(" | ") if marker in text else list(grammar)


def format_warmup(model, tokenizer, texts: list[str], grammar: tuple[str, ...], steps: int, lr: float,
                  seed: int = 0, batch_size: int = 8) -> float:
    """Teach the format, not the task: observation -> a uniformly random offered action + EOS.

    A small instruct model rarely answers in the grammar (SmolLM2-135M: 1 in 6 observations, greedy), so
    RL starts from a policy that parses and then learns which action; returns the last loss.
    """
    import random

    import torch
    from adactx.rl.lm_policy import query_ids

    rng, pad = random.Random(seed), tokenizer.pad_token_id
    params = [p for p in model.parameters() if p.requires_grad]
    opt, loss = torch.optim.AdamW(params, lr=lr), torch.tensor(float("nan"))
    model.train()
    for _ in range(steps):
        rows = []
        for text in rng.sample(texts, min(batch_size, len(texts))):
            query = query_ids(tokenizer, text)
            reply = tokenizer(rng.choice(_choices(text, grammar)), add_special_tokens=False).input_ids
            rows.append((query + reply + [tokenizer.eos_token_id], len(query)))
        width = max(len(ids) for ids, _ in rows)
        ids = torch.tensor([seq + [pad] * (width - len(seq)) for seq, _ in rows])  # (B, T), right-padded
        mask = torch.tensor([[1] * len(seq) + [0] * (width - len(seq)) for seq, _ in rows])
        labels = ids.masked_fill(mask == 0, -100)
        for r, (_, n_query) in enumerate(rows):
            labels[r, :n_query] = -100  # learn the reply only
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


def warm_up_if_asked(cfg: PolicyTrainConfig, model, tokenizer, pool, examples: list) -> float | None:
    """Run :func:`format_warmup` on the first observations of up to 32 training examples."""
    if cfg.format_warmup_steps < 1:
        return None
    env = pool.take(1)[0]
    texts = [env.reset(example) for example in examples[:32]]
    return format_warmup(model, tokenizer, texts, cfg.grammar, cfg.format_warmup_steps, cfg.learning_rate * 10,
                         cfg.seed)


def policy_meta(cfg: PolicyTrainConfig, trainer: str, multi_turn: bool):
    from adactx.rl.lm_policy import PolicyMeta

    return PolicyMeta(grammar=cfg.grammar, lam=cfg.lam, base_model=cfg.base_model, multi_turn=multi_turn,
                      max_new_tokens=cfg.max_new_tokens, trainer=trainer, env=cfg.env_config().to_dict())


def build_environment(cfg: PolicyTrainConfig):
    """(EnvPool over the memoized ContextEnv, training examples, memo stats callable) for ``cfg.data``."""
    from adactx.retrieval.encoders import load_encoder
    from adactx.rl.env import ContextEnv, Workspace
    from adactx.rl.episodes import ControllerTextEnv, EnvPool
    from adactx.rl.evaluate import EvalConfig, load_examples
    from adactx.rl.memo import MemoReader, OutcomeMemo
    from adactx.rl.rewards import RewardConfig

    from adactx.reader import cache_dir, load_reader

    if not cfg.data.endswith(":train"):
        raise AdactxError(f"data {cfg.data!r}: train policies on a train split only (NAME:train)")
    reader = load_reader(adapter=cfg.reader_adapter)
    memo = OutcomeMemo(cache_dir() / "memo.sqlite")
    memo_reader = MemoReader(reader, memo)
    env_cfg = cfg.env_config()
    workspace = Workspace(memo_reader, load_encoder(cfg.encoder), env_cfg, cache_dir())
    reward = RewardConfig(lam=cfg.lam)
    eval_cfg = EvalConfig(data=cfg.data, n=cfg.n_examples, seed=cfg.seed, mixed_lengths=cfg.mixed_lengths,
                          policies=("full",))
    examples = load_examples(eval_cfg, reader.tokenizer)

    def factory():
        return ControllerTextEnv(ContextEnv([], memo_reader, env_cfg, reward, workspace=workspace), cfg.grammar)

    return EnvPool(factory), examples, memo.stats


@dataclass
class Throughput:
    """Decisions trained per wall-clock hour (since the meter started: this invocation)."""

    decisions: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, n: int) -> None:
        self.decisions += n

    def per_hour(self) -> float:
        return self.decisions / max(time.perf_counter() - self.started, 1e-9) * 3600.0


class Checkpoints:
    """``out/checkpoint`` (atomic directory swap) and ``out/history.jsonl``."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.path = self.out / "checkpoint"
        self.history_path = self.out / "history.jsonl"

    def latest(self) -> Path | None:
        old = self.path.with_name("checkpoint.old")
        if self.path.is_dir() and (self.path / "state.json").is_file():
            return self.path
        if old.is_dir() and (old / "state.json").is_file():  # killed between the two renames
            return old
        return None

    def write(self, fill, state: dict) -> Path:
        """``fill(tmp_dir)`` writes the files; ``state`` (with ``iteration``) goes last, then the swap."""
        tmp, old = self.path.with_name("checkpoint.tmp"), self.path.with_name("checkpoint.old")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        fill(tmp)
        (tmp / "state.json").write_text(json.dumps(state, indent=2))
        if self.path.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            self.path.rename(old)
        tmp.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)
        return self.path

    def state(self) -> dict | None:
        path = self.latest()
        return json.loads((path / "state.json").read_text()) if path else None

    def history(self, upto: int | None = None) -> list[dict]:
        if not self.history_path.is_file():
            return []
        rows = []
        for line in self.history_path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                break  # a torn last line from a kill
        return [r for r in rows if upto is None or r["iteration"] < upto]

    def reset_history(self, upto: int) -> None:
        rows = self.history(upto)
        self.history_path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def append(self, row: dict) -> None:
        with self.history_path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def trainable_tensors(model) -> dict:
    """The parameters that train (LoRA, value head), by name, detached."""
    return {n: p.detach().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def save_trainable(model, path: Path) -> None:
    """The parameters that train (LoRA, value head) as safetensors."""
    from safetensors.torch import save_file

    save_file(trainable_tensors(model), str(path))


def load_trainable(model, path: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in tensors]
    if missing:
        raise AdactxError(f"{path}: checkpoint lacks {missing[0]} (was it written by another config?)")
    params = dict(model.named_parameters())
    for name, tensor in tensors.items():
        params[name].data.copy_(tensor)


def save_optimizer(optimizer, path: Path) -> None:
    import torch

    torch.save(optimizer.state_dict(), path)


def load_optimizer(optimizer, path: Path) -> None:
    import torch

    optimizer.load_state_dict(torch.load(path, weights_only=True))


def progress_bar(total: int, start: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, desc=desc, unit="it", dynamic_ncols=True)



def point_tensorboard(cfg: PolicyTrainConfig) -> None:
    """Aim TRL's TensorBoard callback at ``cfg.tensorboard_dir()`` (transformers 5 reads the directory
    from ``$TENSORBOARD_LOGGING_DIR``; ``TrainingArguments.logging_dir`` is gone)."""
    log_dir = cfg.tensorboard_dir()
    if log_dir is not None:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(log_dir)


__all__ = [
    "Checkpoints",
    "Throughput",
    "build_environment",
    "build_policy",
    "format_warmup",
    "load_optimizer",
    "load_trainable",
    "point_tensorboard",
    "policy_meta",
    "progress_bar",
    "save_optimizer",
    "save_trainable",
    "trainable_tensors",
    "warm_up_if_asked",
]
