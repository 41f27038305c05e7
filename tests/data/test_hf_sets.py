"""GovReport / arXiv / LongAlpaca through `datasets`, from fixtures in their published formats."""

from pathlib import Path

import pytest

from adactx.data import load
from adactx.data.hf_sets import split_instruction
from adactx.errors import AdactxError

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def fixture_root(monkeypatch, tmp_path):
    monkeypatch.setenv("ADACTX_DATA", str(FIXTURES))
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))  # datasets' own cache for the local files
    return FIXTURES


def test_govreport_and_arxiv_formats(fixture_root):
    (gov, _) = load("govreport:test")
    assert gov.task == "summary" and gov.document.text.startswith("The Government Accountability Office")
    assert gov.references == ["GAO found the agency did not track fuel costs. GAO recommends tracking costs."]
    (original,) = load("arxiv:test")  # Cohan et al.: sentence lists and <S> tags
    assert original.document.doc_id == "1001.0001" and "<S>" not in original.references[0]
    assert original.references[0].splitlines() == [
        "we derive the rayleigh law for small particles .",
        "the result agrees with experiment .",
    ]
    (ccdv,) = load("arxiv:validation")  # ccdv/arxiv-summarization: article / abstract
    assert ccdv.references == ["a faster sparse regression method is presented ."]


def test_longalpaca_instruction_is_split_into_document_and_question(fixture_root):
    paper, book, plain = load("longalpaca")
    assert paper.document.text.startswith("Abstract: We extend the context window")
    assert paper.query == "How long a context do the experiments reach?" and paper.meta["has_document"]
    assert book.document.text == "The keeper climbed the stairs every night at nine."
    assert not plain.meta["has_document"] and plain.references == ["Eat well, sleep enough, and exercise."]
    assert split_instruction("no markers here") is None


def test_missing_split_offline_says_how_to_provide_it(fixture_root):
    with pytest.raises(
        AdactxError,
        match=r"govreport:train: no local files and not in the datasets cache.*"
        r"train\.jsonl under .*govreport/.*load_dataset\('ccdv/govreport-summarization'\)",
    ):
        load("govreport:train")


def test_unknown_data_root_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ADACTX_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(AdactxError, match="ADACTX_DATA=.*nowhere: not a directory"):
        load("qmsum:val")
