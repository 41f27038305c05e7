"""`adactx train X --config F --FIELD VALUE`: overrides of any field, TrainingArguments names, report_to.

Every trainer's command is driven through the real CLI with ``--print-config`` (the resolved config as JSON,
nothing trained); the configs shipped in configs/ load under the class their command uses.
"""

import json
import logging
from pathlib import Path

import pytest
from adactx.kernels.sft_config import SFTTrainConfig
from adactx.kernels.train_config import LongLoRATrainConfig
from adactx.rl.features_config import FeatureTrainConfig
from adactx.rl.train_config import GRPOTrainConfig, PPOTrainConfig
from helpers import ROOT, one_error_line, run_cli

from adactx.errors import AdactxError

CONFIGS = ROOT / "configs"
COMMANDS = {"longlora": LongLoRATrainConfig, "sft": SFTTrainConfig, "features": FeatureTrainConfig,
            "ppo": PPOTrainConfig, "grpo": GRPOTrainConfig}


def _resolved(capsys, *args) -> dict:
    code, out, err = run_cli(capsys, "train", *args, "--print-config")
    assert code == 0, err
    return json.loads(out)


# (command, config file, overrides, expected resolved fields)
OVERRIDES = [
    ("longlora", "longlora_tiny_smoke.toml", ["--learning_rate", "3e-4", "--max_steps=5", "--report_to", "none"],
     {"learning_rate": 3e-4, "max_steps": 5, "report_to": "none", "target_length": 1024}),
    ("longlora", "longlora_tiny_smoke.toml", ["--data_files", "a.txt,data:b", "--gradient-checkpointing", "false"],
     {"data_files": ["a.txt", "data:b"], "gradient_checkpointing": False}),
    ("sft", "sft_smollm2_2k.toml", ["--learning_rate", "1e-4", "--max_steps", "5", "--data.sources", "mixed:train",
                                    "--data.weights", "1.0", "--logging_dir", "/tmp/tb"],
     {"learning_rate": 1e-4, "max_steps": 5, "logging_dir": "/tmp/tb", "gradient_accumulation_steps": 2}),
    ("features", "features_mixed_l002.toml", ["--total_timesteps", "32", "--env.budget", "2048",
                                              "--reward.lam", "0.05", "--hidden", "32,32"],
     {"total_timesteps": 32, "hidden": [32, 32], "n": 16}),
    ("ppo", "ppo_mixed_smoke.toml", ["--iterations", "3", "--env.max_steps", "4", "--kl_coef", "0"],
     {"iterations": 3, "kl_coef": 0.0, "lam": 0.02}),
    ("grpo", None, ["--max_steps", "7", "--num_generations", "2", "--per_device_train_batch_size", "4"],
     {"max_steps": 7, "num_generations": 2, "per_device_train_batch_size": 4, "report_to": "tensorboard"}),
]


@pytest.mark.parametrize(("command", "config", "args", "expected"), OVERRIDES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OVERRIDES)])
def test_any_field_is_overridden_on_the_command_line(capsys, command, config, args, expected):
    where = ["--config", str(CONFIGS / config)] if config else []
    resolved = _resolved(capsys, command, *where, *args)
    for name, value in expected.items():
        assert resolved[name] == (pytest.approx(value) if isinstance(value, float) else value), name


def test_table_fields_are_overridden_one_by_one(capsys):
    features = _resolved(capsys, "features", "--config", str(CONFIGS / "features_mixed_l002.toml"),
                         "--env.budget", "2048", "--reward.lam", "0.05")
    assert features["env"]["budget"] == 2048 and features["env"]["max_steps"] == 6  # the file's other [env] field
    assert features["reward"]["lam"] == pytest.approx(0.05)
    ppo = _resolved(capsys, "ppo", "--config", str(CONFIGS / "ppo_mixed_smoke.toml"), "--env.max_steps", "4")
    assert ppo["env"] == {"budget": 4096, "max_steps": 4}
    sft = _resolved(capsys, "sft", "--config", str(CONFIGS / "sft_smollm2_2k.toml"), "--data.sources",
                    "mixed:train,qmsum:train", "--data.weights", "0.5,0.5")
    assert sft["data"]["sources"] == ["mixed:train", "qmsum:train"] and sft["data"]["chunk_tokens"] == 256


