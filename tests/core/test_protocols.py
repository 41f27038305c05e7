"""The typed seams: the real implementations satisfy the Protocols of adactx.protocols, and the façade
and the RL environment turn a document into tree + index through the one helper."""

import pytest
from adactx.graphs.context import ControllerContext
from adactx.retrieval.documents import document_from_text
from adactx.retrieval.encoders import HashingEncoder
from adactx.retrieval.indexed import index_document
from adactx.rl.env import EnvConfig, Workspace
from adactx.rl.memo import MemoReader, OutcomeMemo
from helpers import tiny_reader

from adactx.api import ContextManager
from adactx.config import DocumentSettings
from adactx.protocols import ChunkTree, Index, Reader, ReaderSession
from adactx.types import Example

TEXT = "\n\n".join(f"Part {i}. The committee discussed item {i}. " + "It was long. " * 6 for i in range(6))


@pytest.fixture(scope="module")
def reader():
    return tiny_reader()


def test_the_real_components_satisfy_the_protocols(reader, tmp_path):
    indexed = index_document(document_from_text(TEXT, "d"), reader.count_tokens, DocumentSettings(chunk_tokens=24),
                             HashingEncoder(), tmp_path)
    memo_reader = MemoReader(reader, OutcomeMemo(tmp_path / "memo.sqlite"))
    for r in (reader, memo_reader):
        assert isinstance(r, Reader)
        assert isinstance(r.session("What was discussed?", "qa"), ReaderSession)
    assert isinstance(indexed.tree, ChunkTree) and isinstance(indexed.index, Index)
    assert not isinstance(object(), Reader) and not isinstance(indexed.tree, Index)


def test_facade_and_env_index_a_document_the_same_way(reader, tmp_path, tmp_cache):
    doc = document_from_text(TEXT, "d")
    cm = ContextManager(reader=reader, encoder=HashingEncoder(), chunk_tokens=24, db=tmp_path / "s.sqlite")
    cm.add_document(doc)
    workspace = Workspace(reader, HashingEncoder(), EnvConfig(chunk_tokens=24), tmp_path)
    prepared = workspace.prepare(Example(example_id="e", task="qa", query="q", documents=[doc], references=["a"]))
    assert cm.chunk_tree("d").texts == prepared.tree.texts
    query = "What did the committee discuss about item 3?"
    assert list(cm.chunk_index("d").scores(query)) == pytest.approx(list(prepared.index.scores(query)))
    ctx = ControllerContext(reader=reader, tree=prepared.tree, index=prepared.index, policy=None)
    assert ctx.tree is prepared.tree
