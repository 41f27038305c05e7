"""`adactx train ppo|grpo`: help text, config files, one-line errors naming the field."""

import pytest
from adactx.rl.train_config import GRPOTrainConfig, PPOTrainConfig
from typer.testing import CliRunner

from adactx.cli import app, main


@pytest.mark.parametrize(("command", "steps"), [("ppo", "--iterations"), ("grpo", "--max_steps")])
def test_train_help_names_the_options(command, steps):
    result = CliRunner().invoke(app, ["train", command, "--help"])
    assert result.exit_code == 0
    for text in ("--config", steps, "--output_dir", "--report_to", "--env", "--no-progress", "resumes"):
        assert text in result.output


def test_shipped_smoke_config_parses():
    cfg = PPOTrainConfig.from_file("configs/ppo_mixed_smoke.toml")
    assert cfg.data == "mixed:train" and cfg.env_config().max_steps == 6 and cfg.iterations >= 1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('num_ppo_epochs = 0\n', "num_ppo_epochs"),
        ('colour = "red"\n', "colour"),
        ('[env]\nbudgett = 10\n', "budgett"),
        ('grammar = ["jump 2"]\n', "grammar"),
        ('learning_rate = -1.0\n', "learning_rate"),
    ],
)
def test_bad_config_is_a_one_line_error_naming_the_field(tmp_path, capsys, text, field):
    path = tmp_path / "ppo.toml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["train", "ppo", "--config", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert field in err and len(err.strip().splitlines()) == 1


def test_grpo_config_checks_the_group_size():
    with pytest.raises(Exception, match="num_generations"):
        GRPOTrainConfig(num_generations=1)
    with pytest.raises(Exception, match="multiple of num_generations"):
        GRPOTrainConfig(num_generations=4, per_device_train_batch_size=6)


def test_training_on_a_test_split_is_refused():
    from adactx.rl.training import build_environment

    with pytest.raises(Exception, match="train split"):
        build_environment(PPOTrainConfig(data="mixed:test"))


def test_format_warmup_teaches_the_grammar_not_the_task():
    import torch
    from adactx.rl.episodes import EnvPool
    from adactx.rl.lm_policy import LMPolicy, PolicyMeta
    from adactx.rl.observation_text import parse_response
    from adactx.rl.training import build_policy, warm_up_if_asked
    from helpers import tiny_llama
    from toy_policy import GRAMMAR, CueEnv, toy_tokenizer

    torch.manual_seed(0)
    cfg = PPOTrainConfig(grammar=GRAMMAR, format_warmup_steps=100, learning_rate=1e-3, report_to=("none",))
    tok = toy_tokenizer()
    model, tok = build_policy(cfg, base=tiny_llama(len(tok), hidden_size=64, intermediate_size=128,
                                                   initializer_range=0.1), tokenizer=tok)
    policy = LMPolicy(model, tok, PolicyMeta(grammar=GRAMMAR, max_new_tokens=2))
    texts = [CueEnv().reset(case) for case in range(16)]
    before = sum(parse_response(r, GRAMMAR) is not None for r in policy.respond(texts, sample=True))
    warm_up_if_asked(cfg, model, tok, EnvPool(CueEnv), list(range(16)))
    replies = policy.respond(texts, sample=True)
    after = [parse_response(r, GRAMMAR) for r in replies]
    # at 3e-3 (warm-up lr 3e-2) the loss stalled near 1.3 and 8 of 16 parsed on an AMD EPYC machine: too steep
    assert before <= 4 and sum(a is not None for a in after) >= 12
    assert len({a.name for a in after if a is not None}) >= 2  # random actions: the format, not one answer