BAD = [
    (["--lerning_rate", "1e-4"], "--lerning_rate: unknown LongLoRATrainConfig field (did you mean --learning_rate?)"),
    (["--max_steps", "ten"], "--max_steps: expected an integer, got 'ten'"),
    (["--learning_rate", "fast"], "--learning_rate: expected a number, got 'fast'"),
    (["--gradient_checkpointing", "maybe"], "--gradient_checkpointing: expected true or false"),
    (["--max_steps"], "--max_steps: needs a value"),
    (["stray"], "stray: unexpected argument"),
    (["--max_steps", "0"], "max_steps: must be >= 1, got 0"),
    (["--report_to", "wandb"], "report_to: 'wandb' is not one of ('tensorboard', 'none')"),
    (["--steps", "3", "--max_steps", "4"], "both 'steps' and 'max_steps' are set"),
]


@pytest.mark.parametrize(("args", "expected"), BAD, ids=[b[0][0] for b in BAD])
def test_a_bad_override_is_one_line_naming_the_field(capsys, args, expected):
    line = one_error_line(*run_cli(capsys, "train", "longlora", "--config", CONFIGS / "longlora_tiny_smoke.toml",
                                   *args))
    assert expected in line, line


@pytest.mark.parametrize(("command", "args", "expected"), [
    ("features", ["--env.budgett", "3"], "--env.budgett: unknown EnvConfig field (did you mean --env.budget?)"),
    ("ppo", ["--env.budget", "x"], "--env.budget: expected an integer, got 'x'"),
    ("features", ["--reward", "3"], "--reward: a table; set its fields as --reward.FIELD VALUE"),
    ("sft", ["--data.weights", "a,b"], "--data.weights: expected a list"),
    ("grpo", ["--output_dir.x", "1"], "output_dir is not a table"),
])
def test_bad_table_overrides_name_the_table_and_field(capsys, command, args, expected):
    line = one_error_line(*run_cli(capsys, "train", command, *args, "--print-config"))
    assert expected in line, line


def test_old_names_in_a_file_still_load_with_a_one_line_notice(tmp_path, caplog):
    path = tmp_path / "old.toml"
    path.write_text('data_files = ["x"]\nsteps = 3\nbatch_size = 2\ngrad_accum = 4\nsave_every = 2\n'
                    "keep_checkpoints = 5\n")
    with caplog.at_level(logging.WARNING, logger="adactx.config"):
        cfg = LongLoRATrainConfig.from_file(path)
    assert (cfg.max_steps, cfg.per_device_train_batch_size, cfg.gradient_accumulation_steps) == (3, 2, 4)
    assert (cfg.save_steps, cfg.save_total_limit) == (2, 5)
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 5 and all("\n" not in n and str(path) in n for n in notices)
    assert any("'steps' is deprecated, use 'max_steps'" in n for n in notices)
    both = tmp_path / "both.toml"
    both.write_text('data_files = ["x"]\nsteps = 3\nmax_steps = 4\n')
    with pytest.raises(AdactxError, match="both 'steps' and 'max_steps' are set"):
        LongLoRATrainConfig.from_file(both)


def test_old_names_work_for_features_grpo_and_python_callers(tmp_path, caplog):
    path = tmp_path / "f.toml"
    path.write_text("batch_size = 8\nsave_every = 32\nkeep_checkpoints = 3\n")
    with caplog.at_level(logging.WARNING, logger="adactx.config"):
        features = FeatureTrainConfig.from_file(path)
        grpo = GRPOTrainConfig.from_dict({"iterations": 12})
        longlora = LongLoRATrainConfig(data_files=["x"], steps=6)
    assert (features.per_device_train_batch_size, features.save_steps, features.save_total_limit) == (8, 32, 3)
    assert grpo.max_steps == 12 and longlora.max_steps == 6
    assert any("'iterations' is deprecated, use 'max_steps'" in r.getMessage() for r in caplog.records)


