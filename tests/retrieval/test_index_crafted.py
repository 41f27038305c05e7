"""A crafted index directory: one-line errors, no probing of files outside it, no giant allocations."""

import json
import shutil

import pytest
from adactx.retrieval.encoders import HashingEncoder
from adactx.retrieval.index import ChunkIndex, file_sha256

from adactx.errors import AdactxError

TEXTS = [f"chunk {i} about topic {i % 3}" for i in range(10)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("idx") / "ok"
    ChunkIndex.build(TEXTS, kind="hybrid", encoder=HashingEncoder()).save(path)
    return path


def _variant(saved, tmp_path, edit_meta=None, edit_dir=None):
    directory = tmp_path / "crafted"
    shutil.copytree(saved, directory)
    if edit_dir:
        edit_dir(directory)
    if edit_meta:
        meta = json.loads((directory / "meta.json").read_text())
        edit_meta(meta, directory)
        (directory / "meta.json").write_text(json.dumps(meta))
    return directory


def _error(directory) -> str:
    with pytest.raises(AdactxError) as info:
        ChunkIndex.load(directory, encoder=HashingEncoder())
    message = str(info.value)
    assert "\n" not in message
    return message


def test_files_as_a_list(saved, tmp_path):
    directory = _variant(saved, tmp_path, lambda m, d: m.update(files=list(m["files"])))
    assert "files must map" in _error(directory)


@pytest.mark.parametrize("n_chunks", [10**9, "x", -1, True, 2.5])
def test_n_chunks_out_of_range(saved, tmp_path, n_chunks):
    directory = _variant(saved, tmp_path, lambda m, d: m.update(n_chunks=n_chunks))
    assert "n_chunks must be an integer" in _error(directory)


def test_outside_files_cannot_be_probed(saved, tmp_path):
    """The error for an existing and a missing outside file is the same: existence is not revealed."""
    (tmp_path / "present.txt").write_text("x")
    messages = []
    for target in ("present.txt", "absent.txt"):
        case = tmp_path / f"case-{target}"
        directory = _variant(saved, case, lambda m, d, t=target: m["files"].update({f"../../{t}": "0" * 64}))
        messages.append(_error(directory).replace(str(case), "").replace(target, "T"))
    assert messages[0] == messages[1] and "not an index data file" in messages[0]


def test_symlinked_data_file_is_missing(saved, tmp_path):
    def link(directory):
        (directory / "embeddings.npy").unlink()
        (directory / "embeddings.npy").symlink_to(saved / "embeddings.npy")

    assert "index file missing" in _error(_variant(saved, tmp_path, edit_dir=link))


def test_extra_bm25_parameters(saved, tmp_path):
    def edit(meta, directory):
        params_path = directory / "bm25" / "params.index.json"
        params = json.loads(params_path.read_text())
        params_path.write_text(json.dumps({**params, "evil": 1}))
        meta["files"]["bm25/params.index.json"] = file_sha256(params_path)

    assert "unexpected keyword" in _error(_variant(saved, tmp_path, edit))
