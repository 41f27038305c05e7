"""LongLoRA fine-tuning: S²-Attn + LoRA on attention + trainable embeddings/norms + position interpolation.

    cfg = LongLoRATrainConfig.from_file("configs/longlora_smollm2_16k.toml")
    adapter_dir = train_longlora(cfg)          # log config, build, train, save

The recipe reads top to bottom: :func:`build_model` (base model with ``attn_implementation="s2attn"``,
linear RoPE scaling, PEFT adapter, trainable weights in float32, frozen ones in ``cfg.dtype``),
:func:`pack_blocks` (local text tokenized and packed to ``target_length``), then the loop. Every
``save_steps`` steps a checkpoint (trainable weights + AdamW state as safetensors, step counters as
JSON) is written atomically under ``output_dir/checkpoints``; running the same command again resumes
from the newest one. The data order is a pure function of (seed, step) -- a seeded shuffle of the
files, packed and consumed in order -- so a resumed run sees the batches an uninterrupted run would,
also after raising ``max_steps``. The final adapter lands in ``output_dir/adapter``; loss, learning
rate and tokens/s go to ``output_dir/train_log.jsonl`` and (``report_to = "tensorboard"``) to TensorBoard
under ``logging_dir`` (default ``output_dir/runs``), every ``logging_steps`` steps.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from adactx.kernels.train_config import LongLoRATrainConfig

from adactx.errors import AdactxError

CHECKPOINTS = "checkpoints"
TEXT_SUFFIXES = (".txt", ".md", ".json", ".jsonl")


# --- data ----------------------------------------------------------------------------------------
def _record_text(record: dict) -> str:
    """A QMSum meeting (speaker turns) or any record with a ``text`` field."""
    if "meeting_transcripts" in record:
        return "\n".join(f"{t.get('speaker', '')}: {t.get('content', '')}" for t in record["meeting_transcripts"])
    return str(record.get("text", ""))


def _file_texts(path: Path) -> Iterator[str]:
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        for record in data if isinstance(data, list) else [data]:
            yield _record_text(record)
    elif path.suffix == ".jsonl":
        for line in path.read_text().splitlines():
            if line.strip():
                yield _record_text(json.loads(line))
    else:
        yield path.read_text(errors="replace")


def text_files(paths: list[str]) -> list[Path]:
    """Files named directly, plus text files found (recursively, sorted) under named folders; ``data:REL``
    is REL under the data root (``$ADACTX_DATA``)."""
    from adactx.data.paths import resolve_data_path

    files: list[Path] = []
    for raw in paths:
        path = resolve_data_path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in TEXT_SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise AdactxError(f"data_files: {raw} does not exist" + (f" ({path})" if str(path) != raw else ""))
    if not files:
        raise AdactxError(f"data_files: no text files ({', '.join(TEXT_SUFFIXES)}) under {paths}")
    return files


def read_texts(paths: list[str], seed: int | None = None) -> Iterator[str]:
    """Texts of every file, in sorted order or (``seed`` given) a seeded shuffle of the files."""
    files = text_files(paths)
    if seed is not None:
        random.Random(seed).shuffle(files)
    for path in files:
        for text in _file_texts(path):
            if text.strip():
                yield text


def pack_blocks(texts, tokenizer, length: int, max_blocks: int | None = None):
    """Tokenize texts, join them with EOS, cut into ``(n, length)`` blocks (remainder dropped)."""
    import torch

    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    buffer: list[int] = []
    blocks = []
    for text in texts:
        buffer.extend(tokenizer.encode(text, add_special_tokens=False))
        buffer.append(eos)
        while len(buffer) >= length:
            blocks.append(buffer[:length])
            buffer = buffer[length:]
        if max_blocks is not None and len(blocks) >= max_blocks:
            break
    if not blocks:
        raise AdactxError(f"data_files: fewer than target_length={length} tokens of text")
    return torch.tensor(blocks[:max_blocks], dtype=torch.long)


def batch_indices(step: int, cfg: LongLoRATrainConfig, n_blocks: int, micro: int) -> list[int]:
    """Which packed blocks micro-batch ``micro`` of ``step`` uses: consecutive, cycled when data runs out.

    Blocks come from a seeded shuffle of the files, packed in order, so block ``i`` is the same
    whatever ``steps`` is: raising ``steps`` and resuming continues with unseen blocks.
    """
    per_step = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
    first = step * per_step + micro * cfg.per_device_train_batch_size
    return [(first + i) % n_blocks for i in range(cfg.per_device_train_batch_size)]


# --- model ---------------------------------------------------------------------------------------
def resolve_rope_factor(cfg: LongLoRATrainConfig, config) -> float:
    from adactx.kernels.position import interpolation_factor, original_max_positions

    if cfg.rope_factor is not None:
        return float(cfg.rope_factor)
    return interpolation_factor(cfg.target_length, original_max_positions(config))


def build_model(cfg: LongLoRATrainConfig, device: str = "cpu"):
    """(peft_model, tokenizer, rope_factor): base + S²-Attn + PI + LongLoRA adapter, ready to train."""
    return build_lora_model(
        cfg, lambda config: resolve_rope_factor(cfg, config), tuple(cfg.trainable_extras), device
    )


def build_lora_model(cfg, rope_factor_of, trainable_extras: tuple, device: str = "cpu"):
    """(peft_model, tokenizer, rope_factor) for a LongLoRA-style run (``train longlora`` and ``train sft``):
    ``cfg.model`` with S²-Attn, position interpolation by ``rope_factor_of(model.config)``, the LoRA
    adapter (+ ``trainable_extras``) and float32 trainable weights."""
    import warnings

    import torch
    from adactx.kernels import s2attn
    from adactx.kernels.lora import add_longlora_adapter
    from adactx.kernels.position import apply_position_interpolation
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adactx.reader import resolve_model

    s2attn.register()
    s2attn.set_group_size_ratio(cfg.group_size_ratio)
    path = resolve_model(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    attn = "s2attn" if cfg.attention == "s2attn" else "sdpa"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, cfg.dtype), attn_implementation=attn)
    factor = rope_factor_of(model.config)
    apply_position_interpolation(model, factor)
    model.config.use_cache = False
    if cfg.gradient_checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    torch.manual_seed(cfg.seed)  # LoRA A initialization
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*tie_word_embeddings.*")  # intended: see lora.py
        model = add_longlora_adapter(model, cfg.lora_r, cfg.lora_alpha, trainable_extras)
    for param in model.parameters():
        if param.requires_grad:
            param.data = param.data.float()  # float32 master weights for AdamW
    return model.to(device).train(), tokenizer, factor


def training_loss(model, input_ids, dtype: str):
    """Mean next-token NLL, logits computed a slice at a time (see ``loss.py``)."""
    import torch
    from adactx.kernels.loss import mean_nll

    base = model.get_base_model()
    with torch.autocast(input_ids.device.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
        hidden = base.model(input_ids=input_ids, use_cache=False).last_hidden_state
        return mean_nll(hidden, base.get_output_embeddings(), input_ids, checkpoint=True)


# --- checkpoints ---------------------------------------------------------------------------------
def _trainable(model) -> dict:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(output_dir: Path, model, optimizer, step: int, tokens_seen: int, keep: int) -> Path:
    """Write ``checkpoints/step-NNNNNN`` atomically (temp dir + rename); prune old ones."""
    from safetensors.torch import save_file

    root = output_dir / CHECKPOINTS
    final = root / f"step-{step:06d}"
    tmp = root / f".tmp-step-{step:06d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    params = _trainable(model)
    save_file({n: p.detach().contiguous().cpu() for n, p in params.items()}, tmp / "trainable.safetensors")
    by_id = {id(p): n for n, p in params.items()}
    state = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                state[f"{by_id[id(p)]}::{key}"] = value.detach().contiguous().cpu()
    save_file(state, tmp / "optimizer.safetensors")
    (tmp / "state.json").write_text(json.dumps({"step": step, "tokens_seen": tokens_seen}))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(root.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(output_dir: Path) -> Path | None:
    done = [p for p in sorted((output_dir / CHECKPOINTS).glob("step-*")) if (p / "state.json").exists()]
    return done[-1] if done else None


def load_checkpoint(path: Path, model, optimizer) -> dict:
    """Restore trainable weights and AdamW state; returns the JSON state (step, tokens_seen)."""
    import torch
    from safetensors.torch import load_file

    weights = load_file(path / "trainable.safetensors")
    params = _trainable(model)
    missing = sorted(set(params) - set(weights))
    if missing:
        raise AdactxError(f"checkpoint {path}: does not match this model (missing {missing[0]})")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(weights[name])
    saved = load_file(path / "optimizer.safetensors")
    for group in optimizer.param_groups:
        for p in group["params"]:
            name = next(n for n, q in params.items() if q is p)
            entry = {k.split("::", 1)[1]: v for k, v in saved.items() if k.split("::", 1)[0] == name}
            if entry:
                optimizer.state[p] = {k: v.to(p.device) if k != "step" else v for k, v in entry.items()}
    return json.loads((path / "state.json").read_text())


# --- loop ----------------------------------------------------------------------------------------
@dataclass
class StepLog:
    step: int
    loss: float
    tokens: int
    seconds: float


def learning_rate_at(step: int, cfg) -> float:
    """Constant with linear warm-up (LongLoRA's schedule); any config with learning_rate and warmup_steps."""
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    return cfg.learning_rate


def train_step(model, optimizer, blocks, step: int, cfg: LongLoRATrainConfig, device: str) -> StepLog:
    import torch

    start = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = learning_rate_at(step, cfg)
    total = 0.0
    for micro in range(cfg.gradient_accumulation_steps):
        input_ids = blocks[batch_indices(step, cfg, len(blocks), micro)].to(device)
        loss = training_loss(model, input_ids, cfg.dtype) / cfg.gradient_accumulation_steps
        loss.backward()
        total += float(loss.detach())
    if cfg.max_grad_norm:
        torch.nn.utils.clip_grad_norm_(list(_trainable(model).values()), cfg.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    tokens = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps * cfg.target_length
    return StepLog(step + 1, total, tokens, time.perf_counter() - start)


def train_longlora(
    cfg: LongLoRATrainConfig,
    *,
    on_step: Callable[[StepLog], None] | None = None,
    progress: bool = True,
    console=None,
    device: str = "auto",
) -> Path:
    """Train (or resume) and save the adapter; returns ``output_dir/adapter``.

    ``device`` cpu | cuda | auto; on CUDA with flash-attn installed, S²-Attn takes the flash path
    (``adactx.kernels.s2attn`` picks it for fp16/bf16 CUDA tensors)."""
    import torch
    from adactx.kernels.lora import save_adapter
    from rich.console import Console

    from adactx.reader import resolve_device

    console = console or Console(stderr=True)
    output_dir = _start_run(cfg, console)
    device = resolve_device(device)
    model, tokenizer, factor = build_model(cfg, device)
    n_train = sum(p.numel() for p in _trainable(model).values())
    console.print(f"rope factor {factor:g}; trainable parameters {n_train:,}; device {device}")
    needed = cfg.max_steps * cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
    blocks = pack_blocks(read_texts(cfg.data_files, cfg.seed), tokenizer, cfg.target_length, max_blocks=needed)
    console.print(f"{len(blocks)} packed blocks of {cfg.target_length} tokens (cycled if fewer than {needed})")
    optimizer = torch.optim.AdamW(
        list(_trainable(model).values()), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )

    step, tokens_seen = 0, 0
    resume = latest_checkpoint(output_dir)
    if resume is not None:
        state = load_checkpoint(resume, model, optimizer)
        step, tokens_seen = int(state["step"]), int(state["tokens_seen"])
        console.print(f"resumed from {resume} (step {step})")
    run = _Run(cfg, model, optimizer, blocks, output_dir, device, console)
    step, tokens_seen = run.train(step, tokens_seen, progress, on_step)

    adapter_dir = save_adapter(model, output_dir / "adapter", _adapter_meta(cfg, factor, step, tokens_seen))
    console.print(f"adapter saved to {adapter_dir}")
    return adapter_dir


@dataclass
class _Run:
    """The step loop: train, log (console, train_log.jsonl, TensorBoard), checkpoint."""

    cfg: LongLoRATrainConfig
    model: object
    optimizer: object
    blocks: object
    output_dir: Path
    device: str
    console: object

    def train(self, step: int, tokens_seen: int, progress: bool, on_step) -> tuple[int, int]:
        from adactx.training_args import ScalarLog

        cfg = self.cfg
        with _progress(progress, self.console) as bar, ScalarLog(cfg.tensorboard_dir()) as board:
            task = bar.add_task("longlora", total=cfg.max_steps, completed=step, loss=float("nan"), tps=0.0)
            while step < cfg.max_steps:
                log = train_step(self.model, self.optimizer, self.blocks, step, cfg, self.device)
                step, tokens_seen = log.step, tokens_seen + log.tokens
                tps = log.tokens / max(log.seconds, 1e-9)
                bar.update(task, completed=step, loss=log.loss, tps=tps)
                if step % cfg.logging_steps == 0 or step == cfg.max_steps:
                    self._log(log, tps, board)
                if step % cfg.save_steps == 0 or step == cfg.max_steps:
                    save_checkpoint(self.output_dir, self.model, self.optimizer, step, tokens_seen,
                                    cfg.save_total_limit)
                if on_step is not None:
                    on_step(log)
        return step, tokens_seen

    def _log(self, log: StepLog, tps: float, board) -> None:
        if not self.console.is_terminal:  # logs: one line per step instead of a live bar
            self.console.print(f"step {log.step}/{self.cfg.max_steps} loss {log.loss:.4f} {tps:.0f} tok/s "
                               f"{log.seconds:.1f}s")
        _append_log(self.output_dir, log)
        board.scalars(log.step, {"train/loss": log.loss, "train/learning_rate": learning_rate_at(log.step - 1, self.cfg),
                                 "train/tokens_per_second": tps, "train/seconds": log.seconds})


def _start_run(cfg: LongLoRATrainConfig, console) -> Path:
    """Threads, the output directory and its config.json; the config is also printed."""
    import torch

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    console.print(f"[bold]longlora[/] config: {json.dumps(cfg.to_dict())}")
    return output_dir


def _adapter_meta(cfg: LongLoRATrainConfig, factor: float, step: int, tokens_seen: int) -> dict:
    return {
        "base_model": cfg.model or "smollm2-135m",
        "rope_factor": factor,
        "target_length": cfg.target_length,
        "steps": step,
        "tokens_seen": tokens_seen,
        "attention": cfg.attention,
        "seed": cfg.seed,
    }


def _append_log(output_dir: Path, log: StepLog) -> None:
    with open(output_dir / "train_log.jsonl", "a") as fh:
        fh.write(json.dumps(log.__dict__) + "\n")


def _progress(enabled: bool, console):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[tps]:.0f} tok/s"),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
    )
