"""The README's library example runs as written (real offline reader and embedder)."""

import os
import re

import pytest
from helpers import ROOT

pytestmark = pytest.mark.model


def readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_library_example_runs(capsys, tmp_path, monkeypatch):
    (example,) = readme_python_blocks()
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
