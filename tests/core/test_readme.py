"""The README's Python examples run as written (real offline reader and embedder)."""

import os
import re

import pytest
from helpers import ROOT

pytestmark = pytest.mark.model


def readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def readme_block(marker: str) -> str:
    (block,) = [b for b in readme_python_blocks() if marker in b]
    return block


def test_readme_library_example_runs(capsys, tmp_path, monkeypatch):
    example = readme_block("cm.ask(")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ADACTX_SESSION_DB", str(tmp_path / "s.sqlite"))
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.answer.strip()
    assert result.trace.steps[-1].action == "answer"
    assert 0 < result.trace.context_tokens <= 2048
    out = capsys.readouterr().out
    assert "document tokens read" in out
    assert os.path.exists(tmp_path / "s.sqlite")


def test_readme_langgraph_subgraph_example_runs(capsys, tmp_path, monkeypatch):
    """The controller as a subgraph of an app's graph, streamed with subgraphs=True: node updates from
    inside the controller, the answer's text as custom events, then the app's own node."""
    example = readme_block("build_controller()")
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    values = namespace["app"].get_state(namespace["config"]).values
    assert values["answer"].strip() and values["steps"][-1]["action"] == "answer"
    out = capsys.readouterr().out
    assert "[controller] retrieve" in out and "[controller] answer" in out and "[app] cite" in out
    assert values["answer"] in out.replace("\n[controller] answer", "")  # streamed before the node's update
    assert values["reply"].startswith(values["answer"]) and f"read {values['context_tokens']}" in out
