"""The built-in data sets: names, splits, tasks, and the loader or generator behind each.

Loaders are imported when a set is loaded, not when the registry is built, so listing is cheap.
"""

from __future__ import annotations

from functools import partial

from adactx.data.dataset import DataSet, reader_tokenizer
from adactx.types import Example


def _read_qmsum(split: str) -> list[Example]:
    from adactx.data.qmsum import load_qmsum

    return load_qmsum(split)


def _read_squality(split: str) -> list[Example]:
    from adactx.data.squality import load_squality

    return load_squality(split)


def _read_bamboo(subset: str, split: str) -> list[Example]:
    from adactx.data.bamboo import load_bamboo

    return load_bamboo(subset)


def _read_hf(name: str, split: str) -> list[Example]:
    from adactx.data.hf_sets import load_hf_set

    return load_hf_set(name, split)


def _generate_passkey(split: str, n: int | None, seed: int, tokenizer) -> list[Example]:
    from adactx.data.passkey import PasskeyConfig, passkey_suite

    return passkey_suite(PasskeyConfig(), reader_tokenizer(tokenizer), n=n, seed=seed)


def _generate_needle(split: str, n: int | None, seed: int, tokenizer) -> list[Example]:
    from adactx.data.needle import NeedleConfig, needle_suite

    return needle_suite(NeedleConfig(), reader_tokenizer(tokenizer), n=n, seed=seed)


def _generate_mixed(split: str, n: int | None, seed: int, tokenizer) -> list[Example]:
    from adactx.data.mixed import MixedConfig, mixed_suite

    return mixed_suite(MixedConfig(), reader_tokenizer(tokenizer), split=split, n=n, seed=seed)


BUILTIN: list[DataSet] = [
    DataSet(
        "qmsum",
        ("train", "val", "test"),
        "query_summary",
        "QMSum meetings; specific + general queries; gold turn spans",
        read=_read_qmsum,
    ),
    DataSet(
        "squality",
        ("train", "dev", "test"),
        "query_summary",
        "SQuALITY stories; 5 questions each, 4 references per question",
        read=_read_squality,
    ),
    *[
        DataSet(
            f"bamboo-{subset.replace('_', '-')}", ("test",), "qa", about, read=partial(_read_bamboo, subset)
        )
        for subset, about in [
            ("meetingqa_4k", "BAMBOO meeting QA, 4 options; evidence located in the transcript"),
            ("paperqa_4k", "BAMBOO paper QA, 4 options; evidence located in the paper"),
            ("paperqa_16k", "BAMBOO paper QA (16k), 4 options; one malformed line skipped"),
            ("altqa_4k", "BAMBOO altered-fact QA; the answer is a number"),
        ]
    ],
    DataSet(
        "passkey",
        ("test",),
        "passkey",
        "LongLoRA passkey retrieval (filler + key line), lengths in reader tokens",
        generate=_generate_passkey,
    ),
    DataSet(
        "needle",
        ("test",),
        "qa",
        "needle in a haystack of Paul Graham essays, lengths and depths in reader tokens",
        generate=_generate_needle,
    ),
    DataSet(
        "mixed",
        ("train", "val", "test"),
        "qa",
        "facts over real text: single / paraphrased / multi-needle (K=1..8) / distractor; short answers",
        generate=_generate_mixed,
    ),
    DataSet(
        "govreport",
        ("train", "validation", "test"),
        "summary",
        "GovReport (ccdv/govreport-summarization) from local files or the datasets cache",
        read=partial(_read_hf, "govreport"),
    ),
    DataSet(
        "arxiv",
        ("train", "validation", "test"),
        "summary",
        "arXiv summarization (ccdv/arxiv-summarization) from local files or the datasets cache",
        read=partial(_read_hf, "arxiv"),
    ),
    DataSet(
        "longalpaca",
        ("train",),
        "qa",
        "LongAlpaca-12k / LongQA ({instruction, output}) from local files or the datasets cache",
        read=partial(_read_hf, "longalpaca"),
    ),
]
