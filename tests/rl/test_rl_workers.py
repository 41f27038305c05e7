"""Many workers: `eval --workers N` processes and `--shard i/N` run directories give the tables of one run."""

import json
import multiprocessing
import time
from dataclasses import replace

import pytest
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.eval_workers import Parallelism, next_task
from adactx.rl.evaluate import EvalConfig, read_records, run_eval
from adactx.rl.safe_io import append_record, repair_records
from adactx.rl.shards import Shard, merge_runs, parse_shard
from helpers import run_cli, save_tiny_model, tiny_reader
from rl_fixtures import toy_examples

from adactx.errors import AdactxError
from adactx.reader_spec import ReaderSpec

CFG = EvalConfig(
    data="mixed:val",
    n=4,
    policies=("full", "first-60", "topk-2", "threshold", "oracle"),
    budget=200,
    max_steps=4,
    chunk_tokens=24,
    answer_tokens=3,
    summary_tokens=3,
    draft_tokens=2,
    encoder="hashing",
    oracle_actions=("retrieve-2", "extend-60"),
    oracle_depth=1,
    sensitivity=True,
    n_boot=200,
    crossfit_repeats=3,
    prefix_tokens=60,
    topk=2,
    lambdas=(0.0, 0.1),
)
TIMED = {"wall_s", "seconds"}  # measured per process: the only fields allowed to differ


def _untimed(obj):
    """``obj`` without the wall-clock fields, at any depth, as JSON text (so NaN equals NaN)."""
    return json.dumps(_drop_timed(obj), sort_keys=True)


def _drop_timed(obj):
    if isinstance(obj, dict):
        return {k: _drop_timed(v) for k, v in obj.items() if k not in TIMED and "wall" not in k}
    if isinstance(obj, (list, tuple)):
        return [_drop_timed(v) for v in obj]
    return obj


def _records(run_dir) -> dict:
    return {(r["example_id"], r["policy"]): _untimed(r) for r in read_records(run_dir / "records.jsonl")}


def _rows(summary: dict) -> list:
    return _untimed(summary["rows"])


def test_two_shards_merged_give_the_tables_of_one_run(tmp_path, tmp_cache):
    reader, examples = tiny_reader(), toy_examples(4)

    def run(out, shard=None):
        par = Parallelism(shard=shard)
        return run_eval(CFG, tmp_path / out, reader, HashingEncoder(), tmp_path / f"{out}.sqlite",
                        examples=examples, parallel=par)

    whole = run("whole")
    halves = [run(f"shard{i}", Shard(i, 2)) for i in range(2)]
    assert [h["n"] for h in halves] == [2, 2]  # each shard ran its half: every other example
    assert {r["example_id"] for r in read_records(tmp_path / "shard1" / "records.jsonl")} == {"toy1", "toy3"}
    merged = merge_runs([tmp_path / "shard0", tmp_path / "shard1"], tmp_path / "merged")
    assert merged["n"] == whole["n"] == 4
    assert _records(tmp_path / "merged") == _records(tmp_path / "whole")
    assert _rows(merged) == _rows(whole) and merged["rows"] and merged["reward_rows"]
    assert _untimed(merged["reward_rows"]) == _untimed(whole["reward_rows"])
    lookups = json.loads((tmp_path / "merged" / "memo_lookups.json").read_text())
    assert lookups["hits"] + lookups["misses"] == sum(
        json.loads((tmp_path / f"shard{i}" / "memo_lookups.json").read_text())["misses"]
        + json.loads((tmp_path / f"shard{i}" / "memo_lookups.json").read_text())["hits"]
        for i in range(2)
    )
    assert (tmp_path / "merged" / "summary.md").read_text().count("Merged from 2 run directories") == 1
    # merging again copies nothing twice
    again = merge_runs([tmp_path / "shard0", tmp_path / "shard1"], tmp_path / "merged")
    assert len(read_records(tmp_path / "merged" / "records.jsonl")) == len(_records(tmp_path / "whole"))
    assert _rows(again) == _rows(whole)


def test_merge_refuses_directories_of_other_runs(tmp_path, tmp_cache):
    reader, examples = tiny_reader(), toy_examples(2)
    small = replace(CFG, policies=("full", "first-60"), sensitivity=False, n=2)
    run_eval(small, tmp_path / "a", reader, HashingEncoder(), tmp_path / "m.sqlite", examples=examples)
    run_eval(replace(small, budget=150), tmp_path / "b", reader, HashingEncoder(), tmp_path / "m.sqlite",
             examples=examples)
    with pytest.raises(AdactxError, match=r"b: holds another run than .*a \(budget\)"):
        merge_runs([tmp_path / "a", tmp_path / "b"], tmp_path / "merged")
    with pytest.raises(AdactxError, match="not a run directory"):
        merge_runs([tmp_path / "a", tmp_path / "nothing"], tmp_path / "merged")


@pytest.mark.parametrize("text", ["2/2", "-1/2", "0/0", "1", "a/b", "1/2/3"])
def test_shard_spec_is_validated(text):
    with pytest.raises(AdactxError, match=r"--shard"):
        parse_shard(text)


def test_shard_and_worker_options_fail_as_one_line(capsys, tmp_path):
    from helpers import one_error_line

    assert "0 <= i < N" in one_error_line(*run_cli(capsys, "eval", "--shard", "3/3", "--out", tmp_path / "x"))
    assert "--workers 0" in one_error_line(*run_cli(capsys, "eval", "--workers", "0", "--out", tmp_path / "x"))
    line = one_error_line(*run_cli(capsys, "eval", "merge", tmp_path / "none", "--out", tmp_path / "y"))
    assert "not a run directory" in line
    assert not (tmp_path / "x").exists()


