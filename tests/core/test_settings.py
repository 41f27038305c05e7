"""One source per default: ControllerSettings/DocumentSettings; the RL configs, the façade and the CLI
compose them; a resumed session keeps the façade's settings and the CLI restores the recorded ones."""

import json
from dataclasses import fields

import pytest
import typer.main
from adactx.graphs.graph import load_session, recorded_settings
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.env import EnvConfig
from adactx.rl.eval_config import EvalConfig
from adactx.rl.settings import RL_DEFAULTS, EpisodeSettings
from helpers import CrashOnce, tiny_reader
from typer.testing import CliRunner

from adactx.api import ContextManager
from adactx.cli import app
from adactx.config import ControllerSettings, DocumentSettings, field_default
from adactx.errors import AdactxError

TEXT = "\n\n".join(f"Section {i}. The team talked about topic {i}. " + "More on it. " * 8 for i in range(8))


def test_rl_configs_inherit_every_default_except_the_named_overrides():
    for cls in (EnvConfig, EvalConfig):
        for base in (ControllerSettings, DocumentSettings):
            for f in fields(base):
                expected = RL_DEFAULTS.get(f.name, f.default)
                assert field_default(cls, f.name) == expected, (cls.__name__, f.name)
        assert issubclass(cls, EpisodeSettings)
    assert set(RL_DEFAULTS) <= {f.name for f in fields(ControllerSettings)}
    assert EvalConfig(budget=99).to_dict()["budget"] == 99


def test_validation_names_the_subclass_and_field():
    with pytest.raises(AdactxError, match=r"EnvConfig\.max_steps: must be >= 1"):
        EnvConfig(max_steps=0)
    with pytest.raises(AdactxError, match=r"EvalConfig\.index_kind"):
        EvalConfig(index_kind="faiss")


def test_context_manager_composes_the_settings():
    cm = ContextManager(reader=object(), encoder=HashingEncoder(), settings={"answer_tokens": 7}, budget=512)
    assert cm.settings == ControllerSettings(budget=512, answer_tokens=7)
    assert ContextManager(reader=object()).settings == ControllerSettings()
    with pytest.raises(AdactxError, match="below the minimum"):
        ContextManager(settings=ControllerSettings(budget=10))


def _defaults(*path: str) -> dict[str, object]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name] if hasattr(command, "commands") else command
    return {opt: p.default for p in command.params for opt in getattr(p, "opts", [])}


def test_cli_options_take_the_dataclass_defaults():
    ask = _defaults("ask")
    assert (ask["--budget"], ask["--max-steps"]) == (ControllerSettings.budget, ControllerSettings.max_steps)
    assert (ask["--chunk-tokens"], ask["--index"]) == (DocumentSettings.chunk_tokens, DocumentSettings.index_kind)
    ev = _defaults("eval")
    for flag, name in [("--budget", "budget"), ("--max-steps", "max_steps"), ("--answer-tokens", "answer_tokens"),
                       ("--summary-tokens", "summary_tokens"), ("--oracle-depth", "oracle_depth")]:
        assert ev[flag] == field_default(EvalConfig, name), flag
    assert ev["--policies"] == ",".join(field_default(EvalConfig, "policies"))
    assert CliRunner().invoke(app, ["eval", "--help"]).exit_code == 0




def test_resume_keeps_the_facades_budget_and_the_session_records_its_own(tmp_path, tmp_cache):
    policy = CrashOnce()
    opts = {"reader": tiny_reader(), "encoder": HashingEncoder(), "policy": policy, "chunk_tokens": 24,
            "db": tmp_path / "s.sqlite"}
    cm = ContextManager(budget=300, max_steps=4, **opts)
    doc = cm.add_text(TEXT, "doc")
    with pytest.raises(RuntimeError):
        cm.ask_many(["What about topic 3?"], doc, session_id="s1")
    assert "budget" not in load_session(cm.saver(), "s1")
    assert recorded_settings(cm.saver(), "s1")["budget"] == 300
    policy.armed = False
    cm2 = ContextManager(budget=200, max_steps=5, **opts)
    cm2.add_text(TEXT, "doc")
    cm2.resume("s1", "doc")
    assert (cm2.budget, cm2.max_steps) == (200, 5)


def test_a_run_directory_from_before_the_new_settings_still_resumes(tmp_path):
    from adactx.rl.run_dir import RunDir

    cfg = EvalConfig(encoder="hashing")
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("retrieve_k", "refine_chunks", "part_tokens")}
    (tmp_path / "config.json").write_text(json.dumps(old, default=list))
    RunDir(tmp_path, cfg).close()  # the missing fields count as their defaults
    with pytest.raises(AdactxError, match="retrieve_k"):
        RunDir(tmp_path, EvalConfig(encoder="hashing", retrieve_k=3))
