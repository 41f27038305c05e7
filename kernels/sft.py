"""LongLoRA supervised fine-tuning of the reader: answer-only loss over contexts laid out as at inference.

    cfg = SFTTrainConfig.from_file("configs/sft_smollm2_4k.toml")
    adapter_dir = train_sft(cfg)                # log config, build, train, save

The recipe follows LongLoRA's ``supervised-fine-tune.py`` (LongAlpaca), adapted to the reader:

- **Layout** (:func:`layout_example`): head + context pieces + tail from the reader's own
  ``HFReader.prompt_parts``, each part tokenized on its own exactly as ``ReaderSession.append``
  does, then the answer and the end-of-turn token. Labels are -100 everywhere but the answer and its
  end token. When the sequence is longer than ``model_max_length`` the document is cut (distractor
  pieces dropped from the end first, then the last pieces shortened), never the answer.
- **Loss**: the summed NLL of the answer tokens of every example in the optimizer step divided by
  the number of answer tokens in the step, so a long summary and a one-word answer weigh per token
  whatever the accumulation. Logits are computed only at answer positions.
- **Attention**: S²-Attn in training with LongLoRA's SFT grouping (``s2attn.set_sft_group_size``:
  groups of ¼ of the length when it is a multiple of 4096, else ``sft_group_size``, 8192 upstream,
  with no roll); full attention at inference. Examples of a micro-batch run one at a time, unpadded
  (what the upstream kernel does after ``unpad_input``).
- **Positions**: linear interpolation written into the config's rope parameters
  (``config.rope_scaling`` in transformers < 5) when ``model_max_length`` exceeds the window.
- **Trainable**: LoRA r/α on q/k/v/o, plus the norms, plus the input embedding when
  ``train_embeddings`` (LoRA+); off by default so the adapter stays a few MB.

Checkpoints (trainable weights + AdamW state, and a loadable PEFT adapter) go to
``output_dir/checkpoints/step-N`` every ``save_steps`` steps or ``save_minutes`` minutes; running the
same command again resumes from the newest, and the data is a pure function of (seed, example index)
so a resumed run sees the examples an uninterrupted one would. TensorBoard logs: ``logging_dir`` (default ``output_dir/runs``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from adactx.kernels.sft_config import SFTTrainConfig

from adactx.data.sft import SFTRecord, build_record

IGNORE_INDEX = -100
NORMS = ("input_layernorm", "post_attention_layernorm", "norm")


# --- layout --------------------------------------------------------------------------------------
@dataclass
class Layout:
    """One example's token ids and labels (same length; labels -100 outside the answer)."""

    input_ids: list[int]
    labels: list[int]
    n_context: int  # document tokens kept

    @property
    def n_answer(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


def end_token_id(reader) -> int:
    """The token that ends an assistant turn (the tokenizer's EOS, which the reader stops on)."""
    eos = reader.tokenizer.eos_token_id
    return int(eos) if eos is not None else min(reader.eos_ids)


def fit_pieces(pieces: list[list[int]], gold: list[bool], room: int) -> list[list[int]]:
    """Cut the document to ``room`` tokens: drop non-gold pieces from the end, then shorten the last."""
    total = sum(len(p) for p in pieces)
    keep = list(range(len(pieces)))
    for i in reversed(range(len(pieces))):
        if total <= room:
            break
        if not (i < len(gold) and gold[i]):
            total -= len(pieces[i])
            keep.remove(i)
    out = [list(pieces[i]) for i in keep]
    while total > room and out:
        excess = total - room
        if len(out[-1]) <= excess:
            total -= len(out.pop())
        else:
            out[-1] = out[-1][: len(out[-1]) - excess]
            total = room
    return out


def layout_example(reader, record: SFTRecord, max_length: int, max_answer_tokens: int = 256) -> Layout:
    """Token ids as ``reader.session(question, task)`` + ``append(piece)``... + answer, and labels."""
    head, tail = reader.prompt_parts(record.question, record.task)
    head_ids, tail_ids = reader.encode(head), reader.encode(tail)
    answer_ids = reader.encode(record.answer)[:max_answer_tokens] + [end_token_id(reader)]
    room = max_length - len(head_ids) - len(tail_ids) - len(answer_ids)
    pieces = fit_pieces([reader.encode(p) for p in record.pieces], record.gold, max(room, 0))
    context = [t for piece in pieces for t in piece]
    prompt = head_ids + context + tail_ids
    return Layout(prompt + answer_ids, [IGNORE_INDEX] * len(prompt) + answer_ids, len(context))


# --- model ---------------------------------------------------------------------------------------
def trainable_extras(cfg: SFTTrainConfig) -> tuple[str, ...]:
    return (("embed_tokens",) if cfg.train_embeddings else ()) + (NORMS if cfg.train_norms else ())


def build_model(cfg: SFTTrainConfig, device: str = "cpu"):
    """(peft_model, tokenizer, rope_factor): base + S²-Attn (SFT grouping) + PI + LoRA(+), ready to train."""
    from adactx.kernels import s2attn
    from adactx.kernels.position import interpolation_factor, original_max_positions
    from adactx.kernels.train import build_lora_model

    s2attn.set_sft_group_size(cfg.sft_group_size)
    model, tokenizer, factor = build_lora_model(
        cfg,
        lambda config: cfg.rope_factor or interpolation_factor(cfg.model_max_length, original_max_positions(config)),
        trainable_extras(cfg),
        device,
    )
    model.peft_config["default"].base_model_name_or_path = portable_base_name(cfg.model)
    return model, tokenizer, factor


def portable_base_name(model: str | None) -> str:
    """What the adapter records as its base: the default model's name, or the directory as given."""
    from adactx.reader import DEFAULT_MODEL, is_default_model

    return DEFAULT_MODEL if is_default_model(model) else str(model)


def answer_nll_sum(model, input_ids, labels, dtype: str):
    """Summed NLL of the labelled (answer) tokens; logits only at those positions. ids/labels (1, T)."""
    import torch
    import torch.nn.functional as F

    base = model.get_base_model()
    targets = labels[:, 1:]
    mask = targets != IGNORE_INDEX  # position t predicts token t+1
    with torch.autocast(input_ids.device.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
        hidden = base.model(input_ids=input_ids, use_cache=False).last_hidden_state  # (1, T, d)
        logits = base.get_output_embeddings()(hidden[:, :-1][mask])  # (n_answer, V)
    return F.cross_entropy(logits.float(), targets[mask], reduction="sum")


def save_sft_adapter(model, out_dir: Path, meta: dict) -> Path:
    """PEFT adapter (safetensors) + the trained config (rope parameters) + ``longlora.json``, atomically."""
    from adactx.kernels.lora import save_adapter

    tmp = out_dir.with_name(f".tmp-{out_dir.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    save_adapter(model, tmp, meta)
    model.get_base_model().config.save_pretrained(tmp)  # config.json: rope parameters as trained
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


# --- loop ----------------------------------------------------------------------------------------
@dataclass
class StepLog:
    step: int
    loss: float  # mean NLL per answer token over the step
    answer_tokens: int
    tokens: int
    learning_rate: float
    seconds: float


def data_config(cfg: SFTTrainConfig):
    """The data settings with contexts capped to what ``model_max_length`` leaves after prompt and answer."""
    cap = cfg.model_max_length - cfg.max_answer_tokens - 128
    lo = max(min(cfg.data.min_context_tokens, cap), 64)
    hi = max(min(cfg.data.max_context_tokens, cap), lo)
    return replace(cfg.data, min_context_tokens=lo, max_context_tokens=hi, chunk_tokens=min(cfg.data.chunk_tokens, lo))


def step_layouts(reader, record_at: Callable[[int], SFTRecord], step: int, cfg: SFTTrainConfig) -> list[Layout]:
    """The examples of optimizer step ``step``: record ``step·k + j`` for j < k (k examples per step)."""
    first = step * cfg.examples_per_step
    records = [record_at(first + j) for j in range(cfg.examples_per_step)]
    return [layout_example(reader, r, cfg.model_max_length, cfg.max_answer_tokens) for r in records]


def train_step(model, optimizer, layouts: list[Layout], step: int, cfg: SFTTrainConfig, device: str) -> StepLog:
    """One optimizer step over ``layouts``; the loss is normalized by the step's answer tokens."""
    import torch
    from adactx.kernels.train import _trainable, learning_rate_at  # LongLoRA's warm-up schedule

    start = time.perf_counter()
    lr = learning_rate_at(step, cfg)
    for group in optimizer.param_groups:
        group["lr"] = lr
    n_answer = sum(layout.n_answer for layout in layouts) or 1
    total = 0.0
    for layout in layouts:  # one unpadded sequence at a time
        ids = torch.tensor([layout.input_ids], device=device)
        labels = torch.tensor([layout.labels], device=device)
        loss = answer_nll_sum(model, ids, labels, cfg.dtype) / n_answer
        loss.backward()
        total += float(loss.detach())
    if cfg.max_grad_norm:
        torch.nn.utils.clip_grad_norm_(list(_trainable(model).values()), cfg.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    tokens = sum(len(layout.input_ids) for layout in layouts)
    return StepLog(step + 1, total, n_answer, tokens, lr, time.perf_counter() - start)


class _Logs:
    """train_log.jsonl (always) and TensorBoard scalars (``report_to = "tensorboard"``, under ``logging_dir``)."""

    def __init__(self, output_dir: Path, cfg: SFTTrainConfig):
        from adactx.training_args import ScalarLog

        self.path = output_dir / "train_log.jsonl"
        self.board = ScalarLog(cfg.tensorboard_dir())

    def write(self, log: StepLog) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps(log.__dict__) + "\n")
        keys = ("loss", "answer_tokens", "tokens", "learning_rate", "seconds")
        self.board.scalars(log.step, {f"train/{key}": getattr(log, key) for key in keys})

    def close(self) -> None:
        self.board.close()


def _adapter_meta(cfg: SFTTrainConfig, factor: float, step: int, tokens_seen: int) -> dict:
    return {
        "base_model": portable_base_name(cfg.model),
        "recipe": "sft",
        "rope_factor": factor,
        "target_length": cfg.model_max_length,
        "steps": step,
        "tokens_seen": tokens_seen,
        "attention": cfg.attention,
        "train_embeddings": cfg.train_embeddings,
        "seed": cfg.seed,
    }


def _checkpoint(output_dir: Path, model, optimizer, step: int, tokens_seen: int, cfg, factor: float) -> Path:
    """Trainer state (for resume) plus a loadable adapter in ``checkpoints/step-N/adapter``."""
    from adactx.kernels.train import save_checkpoint

    path = save_checkpoint(output_dir, model, optimizer, step, tokens_seen, cfg.save_total_limit)
    save_sft_adapter(model, path / "adapter", _adapter_meta(cfg, factor, step, tokens_seen))
    return path


def _resume(output_dir: Path, model, optimizer, console) -> tuple[int, int]:
    """(step, tokens_seen) from the newest checkpoint, weights and AdamW state restored; (0, 0) if none."""
    from adactx.kernels.train import latest_checkpoint, load_checkpoint

    resume = latest_checkpoint(output_dir)
    if resume is None:
        return 0, 0
    state = load_checkpoint(resume, model, optimizer)
    console.print(f"resumed from {resume} (step {state['step']})")
    return int(state["step"]), int(state["tokens_seen"])


def train_sft(
    cfg: SFTTrainConfig,
    *,
    records: Callable[[int], SFTRecord] | None = None,
    on_step: Callable[[StepLog], None] | None = None,
    console=None,
) -> Path:
    """Train (or resume) and save the adapter; returns ``output_dir/adapter``.

    ``records(i)`` gives example ``i`` (default: :func:`adactx.data.sft.build_record` from ``cfg.data``);
    it must be a pure function of ``i`` for resuming to see the same data.
    """
    import torch
    from adactx.kernels.train import _trainable
    from rich.console import Console

    from adactx.reader import HFReader

    console = console or Console(stderr=True)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    console.print(f"[bold]sft[/] config: {json.dumps(cfg.to_dict())}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tokenizer, factor = build_model(cfg, device)
    reader = HFReader(model, tokenizer, name="sft")  # only its prompt layout and tokenization are used
    n_train = sum(p.numel() for p in _trainable(model).values())
    console.print(f"rope factor {factor:g}; trainable parameters {n_train:,}; device {device}")
    optimizer = torch.optim.AdamW(list(_trainable(model).values()), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    step, tokens_seen = _resume(output_dir, model, optimizer, console)
    if records is None:
        data_cfg = data_config(cfg)
        records = lambda i: build_record(data_cfg, tokenizer, cfg.seed, i)
    logs = _Logs(output_dir, cfg)
    last_save = time.monotonic()
    try:
        while step < cfg.max_steps:
            layouts = step_layouts(reader, records, step, cfg)
            log = train_step(model, optimizer, layouts, step, cfg, device)
            step, tokens_seen = log.step, tokens_seen + log.tokens
            if step % cfg.logging_steps == 0 or step == cfg.max_steps:
                console.print(f"step {step}/{cfg.max_steps} loss {log.loss:.4f} answer tokens {log.answer_tokens} "
                              f"tokens {log.tokens} lr {log.learning_rate:.2e} {log.seconds:.1f}s", highlight=False)
                logs.write(log)
            due = cfg.save_minutes and time.monotonic() - last_save >= 60 * cfg.save_minutes
            if step % cfg.save_steps == 0 or step == cfg.max_steps or due:
                _checkpoint(output_dir, model, optimizer, step, tokens_seen, cfg, factor)
                last_save = time.monotonic()
            if on_step is not None:
                on_step(log)
    finally:
        logs.close()
    adapter_dir = save_sft_adapter(model, output_dir / "adapter", _adapter_meta(cfg, factor, step, tokens_seen))
    console.print(f"adapter saved to {adapter_dir}")
    return adapter_dir
