"""Sessions under faults that work and must keep working: kill -9 mid-ask then `trace resume`,
concurrent sessions and concurrent checkpoint writes on one database; a damaged database on `ask`."""

import signal
import sqlite3
import threading

import pytest
from adactx.graphs.graph import list_sessions, load_session
from adactx.graphs.persistence import open_checkpointer
from adactx.retrieval.encoders import HashingEncoder
from helpers import one_error_line, run_cli, save_tiny_model, start_python, tiny_reader

from adactx.api import ContextManager

DOC = "\n\n".join(f"Part {i}. The committee discussed the {t}. The {t} was approved after a debate."
                  for i, t in enumerate(["budget", "schedule", "buttons", "battery", "colour", "price"]))
QUESTIONS = ["What about the battery?", "And the price?"]

CHILD = """
import time
from adactx.api import ContextManager
def slow_step(step):
    print("STEP", step.action, flush=True)
    time.sleep(0.5)  # inside the node: its checkpoint is written after this
cm = ContextManager(model={model!r}, encoder="hashing", index_kind="bm25", policy="topk-1", budget=200,
                    max_steps=3, db={db!r})
cm.ask_many({questions!r}, cm.add({doc!r}), session_id="killed", on_step=slow_step)
print("FINISHED", flush=True)
"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.mark.slow
def test_kill_mid_ask_then_trace_resume_continues(tmp_path, model_dir, capsys, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    doc, db = tmp_path / "doc.txt", tmp_path / "s.sqlite"
    doc.write_text(DOC)
    code = CHILD.format(model=str(model_dir), db=str(db), questions=QUESTIONS, doc=str(doc))
    child = start_python(code, ADACTX_CACHE=tmp_path / "cache")
    seen = []
    try:  # topk-1 answers each question in two steps (retrieve, answer): kill in the second question
        for line in child.stdout:
            seen.append(line.split())
            if len([s for s in seen if s[:1] == ["STEP"]]) == 3:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert ["FINISHED"] not in seen, child.stderr.read()
    before = load_session(open_checkpointer(db), "killed")
    assert before["pending"] and len(before["results"]) == 1
    code, _out, err = run_cli(capsys, "trace", "resume", "killed", "--model", model_dir, "--encoder", "hashing",
                             "--index", "bm25", "--db", db)
    assert code == 0, err
    after = load_session(open_checkpointer(db), "killed")
    assert not after["pending"] and [r["query"] for r in after["results"]] == QUESTIONS
    assert after["results"][0] == before["results"][0]  # the finished question was not redone


def test_eight_concurrent_sessions_lose_nothing(tmp_path, tmp_cache):
    db, errors = tmp_path / "s.sqlite", []
    readers = [tiny_reader() for _ in range(8)]  # built first: transformers' lazy imports are not thread-safe

    def session(i):
        try:
            cm = ContextManager(reader=readers[i], encoder=HashingEncoder(), index_kind="bm25", policy="topk-1",
                                budget=200, max_steps=3, chunk_tokens=24, db=db)
            cm.ask_many(QUESTIONS, cm.add_text(DOC, f"doc{i}"), session_id=f"s{i}")
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = {r["session_id"]: r for r in list_sessions(open_checkpointer(db))}
    assert sorted(rows) == [f"s{i}" for i in range(8)]
    assert all(r["done"] == r["questions"] == 2 for r in rows.values())


WRITER = """
from langgraph.checkpoint.base import empty_checkpoint
from adactx.graphs.persistence import open_checkpointer
saver = open_checkpointer({db!r})
config = {{"configurable": {{"thread_id": "w{w}", "checkpoint_ns": ""}}}}
for i in range(200):
    cp = empty_checkpoint()
    cp["id"] = "%08d" % i
    cp["channel_values"] = {{"n": i, "writer": {w}}}
    config = saver.put(config, cp, {{"step": i}}, {{}})
"""


@pytest.mark.slow
def test_eight_processes_times_200_checkpoint_writes_lose_nothing(tmp_path):
    db = tmp_path / "s.sqlite"
    open_checkpointer(db)
    writers = [start_python(WRITER.format(db=str(db), w=w)) for w in range(8)]
    for writer in writers:
        writer.wait(timeout=300)
        assert writer.returncode == 0, writer.stderr.read()
    saver = open_checkpointer(db)
    rows = saver.conn.execute("SELECT thread_id, COUNT(*) FROM checkpoints GROUP BY thread_id").fetchall()
    assert sorted(rows) == [(f"w{w}", 200) for w in range(8)]
    for w in range(8):
        latest = saver.get_tuple({"configurable": {"thread_id": f"w{w}", "checkpoint_ns": ""}})
        assert latest.checkpoint["channel_values"] == {"n": 199, "writer": w}


def test_damaged_session_database_on_ask_is_one_line(tmp_path, model_dir, capsys, tmp_cache):
    doc, db = tmp_path / "doc.txt", tmp_path / "s.sqlite"
    doc.write_text(DOC)
    args = ["ask", doc, QUESTIONS[0], "--model", model_dir, "--encoder", "hashing", "--index", "bm25", "--db", db]
    assert run_cli(capsys, *args)[0] == 0
    conn = sqlite3.connect(db)  # move every page out of the write-ahead log into the file we damage
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert db.stat().st_size > 3 * 4096
    data = bytearray(db.read_bytes())
    for offset in range(4096, len(data), 7):
        data[offset] = 0xA5
    db.write_bytes(bytes(data))
    line = one_error_line(*run_cli(capsys, *args))
    assert str(db) in line and "damaged" in line
