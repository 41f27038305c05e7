"""The built-in data sets: names, splits, tasks, and the loader or generator behind each.

Loaders are imported when a set is loaded, not when the registry is built, so listing is cheap.
"""

from __future__ import annotations

from adactx.data.registry import DataSet, reader_tokenizer
from adactx.types import Example


def _read_qmsum(split: str) -> list[Example]:
    from adactx.data.qmsum import load_qmsum

    return load_qmsum(split)


def _generate_passkey(split: str, n: int | None, seed: int, tokenizer) -> list[Example]:
    from adactx.data.passkey import PasskeyConfig, passkey_suite

    return passkey_suite(PasskeyConfig(), reader_tokenizer(tokenizer), n=n, seed=seed)


BUILTIN: list[DataSet] = [
    DataSet("qmsum", ("train", "val", "test"), "query_summary",
            "QMSum meetings; specific + general queries; gold turn spans", read=_read_qmsum),
    DataSet("passkey", ("test",), "passkey",
            "LongLoRA passkey retrieval (filler + key line), lengths in reader tokens", generate=_generate_passkey),
]
