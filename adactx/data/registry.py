"""The data set registry: one name per set, ``load("NAME[:SPLIT]")`` returns ``list[Example]``.

    list_sets()                              # [DataSet(name, splits, task, ...), ...]
    load("qmsum:val")                        # every val query (specific + general)
    load("squality:dev", n=20, seed=0)       # a seeded sample of 20, kept in file order
    load("passkey", n=30, seed=0)            # generated: LongLoRA passkey prompts in reader tokens
    load("mixed:test", n=100, tokenizer=tok) # generated sets take the tokenizer that counts lengths

File-backed sets read ``$ADACTX_DATA`` (default ``../shared/data``); ``n`` draws a seeded sample
(returned in the original order). Generated sets (passkey, needle, mixed) build ``n`` examples from
``seed``; their split picks a disjoint seed range. Their lengths are counted in the reader's tokens
(``adactx.reader.load_tokenizer()``) unless a ``tokenizer`` is passed.
``DataSet`` and ``reader_tokenizer`` live in ``adactx.data.dataset`` (the built-in sets in
``adactx.data.sets`` use them without importing the registry).
"""

from __future__ import annotations

import random

from adactx.data.dataset import DataSet, reader_tokenizer
from adactx.errors import AdactxError
from adactx.types import Example

_REGISTRY: dict[str, DataSet] = {}


def register(dataset: DataSet) -> DataSet:
    _REGISTRY[dataset.name] = dataset
    return dataset


def list_sets() -> list[DataSet]:
    _ensure_registered()
    return list(_REGISTRY.values())


def get_set(name: str) -> DataSet:
    _ensure_registered()
    if name not in _REGISTRY:
        raise AdactxError(f"unknown data set {name!r}; choose from {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def parse_spec(spec: str) -> tuple[DataSet, str]:
    """``"NAME[:SPLIT]"`` -> (data set, split); the split defaults to the set's default split."""
    name, _, split = spec.strip().partition(":")
    dataset = get_set(name)
    split = split or dataset.default_split
    if split not in dataset.splits:
        raise AdactxError(f"{name}: unknown split {split!r}; choose from {', '.join(dataset.splits)}")
    return dataset, split


def sample(examples: list[Example], n: int | None, seed: int) -> list[Example]:
    """A seeded sample of ``n`` examples in their original order (all when ``n`` is None or too big)."""
    if n is None or n >= len(examples):
        return examples
    if n < 0:
        raise AdactxError(f"n: need a non-negative count, got {n}")
    keep = sorted(random.Random(seed).sample(range(len(examples)), n))
    return [examples[i] for i in keep]


def load(spec: str, n: int | None = None, seed: int = 0, tokenizer=None) -> list[Example]:
    """Load ``NAME[:SPLIT]``: all examples, or a seeded sample / ``n`` generated ones."""
    dataset, split = parse_spec(spec)
    if dataset.generate is not None:
        return dataset.generate(split, n, seed, tokenizer)
    return sample(dataset.read(split), n, seed)


_registered = False


def _ensure_registered() -> None:
    """Register the built-in sets (``adactx.data.sets.BUILTIN``) on first use."""
    global _registered
    if _registered:
        return
    _registered = True
    from adactx.data.sets import BUILTIN

    for dataset in BUILTIN:
        _REGISTRY.setdefault(dataset.name, dataset)


__all__ = ["DataSet", "get_set", "list_sets", "load", "parse_spec", "reader_tokenizer", "register", "sample"]