def test_workers_need_a_reader_spec_not_an_object(tmp_path):
    with pytest.raises(AdactxError, match="ReaderSpec"):
        run_eval(CFG, tmp_path / "r", reader=tiny_reader(), parallel=Parallelism(workers=2))


def test_concurrent_appends_and_a_repair_lose_no_record(tmp_path):
    """Records appended from many processes while another repairs the file: every line whole, none lost."""
    import multiprocessing

    path = tmp_path / "records.jsonl"
    path.write_text('{"example_id": "e", "policy": "p0"}\n{"example_id": "torn"')  # a killed writer's tail
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w)) for w in range(3)]
    for p in procs:
        p.start()
    repair_records(path)
    for p in procs:
        p.join(60)
    repair_records(path)
    lines = path.read_text().splitlines()
    assert sorted(lines) == sorted(
        ['{"example_id": "e", "policy": "p0"}']
        + [json.dumps({"example_id": f"w{w}", "policy": f"p{i}", "pad": "x" * 5000}) for w in range(3) for i in range(40)]
    )


def _append_many(path: str, worker: int) -> None:
    for i in range(40):
        append_record(path, {"example_id": f"w{worker}", "policy": f"p{i}", "pad": "x" * 5000})


def test_two_worker_processes_write_the_records_of_one_process(tmp_path, tmp_cache):
    """Two worker processes (each loads the reader from its spec; examples made here travel as dicts) write
    the records and tables of one process. Most of its time is the two processes importing torch."""
    spec = ReaderSpec(model=str(save_tiny_model(tmp_path / "tiny")))
    small = replace(CFG, policies=("full", "topk-2", "oracle"), sensitivity=False, n=2)
    one = run_eval(small, tmp_path / "one", memo_path=tmp_path / "m1", examples=toy_examples(2),
                   parallel=Parallelism(reader_spec=spec))
    two = run_eval(small, tmp_path / "two", memo_path=tmp_path / "m2", examples=toy_examples(2),
                   parallel=Parallelism(workers=2, reader_spec=spec))
    assert len(_records(tmp_path / "one")) > 2 * 2
    assert _records(tmp_path / "one") == _records(tmp_path / "two") and _rows(one) == _rows(two)
    assert len({w["pid"] for w in two["workers"]}) == 2  # two processes ran ...
    assert sum(w["examples"] for w in two["workers"]) == 2  # ... and shared the examples


@pytest.mark.slow
def test_cli_workers_2_equals_workers_1_and_resumes(tmp_path, tmp_cache, capsys):
    """`adactx eval --workers 2`: two processes, one run directory and memo, the records of `--workers 1`."""
    model = save_tiny_model(tmp_path / "tiny")
    args = ["eval", "--data", "mixed:val", "--n", "4", "--model", model, "--encoder", "hashing",
            "--policies", "full,first-60,topk-2,oracle", "--budget", "200", "--max-steps", "4",
            "--answer-tokens", "3", "--oracle-actions", "retrieve-2,extend-60", "--oracle-depth", "1",
            "--mixed-lengths", "200,300", "--lambda", "0,0.1"]
    code, out, err = run_cli(capsys, *args, "--workers", "1", "--out", tmp_path / "one", "--memo", tmp_path / "m1")
    assert code == 0, err
    code, out, err = run_cli(capsys, *args, "--workers", "2", "--out", tmp_path / "two", "--memo", tmp_path / "m2")
    assert code == 0, err
    one, two = _records(tmp_path / "one"), _records(tmp_path / "two")
    assert len({e for e, _ in one}) == 4 and {"full", "topk-2"} <= {p for _, p in one}
    assert one == two
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert len({w["pid"] for w in summary["workers"]}) == 2  # two processes ran ...
    assert sum(w["examples"] for w in summary["workers"]) == 4  # ... and shared the four examples
    assert _rows(summary) == _rows(json.loads((tmp_path / "one" / "summary.json").read_text()))
    # a rerun with workers resumes: nothing left to run, the same tables
    code, out, err = run_cli(capsys, *args, "--workers", "2", "--out", tmp_path / "two", "--memo", tmp_path / "m2")
    assert code == 0, err
    assert _records(tmp_path / "two") == two and "run directory:" in out


@pytest.mark.slow
def test_a_failing_worker_stops_the_run_with_its_one_line(tmp_path, tmp_cache):
    spec = ReaderSpec(model=str(tmp_path / "no-such-model"))
    with pytest.raises(AdactxError, match=r"eval worker \d: .*no-such-model"):
        run_eval(replace(CFG, policies=("full",), sensitivity=False, n=2), tmp_path / "r",
                 memo_path=tmp_path / "m", examples=toy_examples(2), parallel=Parallelism(workers=2, reader_spec=spec))
    assert read_records(tmp_path / "r" / "records.jsonl") == []


def test_a_worker_whose_parent_died_takes_no_more_examples():
    """A parent killed mid-run (sitting 5: `pkill -f "adactx eval"` spared its spawned workers, which went on
    through their queue beside the rerun, writing every record twice) leaves work in the queue; a worker
    stops taking it. A live parent's worker takes the queue in order up to the stop sign."""
    ctx = multiprocessing.get_context("spawn")
    tasks = ctx.Queue()
    for item in (0, 1, None):
        tasks.put(item)
    dead = ctx.Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    assert not dead.is_alive()
    assert next_task(tasks, dead) is None  # three items waiting, none taken
    assert [next_task(tasks, multiprocessing.current_process()) for _ in range(3)] == [0, 1, None]
