"""Which reader to build: a local Hugging Face model, or a model behind an OpenAI-compatible server.

    spec = ReaderSpec(kind="openai", base_url="http://127.0.0.1:8080/v1", model="smollm2")
    reader = make_reader(spec)                          # -> adactx.http_reader.OpenAIReader
    reader = as_reader("openai:http://127.0.0.1:8080/v1", model="smollm2")   # the same, from a string
    reader = as_reader(None, model=None, device="cuda")                      # the bundled model on a GPU

``ContextManager(reader=...)`` and ``adactx ask/eval --reader ...`` go through :func:`as_reader`, which
takes a reader object (anything with ``session`` and ``count_tokens``: kept as it is), a ``ReaderSpec``,
a dict of its fields, or a string ``hf`` | ``openai:URL``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from adactx.errors import AdactxError

KINDS = ("hf", "openai")


@dataclass
class ReaderSpec:
    """A reader, described without loading it."""

    kind: str = field(default="hf", metadata={"help": "hf (a local model) | openai (an OpenAI-compatible server)"})
    model: str | None = field(
        default=None, metadata={"help": "hf: a local model directory (default: bundled SmolLM2); openai: served name"}
    )
    base_url: str | None = field(default=None, metadata={"help": "openai: the server URL with /v1"})
    tokenizer: str | None = field(
        default=None, metadata={"help": "openai: a local tokenizer directory (default: the server's /tokenize)"}
    )
    device: str = field(default="auto", metadata={"help": "hf: cpu | cuda | auto"})
    dtype: str = field(default="auto", metadata={"help": "hf: auto | bfloat16 | float16 | float32"})
    adapter: str | None = field(default=None, metadata={"help": "hf: a PEFT adapter directory merged on load"})
    timeout_s: float = field(default=120.0, metadata={"help": "openai: seconds per request"})
    retries: int = field(default=3, metadata={"help": "openai: retries of a failed request"})
    max_context: int | None = field(default=None, metadata={"help": "openai: the window (default: the server's)"})

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise AdactxError(f"ReaderSpec.kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "openai" and not self.base_url:
            raise AdactxError("ReaderSpec.base_url: --reader openai needs --base-url URL (with /v1)")
        if self.kind == "openai" and not self.model:
            raise AdactxError("ReaderSpec.model: --reader openai needs --model NAME (the served model)")
        if self.kind == "hf" and self.base_url:
            raise AdactxError("ReaderSpec.base_url: only --reader openai talks to a server")


def make_reader(spec: ReaderSpec):
    """Build the reader a spec describes (loads the model, or connects to the server)."""
    if spec.kind == "openai":
        from adactx.http_reader import HTTPReaderConfig, OpenAIReader

        cfg = HTTPReaderConfig(
            base_url=spec.base_url,
            model=spec.model,
            tokenizer=spec.tokenizer,
            timeout_s=spec.timeout_s,
            retries=spec.retries,
            max_context=spec.max_context,
        )
        return OpenAIReader(cfg)
    from adactx.reader import load_reader

    return load_reader(spec.model, adapter=spec.adapter, dtype=spec.dtype, device=spec.device)


def parse_reader(value, **defaults) -> ReaderSpec:
    """A spec from a ``ReaderSpec``, a dict of its fields, or ``hf`` | ``openai:URL``; ``defaults``
    fill the fields the value leaves unset (None values are ignored)."""
    given = {k: v for k, v in defaults.items() if v is not None}
    if isinstance(value, ReaderSpec):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {f.name for f in fields(ReaderSpec)}
        if unknown:
            raise AdactxError(f"reader spec: unknown field(s) {', '.join(sorted(unknown))}")
        return ReaderSpec(**{**given, **value})
    if value is None or isinstance(value, str):
        kind, _, url = (value or "hf").partition(":")
        if url:
            given["base_url"] = url
        return ReaderSpec(kind=kind, **given)
    raise AdactxError(f"reader: expected a reader object, a ReaderSpec, a dict or a string, got {type(value).__name__}")


def is_reader(value) -> bool:
    """A built reader (what the controller needs), as opposed to a description of one."""
    return all(callable(getattr(value, name, None)) for name in ("session", "count_tokens", "encode"))


def as_reader(value=None, **defaults):
    """A reader object as it is; anything else is parsed (:func:`parse_reader`) and built."""
    if is_reader(value):
        return value
    return make_reader(parse_reader(value, **defaults))


__all__ = ["KINDS", "ReaderSpec", "as_reader", "is_reader", "make_reader", "parse_reader"]
