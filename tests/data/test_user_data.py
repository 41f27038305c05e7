"""The user's own data files: schema, renames, formats, and errors that name file, line and field."""

import json

import pytest
from typer.testing import CliRunner

from adactx.cli import app
from adactx.data.user import is_data_file, load_user_data, parse_fields, take
from adactx.errors import AdactxError

RECORDS = [
    {"document": "The remote costs 25 euros. The target cost is 12.50.", "question": "What is the price?",
     "answers": "25 euros"},
    {"documents": ["Alice chairs the meeting.", {"text": "Bob takes notes.", "title": "minutes"}],
     "question": "Who chairs?", "answers": ["Alice", "the chair Alice"], "id": "chair"},
    {"document": "The sky is blue and the grass is green.", "task": "mc", "question": "What colour is the sky?",
     "options": ["A. red", "B. blue"], "answers": "blue"},
    {"document": "A long report about budgets.", "task": "summary", "answers": ["A report on budgets."]},
]


def write_jsonl(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_jsonl_schema_becomes_examples(tmp_path):
    examples = load_user_data(write_jsonl(tmp_path / "mine.jsonl", RECORDS))
    assert [e.task for e in examples] == ["qa", "qa", "qa", "summary"]
    assert examples[0].references == ["25 euros"] and examples[0].example_id == "mine-1"
    assert examples[1].example_id == "chair" and len(examples[1].documents) == 2
    assert examples[1].documents[1].title == "minutes" and examples[1].references[1] == "the chair Alice"
    assert examples[2].options == ["A. red", "B. blue"] and examples[2].references == ["B"]  # text -> letter
    assert examples[3].query == "Summarize the document."


def test_json_and_parquet_read_the_same_records(tmp_path):
    from datasets import Dataset

    (tmp_path / "mine.json").write_text(json.dumps({"data": RECORDS[:2]}))
    rows = [{"document": r.get("document", "x"), "question": r["question"], "answers": r["answers"]}
            for r in RECORDS[:1]]
    Dataset.from_list(rows).to_parquet(str(tmp_path / "mine.parquet"))
    assert [e.query for e in load_user_data(tmp_path / "mine.json")] == ["What is the price?", "Who chairs?"]
    parquet = load_user_data(tmp_path / "mine.parquet")
    assert parquet[0].references == ["25 euros"] and parquet[0].example_id == "mine-0"


def test_fields_rename_columns(tmp_path):
    path = write_jsonl(tmp_path / "other.jsonl", [{"text": "Doc.", "query": "Q?", "gold": ["A"]}])
    ex = load_user_data(path, parse_fields("document=text, question=query,answers=gold"))[0]
    assert (ex.documents[0].text, ex.query, ex.references) == ("Doc.", "Q?", ["A"])
    with pytest.raises(AdactxError, match="field 'question \\(column 'nope'\\)'"):
        load_user_data(path, parse_fields("document=text,answers=gold,question=nope"))


@pytest.mark.parametrize(
    "record, message",
    [
        ({"question": "Q?", "answers": "a"}, "line 2: field 'document': give exactly one"),
        ({"document": "d", "answers": "a"}, "line 2: field 'question': missing"),
        ({"document": "d", "question": "Q?"}, "line 2: field 'answers': missing"),
        ({"document": "d", "question": "Q?", "answers": [1]}, "line 2: field 'answers'"),
        ({"document": "d", "question": "Q?", "answers": "a", "task": "chat"}, "line 2: field 'task'"),
        ({"document": "d", "question": "Q?", "answers": "C", "task": "mc", "options": ["A. x", "B. y"]},
         "line 2: field 'answers': 'C' is neither"),
        ({"document": "d", "question": "Q?", "answers": "a", "options": ["x", "y"]}, "line 2: field 'options'"),
    ],
)
def test_bad_records_name_file_line_and_field(tmp_path, record, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [RECORDS[0], record])
    with pytest.raises(AdactxError, match=message) as err:
        load_user_data(path)
    assert str(path) in str(err.value)


def test_broken_json_and_unknown_fields_are_one_line_errors(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n{not json\n")
    with pytest.raises(AdactxError, match="broken.jsonl: line 2: not valid JSON"):
        load_user_data(path)
    with pytest.raises(AdactxError, match="not a schema field"):
        parse_fields("query=question")
    with pytest.raises(AdactxError, match="NAME=COLUMN"):
        parse_fields("question")
    assert is_data_file("x.jsonl") and not is_data_file("qmsum:val")


def test_take_is_a_seeded_sample(tmp_path):
    examples = load_user_data(write_jsonl(tmp_path / "mine.jsonl", RECORDS))
    assert [e.example_id for e in take(examples, 2, 0)] == [e.example_id for e in take(examples, 2, 0)]
    assert len(take(examples, None, 0)) == len(RECORDS)


def test_eval_cli_rejects_a_bad_file_before_a_run_directory_exists(tmp_path, tmp_cache):
    bad = write_jsonl(tmp_path / "bad.jsonl", [RECORDS[0], {"document": "d", "answers": "a"}])
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["eval", "--data", str(bad), "--out", str(out), "--policies", "topk-2"])
    assert result.exit_code != 0
    assert isinstance(result.exception, AdactxError)
    assert "bad.jsonl: line 2: field 'question'" in str(result.exception)
    assert not out.exists()  # nothing written: the next run into `out` is not blocked


def test_eval_runs_on_a_user_file(tmp_path, tmp_cache):
    """A whole eval over a JSONL made here, with a tiny reader and the hashing encoder."""
    from adactx.retrieval.encoders import HashingEncoder
    from adactx.rl.evaluate import EvalConfig, load_examples, run_eval
    from helpers import tiny_reader

    path = write_jsonl(tmp_path / "mine.jsonl", RECORDS[:3])
    cfg = EvalConfig(data=str(path), n=3, policies=("topk-2",), budget=256, max_steps=3, encoder="hashing",
                     index_kind="bm25", chunk_tokens=32, n_boot=50, lambdas=(0.0,))
    examples = load_examples(cfg, None)
    summary = run_eval(cfg, tmp_path / "run", reader=tiny_reader(), encoder=HashingEncoder(),
                       memo_path=tmp_path / "memo.sqlite", examples=examples)
    records = [json.loads(line) for line in (tmp_path / "run" / "records.jsonl").read_text().splitlines()]
    assert sorted(r["example_id"] for r in records) == sorted(e.example_id for e in examples)
    assert "topk-2" in summary["table"]
