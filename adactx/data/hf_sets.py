"""The seed's sets through ``datasets``: GovReport, arXiv summarization, LongAlpaca / LongQA.

    load_hf_set("govreport", "test")       # $ADACTX_DATA/govreport/test.jsonl, else the datasets cache
    load_hf_set("longalpaca", "train")     # $ADACTX_DATA/longalpaca/*.json ({instruction, output})

Local files come first: ``<data root>/<folder>/<split>.{jsonl,json,parquet}`` (for LongAlpaca any
``*.json`` / ``*.jsonl`` in its folder, e.g. ``LongAlpaca-12k.json`` or ``LongQA.json``), read with
``datasets.load_dataset("json" | "parquet", ...)``. Otherwise the hub id is looked up in the local
``datasets`` cache with the hub forced offline: nothing is downloaded at run time. Neither present
gives an ``AdactxError`` that says where to put the files and how to fill the cache.

Published formats accepted: GovReport ``{report | document, summary}`` (ccdv/govreport-summarization,
launch/gov_report), arXiv ``{article, abstract}`` (ccdv/arxiv-summarization) or the original
``{article_id, article_text: [sentences], abstract_text: ["<S> ... </S>"]}``, and LongLoRA's
``{instruction, output}``, whose instruction wraps the document between "The paper/book/material
begins." and "Now the ... ends." and ends with the question.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adactx.data.paths import ENV_VAR, data_root
from adactx.errors import AdactxError
from adactx.types import Document, Example


@dataclass(frozen=True)
class HFSet:
    name: str
    folder: str  # under the data root
    hub_id: str
    to_example: Callable[[dict, str, int], Example]


def _text(value) -> str:
    """A field that may be a string or a list of sentences (arXiv's original format)."""
    if isinstance(value, list):
        return "\n".join(re.sub(r"</?S>", "", str(v)).strip() for v in value)
    return str(value or "")


def _field(row: dict, names: tuple[str, ...], where: str) -> str:
    for name in names:
        if name in row and row[name] is not None:
            return _text(row[name])
    raise AdactxError(f"{where}: none of the fields {names} found (got {sorted(row)})")


def govreport_example(row: dict, split: str, i: int) -> Example:
    where = f"govreport:{split} row {i}"
    doc_id = str(row.get("id", f"govreport-{split}-{i}"))
    return Example(
        example_id=f"govreport-{split}-{i}",
        task="summary",
        documents=[
            Document(doc_id=doc_id, text=_field(row, ("report", "document"), where), source="govreport")
        ],
        query="Summarize the report.",
        references=[_field(row, ("summary",), where)],
        source="govreport",
        meta={"split": split},
    )


def arxiv_example(row: dict, split: str, i: int) -> Example:
    where = f"arxiv:{split} row {i}"
    doc_id = str(row.get("article_id", f"arxiv-{split}-{i}"))
    return Example(
        example_id=f"arxiv-{split}-{i}",
        task="summary",
        documents=[
            Document(doc_id=doc_id, text=_field(row, ("article", "article_text"), where), source="arxiv")
        ],
        query="Write the abstract of this paper.",
        references=[_field(row, ("abstract", "abstract_text"), where)],
        source="arxiv",
        meta={"split": split},
    )


_LONGALPACA_DOC = re.compile(
    r"(?s)^(?P<head>.*?)\s*The (?:paper|book|material|document|article|content) begins\.\s*(?P<doc>.*?)"
    r"\s*Now the (?:paper|book|material|document|article|content) ends\.\s*(?P<question>.*)$"
)


def split_instruction(instruction: str) -> tuple[str, str, str] | None:
    """``(head, document, question)`` of a LongAlpaca instruction, or None for one without a document."""
    match = _LONGALPACA_DOC.match(instruction)
    if not match:
        return None
    return match["head"].strip(), match["doc"].strip(), match["question"].strip()


def longalpaca_example(row: dict, split: str, i: int) -> Example:
    where = f"longalpaca:{split} row {i}"
    instruction, output = _field(row, ("instruction",), where), _field(row, ("output",), where)
    parts = split_instruction(instruction)
    head, document, question = parts if parts else ("", instruction, instruction.strip().split("\n")[-1])
    return Example(
        example_id=f"longalpaca-{split}-{i}",
        task="qa",
        documents=[
            Document(doc_id=str(row.get("file") or f"longalpaca-{i}"), text=document, source="longalpaca")
        ],
        query=question,
        references=[output],
        source="longalpaca",
        meta={"split": split, "instruction_head": head, "has_document": parts is not None},
    )


HF_SETS = {
    "govreport": HFSet("govreport", "govreport", "ccdv/govreport-summarization", govreport_example),
    "arxiv": HFSet("arxiv", "arxiv", "ccdv/arxiv-summarization", arxiv_example),
    "longalpaca": HFSet("longalpaca", "longalpaca", "Yukang/LongAlpaca-12k", longalpaca_example),
}


def local_files(spec: HFSet, split: str) -> list[Path]:
    """Files for ``split`` under ``<data root>/<folder>``; [] when there are none (or no data root)."""
    try:
        folder = data_root() / spec.folder
    except AdactxError:
        return []
    if not folder.is_dir():
        return []
    exact = [folder / f"{split}.{ext}" for ext in ("jsonl", "json", "parquet")]
    found = [p for p in exact if p.exists()]
    if not found and spec.name == "longalpaca":
        found = sorted([*folder.glob("*.json"), *folder.glob("*.jsonl")])
    return found


def _cache_dir() -> str:
    from adactx.reader import cache_dir

    return str(cache_dir() / "datasets")


def _read_local(files: list[Path]):
    import datasets

    builder = "parquet" if files[0].suffix == ".parquet" else "json"
    return datasets.load_dataset(
        builder, data_files=[str(p) for p in files], split="train", cache_dir=_cache_dir()
    )


def _read_cached_hub(spec: HFSet, split: str):
    """The hub set from the local ``datasets`` cache, with the hub forced offline; None when absent."""
    import datasets
    import huggingface_hub.constants as hub_constants

    saved = datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    try:
        return datasets.load_dataset(spec.hub_id, split=split)
    except (ConnectionError, FileNotFoundError, ValueError, OSError):
        return None
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved


def missing_data_error(spec: HFSet, split: str) -> AdactxError:
    where = os.environ.get(ENV_VAR) or "../shared/data"
    return AdactxError(
        f"{spec.name}:{split}: no local files and not in the datasets cache (the hub is not contacted). "
        f"Put {split}.jsonl under {where}/{spec.folder}/, or on a machine with network run "
        f"`python -c \"import datasets; datasets.load_dataset('{spec.hub_id}')\"` to fill the cache."
    )


def load_hf_set(name: str, split: str) -> list[Example]:
    if name not in HF_SETS:
        raise AdactxError(f"unknown datasets-backed set {name!r}; choose from {', '.join(HF_SETS)}")
    spec = HF_SETS[name]
    files = local_files(spec, split)
    rows = _read_local(files) if files else _read_cached_hub(spec, split)
    if rows is None:
        raise missing_data_error(spec, split)
    return [spec.to_example(dict(row), split, i) for i, row in enumerate(rows)]
