"""The settings every entry point shares, each default in one place, and the checks the configs use.

    settings = ControllerSettings(budget=2048)          # the controller's knobs (graphs/ reads them)
    documents = DocumentSettings(chunk_tokens=256)       # how a document becomes a chunk tree + index

``ControllerSettings`` is the single source of the controller's defaults; the environment's and the
evaluation's configs (``adactx.rl.env.EnvConfig``, ``adactx.rl.eval_config.EvalConfig``) subclass it, the
façade (``adactx.api.ContextManager``) holds one, and the CLI builds its options from the fields' ``help``
metadata (``adactx.cli.options``). A subclass that deliberately reads differently re-declares only those
defaults with ``override_defaults`` (one place, with its reason). Errors name the class and the field:
``ControllerSettings.budget: must be >= 1, got 0``. Nothing heavy is imported here.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from adactx.errors import AdactxError

INDEX_KINDS = ("hybrid", "dense", "bm25")
DEFAULT_ENCODER = "minilm"  # the dense encoder a document index uses unless told otherwise
DEFAULT_POLICY = "threshold"  # the policy `adactx ask` and ContextManager grow the context with


def require_positive(config: object, *names: str) -> None:
    """Every named field must be an integer >= 1."""
    for name in names:
        value = getattr(config, name)
        if int(value) < 1:
            raise AdactxError(f"{type(config).__name__}.{name}: must be >= 1, got {value}")


def override_defaults(base: type, **defaults: Any):
    """Class decorator, applied under ``@dataclass``: re-declare fields of the dataclass ``base`` with
    new defaults, keeping their type and help, so a subclass states only what it changes."""

    def apply(cls: type) -> type:
        known = {f.name: f for f in fields(base)}
        annotations = dict(inspect.get_annotations(cls))
        for name, value in defaults.items():
            if name not in known:
                raise TypeError(f"override_defaults: {base.__name__} has no field {name!r}")
            annotations[name] = known[name].type
            setattr(cls, name, field(default=value, metadata=known[name].metadata))
        cls.__annotations__ = annotations
        return cls

    return apply


def field_default(cls: type, name: str) -> Any:
    """The default of a dataclass field (for the CLI and façades that expose it as a parameter)."""
    f = next(f for f in fields(cls) if f.name == name)
    return f.default_factory() if f.default is MISSING else f.default


def field_help(cls: type, name: str) -> str:
    return next(f for f in fields(cls) if f.name == name).metadata.get("help", "")


def values_of(cls: type, source: object) -> dict[str, Any]:
    """The same-named attributes of ``source`` for every field of the dataclass ``cls``."""
    return {f.name: getattr(source, f.name) for f in fields(cls)}


def settings_of(cls: type, source: object) -> Any:
    """An instance of the dataclass ``cls`` built from the same-named attributes of ``source``."""
    return cls(**values_of(cls, source))


@dataclass
class ControllerSettings:
    """Knobs of the controller loop (each bounded; the budget and step limit always end the loop)."""

    budget: int = field(default=4096, metadata={"help": "most document tokens the reader may read per query"})
    max_steps: int = field(default=12, metadata={"help": "most controller steps per query (then it answers)"})
    retrieve_k: int = field(default=2, metadata={"help": "chunks added by one `retrieve`"})
    extend_tokens: int = field(default=1024, metadata={"help": "tokens added by one `extend`"})
    refine_chunks: int = field(default=3, metadata={"help": "next-best chunks whose best sentences `refine` adds"})
    refine_sentences: int = field(default=4, metadata={"help": "sentences `refine` keeps"})
    draft_tokens: int = field(default=8, metadata={"help": "tokens in the cheap draft that measures confidence"})
    answer_tokens: int = field(default=48, metadata={"help": "most tokens in an answer"})
    summary_tokens: int = field(default=160, metadata={"help": "most tokens in a summary"})
    part_tokens: int = field(default=1536, metadata={"help": "tokens per part in hierarchical summaries"})

    def __post_init__(self) -> None:
        require_positive(self, *(f.name for f in fields(ControllerSettings)))


@dataclass
class DocumentSettings:
    """How a document becomes a chunk tree and a retrieval index (``adactx.retrieval.prepare``)."""

    chunk_tokens: int = field(default=256, metadata={"help": "most reader tokens per chunk (whole sentences)"})
    index_kind: str = field(default="hybrid", metadata={"help": "retrieval: hybrid (dense + BM25) | dense | bm25"})

    def __post_init__(self) -> None:
        require_positive(self, "chunk_tokens")
        if self.index_kind not in INDEX_KINDS:
            raise AdactxError(
                f"{type(self).__name__}.index_kind: unknown {self.index_kind!r}; choose hybrid, dense or bm25"
            )


__all__ = [
    "DEFAULT_ENCODER",
    "DEFAULT_POLICY",
    "INDEX_KINDS",
    "ControllerSettings",
    "DocumentSettings",
    "field_default",
    "field_help",
    "override_defaults",
    "require_positive",
    "settings_of",
    "values_of",
]
