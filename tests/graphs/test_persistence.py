"""The session database under attack and damage: crafted checkpoints, crafted paths, broken pages."""

import sqlite3

import ormsgpack
import pytest
from adactx.graphs.graph import list_sessions, load_session
from adactx.graphs.persistence import StrictSerializer, UnsafeCheckpointError, open_checkpointer
from adactx.retrieval.encoders import HashingEncoder
from helpers import CrashOnce, one_error_line, open_at_once, run_cli, tiny_reader
from langgraph.checkpoint.serde import jsonplus
from langgraph.checkpoint.sqlite import SqliteSaver

from adactx.api import ContextManager
from adactx.errors import AdactxError

DOC = "\n\n".join(f"Part {i}. The team discussed the {t} and agreed on it." for i, t in
                  enumerate(["budget", "battery", "buttons", "price", "launch", "colour"]))


def _cm(db, **kw):
    return ContextManager(reader=tiny_reader(), encoder=HashingEncoder(), index_kind="bm25", policy="topk-1",
                          budget=200, max_steps=3, chunk_tokens=24, db=db, **kw)


@pytest.fixture()
def session_db(tmp_path, tmp_cache):
    doc = tmp_path / "doc.txt"
    doc.write_text(DOC)
    cm = _cm(tmp_path / "s.sqlite")
    cm.ask_many(["What about the battery?"], cm.add(doc), session_id="s1")
    cm.saver().conn.close()
    return tmp_path / "s.sqlite", doc


def _rewrite_checkpoints(db, edit):
    """Decode every checkpoint with LangGraph's own serializer, ``edit`` its channel values, write it back."""
    serde = jsonplus.JsonPlusSerializer()
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT rowid, type, checkpoint FROM checkpoints").fetchall()
    for rowid, kind, blob in rows:
        checkpoint = serde.loads_typed((kind, blob))
        edit(checkpoint["channel_values"])
        conn.execute("UPDATE checkpoints SET checkpoint = ? WHERE rowid = ?",
                     (jsonplus._msgpack_enc(checkpoint), rowid))
    conn.commit()
    conn.close()


def _marker_ext(marker):
    payload = ormsgpack.packb(["helpers", "write_marker", str(marker)])
    return ormsgpack.Ext(jsonplus.EXT_CONSTRUCTOR_SINGLE_ARG, payload)


def test_crafted_checkpoint_runs_code_with_langgraphs_default_serializer(session_db, tmp_path):
    """The threat is real: the permissive default calls what a checkpoint names (here a harmless marker)."""
    db, _ = session_db
    marker = tmp_path / "marker"
    _rewrite_checkpoints(db, lambda values: values.__setitem__("policy", _marker_ext(marker)))
    list(SqliteSaver(sqlite3.connect(db)).list(None))
    assert marker.exists()


def test_crafted_checkpoint_is_refused_by_trace_list_show_and_ask(session_db, tmp_path, capsys):
    db, _doc = session_db
    marker = tmp_path / "marker"
    _rewrite_checkpoints(db, lambda values: values.__setitem__("policy", _marker_ext(marker)))
    for args in (["trace", "list", "--db", db], ["trace", "show", "s1", "--db", db]):
        line = one_error_line(*run_cli(capsys, *args))
        assert "helpers.write_marker" in line and "refused" in line and str(db) in line
    with pytest.raises(UnsafeCheckpointError):
        list_sessions(open_checkpointer(db))
    assert not marker.exists()


@pytest.mark.parametrize("encoding", ["pickle", "json"])
def test_pickle_and_lc_json_checkpoints_are_refused(encoding):
    with pytest.raises(UnsafeCheckpointError, match=encoding):
        StrictSerializer().loads_typed((encoding, b"{}"))


@pytest.mark.parametrize("payload", [[["os"], "system", "x"], ["os", "system"], "os.system", [1, 2, 3]])
def test_malformed_typed_values_are_refused(payload):
    ext = ormsgpack.Ext(jsonplus.EXT_CONSTRUCTOR_POS_ARGS, ormsgpack.packb(payload))
    with pytest.raises(UnsafeCheckpointError, match="refused"):
        StrictSerializer().loads_typed(("msgpack", ormsgpack.packb({"v": ext})))


def test_undecodable_checkpoint_is_an_error_not_a_traceback():
    with pytest.raises(UnsafeCheckpointError, match="cannot be decoded"):
        StrictSerializer().loads_typed(("msgpack", b"\xc1\xc1\xc1"))


def test_strict_serializer_round_trips_what_sessions_store():
    serde = StrictSerializer()
    value = {"a": [1, 2.5, "x", None], "s": {1, 2}, "n": {"k": True}}
    assert serde.loads_typed(serde.dumps_typed(value)) == value


def test_crafted_doc_path_is_not_read_by_resume(session_db, tmp_path):
    db, _ = session_db
    secret = tmp_path / "secret.txt"
    secret.write_text("The secret is 42.")
    for crafted in ("../../../etc/passwd", str(secret)):
        _rewrite_checkpoints(db, lambda values, c=crafted: values.update(doc_path=c, doc_id="other"))
        with pytest.raises(AdactxError, match="pass the document with --doc|no longer holds"):
            _cm(db).resume("s1")




def test_session_records_an_absolute_path_and_resumes_from_another_directory(tmp_path, tmp_cache, monkeypatch):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "doc.txt").write_text(DOC)
    monkeypatch.chdir(tmp_path / "work")
    policy = CrashOnce()
    cm = ContextManager(reader=tiny_reader(), encoder=HashingEncoder(), index_kind="bm25", policy=policy,
                        budget=200, max_steps=3, chunk_tokens=24, db=tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError, match="simulated crash"):
        cm.ask_many(["What about the battery?"], cm.add("doc.txt"), session_id="s2")
    values = load_session(cm.saver(), "s2")
    assert values["doc_path"] == str(tmp_path / "work" / "doc.txt") and values["pending"]
    monkeypatch.chdir(tmp_path)
    policy.armed = False
    resumed = ContextManager(reader=cm.reader, encoder=HashingEncoder(), index_kind="bm25", policy=policy,
                             chunk_tokens=24, db=tmp_path / "s.sqlite")
    results = resumed.resume("s2")
    assert [s.action for s in results[0].trace.steps] == ["retrieve", "answer"]


def _damage(db):
    conn = sqlite3.connect(db)  # every page into the main file first (none left in the write-ahead log)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert db.stat().st_size > 3 * 4096
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(page, len(data), 7):  # scribble over every page after the header page
        data[offset] = 0xA5
    db.write_bytes(bytes(data))


def test_damaged_session_database_is_one_line(session_db, capsys, tmp_path):
    db, _doc = session_db
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    _damage(db)
    for args in (["trace", "list", "--db", db], ["trace", "show", "s1", "--db", db]):
        line = one_error_line(*run_cli(capsys, *args))
        assert str(db) in line and "damaged" in line


def test_processes_opening_a_new_session_database_at_once_all_get_it(tmp_path):
    """Six processes opening a new session database at once (two `adactx ask` started together): before
    the retry, 3 trials in 20 had one fail with "database is locked" (LangGraph's setup switches to WAL,
    which SQLite refuses at once instead of waiting its busy timeout) -- the memo's race, fixed alike."""
    paths = [str(tmp_path / f"s{trial}.sqlite") for trial in range(20)]
    outcomes = open_at_once(open_checkpointer, paths, procs=6)
    assert outcomes == ["ok"] * 120