def test_old_cli_flags_still_work(capsys):
    resolved = _resolved(capsys, "longlora", "--config", str(CONFIGS / "longlora_tiny_smoke.toml"), "--steps", "4",
                         "--output-dir", "/tmp/elsewhere")
    assert resolved["max_steps"] == 4 and resolved["output_dir"] == "/tmp/elsewhere"
    assert _resolved(capsys, "grpo", "--iterations", "3")["max_steps"] == 3


CONFIG_CLASSES = {"longlora": LongLoRATrainConfig, "sft": SFTTrainConfig, "ppo": PPOTrainConfig,
                  "grpo": GRPOTrainConfig, "features": FeatureTrainConfig}


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_with_the_current_names(caplog, path):
    cls = CONFIG_CLASSES[path.name.split("_")[0]]
    with caplog.at_level(logging.WARNING, logger="adactx.config"):
        cfg = cls.from_file(path)
    assert cfg.report_to == "tensorboard" and cfg.tensorboard_dir() == Path(cfg.output_dir) / "runs"
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # no deprecated field names


def test_report_to_takes_trainingarguments_forms_and_none_turns_tensorboard_off():
    assert PPOTrainConfig(report_to=["tensorboard"]).report_to == "tensorboard"
    assert PPOTrainConfig(report_to=("none",)).report_to == "none"
    assert PPOTrainConfig(report_to="none").tensorboard_dir() is None
    assert SFTTrainConfig(logging_dir="/tmp/tb").tensorboard_dir() == Path("/tmp/tb")
    with pytest.raises(AdactxError, match="FeatureTrainConfig.report_to: 'wandb'"):
        FeatureTrainConfig(report_to=["wandb"])
    with pytest.raises(AdactxError, match="LongLoRATrainConfig.logging_steps"):
        LongLoRATrainConfig(data_files=["x"], logging_steps=0)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_lists_every_config_field(command):
    from dataclasses import fields

    from typer.testing import CliRunner

    from adactx.cli import app

    text = CliRunner().invoke(app, ["train", command, "--help"], terminal_width=200).output
    assert "--print-config" in text and "--FIELD VALUE" in text
    for f in fields(COMMANDS[command]):
        assert f"--{f.name} " in text, f.name


def test_train_without_a_config_uses_the_defaults(capsys):
    resolved = _resolved(capsys, "ppo")
    assert resolved["iterations"] == PPOTrainConfig().iterations and resolved["report_to"] == "tensorboard"
    line = one_error_line(*run_cli(capsys, "train", "longlora", "--print-config"))
    assert "data_files: give at least one" in line


def test_grpo_fields_reach_trl_under_their_trainingarguments_names(tmp_path):
    from adactx.rl.grpo import _grpo_args

    cfg = GRPOTrainConfig.from_file(None, ["--output_dir", str(tmp_path), "--max_steps", "30", "--save_steps", "5",
                                           "--save_total_limit", "3", "--logging_steps", "2", "--warmup_steps", "4",
                                           "--gradient_accumulation_steps", "2", "--report_to", "none"])
    args = _grpo_args(cfg)
    assert (args.max_steps, args.save_steps, args.save_total_limit, args.logging_steps) == (30, 5, 3, 2)
    assert (args.warmup_steps, args.gradient_accumulation_steps) == (4, 2)
    assert getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type) == "constant_with_warmup"
    assert args.report_to in ([], "none", ["none"])
    default = _grpo_args(GRPOTrainConfig(output_dir=str(tmp_path), max_steps=30))
    assert default.save_steps == 3 and default.report_to == ["tensorboard"]  # save_steps empty: max_steps // 10
