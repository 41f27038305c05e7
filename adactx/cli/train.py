"""`adactx train longlora | sft | features | ppo | grpo`: the reader's window and answers, the controller's policy.

Every command reads a config (``--config F``, or the dataclass defaults) and takes command-line overrides
of any of its fields, HfArgumentParser-style: ``adactx train sft --config F --learning_rate 1e-4
--max_steps 5`` (``adactx.cli.config_args``); ``--print-config`` shows the result without training.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adactx.cli.config_args import ConfigOption, PrintConfigOption, config_command, load_train_config

app = typer.Typer(
    help="Train the reader (LongLoRA window extension, SFT) or a context policy (features, PPO, GRPO).\n\n"
    "Each command reads a config file (see its --help), takes overrides of any config field (--FIELD VALUE), "
    "checkpoints as it goes and resumes when run again. TensorBoard logs go to OUTPUT_DIR/runs unless "
    "report_to = none.",
    no_args_is_help=True,
)
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No progress bar (one log line per step).")]


@app.command("longlora", **config_command("adactx.kernels.train_config:LongLoRATrainConfig"))
def longlora(
    ctx: typer.Context,
    config: ConfigOption = None,
    print_config: PrintConfigOption = False,
    no_progress: NoProgress = False,
    device: Annotated[str, typer.Option("--device", help="cpu | cuda | auto (cuda when a GPU is visible).")] = "auto",
) -> None:
    """Extend the reader's window with LongLoRA (S²-Attn + LoRA + trainable embeddings/norms + PI).

    Checkpoints every `save_steps` steps; running the same command again resumes from the latest.
    `data:REL` in `data_files` is REL under the data root (`$ADACTX_DATA`).
    """
    from adactx.kernels.train_config import LongLoRATrainConfig

    cfg = load_train_config(LongLoRATrainConfig, config, ctx.args, print_config)
    from adactx.kernels.train import train_longlora
    from adactx.reader import resolve_device

    resolve_device(device)  # a bad or unavailable device fails before the model loads
    adapter = train_longlora(cfg, progress=not no_progress, device=device)
    typer.echo(f"adapter: {adapter}")


@app.command("sft", **config_command("adactx.kernels.sft_config:SFTTrainConfig"))
def sft(ctx: typer.Context, config: ConfigOption = None, print_config: PrintConfigOption = False) -> None:
    """Supervised fine-tuning of the reader (LongLoRA SFT): answer-only loss, reader's prompt layout.

    Data: mixed:train, QMSum train, SQuALITY train (and a local LongAlpaca JSON), laid out as the
    reader lays out its prompt. Checkpoints every `save_steps` steps / `save_minutes` minutes;
    running the same command again resumes from the latest. Use the result with `--adapter DIR`.
    """
    from adactx.kernels.sft_config import SFTTrainConfig

    cfg = load_train_config(SFTTrainConfig, config, ctx.args, print_config)
    from adactx.kernels.sft import train_sft

    adapter = train_sft(cfg)
    typer.echo(f"adapter: {adapter}")


# --- `adactx train features` (issue 9: the feature-policy arm) ----------------------------------
@app.command("features", **config_command("adactx.rl.features_config:FeatureTrainConfig"))
def features(ctx: typer.Context, config: ConfigOption = None, print_config: PrintConfigOption = False,
             no_progress: NoProgress = False) -> None:
    """Train the feature policy: sb3-contrib MaskablePPO, an MLP over the env's vector observation + masks.

    Same reward as the env (score - λ·tokens/1000). Checkpoints at rollout ends; the same command resumes.
    Writes OUTPUT_DIR/policy, usable as `--policy learned:OUTPUT_DIR/policy`.
    """
    from adactx.rl.features_config import FeatureTrainConfig

    cfg = load_train_config(FeatureTrainConfig, config, ctx.args, print_config)
    from adactx.rl.features_train import train_features

    result = train_features(cfg, progress=not no_progress)
    rate = result["memo_hit_rate"]
    typer.echo(f"policy: {result['policy']}  (learned:{result['policy']})")
    typer.echo(f"throughput: {result['decisions']} decisions in {result['seconds']:.0f} s = "
               f"{result['decisions_per_hour']:.0f} decisions/hour; memo hit rate "
               f"{'n/a' if rate is None else f'{rate:.0%}'} ({result['memo_hits']} hits, {result['memo_misses']} misses)")


@app.command("ppo", **config_command("adactx.rl.train_config:PPOTrainConfig"))
def ppo(ctx: typer.Context, config: ConfigOption = None, print_config: PrintConfigOption = False,
        no_progress: NoProgress = False) -> None:
    """Train an LM context policy with TRL's PPO (SmolLM2-135M + LoRA), one PPO sample per decision.

    Each iteration rolls out the policy on training examples through the memoized environment, then PPO
    trains on every decision with the return from that decision on. Checkpoints after every iteration;
    running the same command again resumes (raise `--iterations` to go on).
    """
    from adactx.rl.train_config import PPOTrainConfig

    cfg = load_train_config(PPOTrainConfig, config, ctx.args, print_config)
    from adactx.rl.ppo import train_ppo

    _report(train_ppo(cfg, progress=not no_progress))


@app.command("grpo", **config_command("adactx.rl.train_config:GRPOTrainConfig"))
def grpo(ctx: typer.Context, config: ConfigOption = None, print_config: PrintConfigOption = False,
         no_progress: NoProgress = False) -> None:
    """Train an LM context policy with TRL's GRPO, each episode played closed-loop (>= 4 per example).

    Observation tokens are masked out of the loss (env_mask); the reward is the episode's return.
    Checkpoints every `save_steps`; running the same command again resumes (raise `--max_steps` to go on).
    """
    from adactx.rl.train_config import GRPOTrainConfig

    cfg = load_train_config(GRPOTrainConfig, config, ctx.args, print_config)
    from adactx.rl.grpo import train_grpo

    _report(train_grpo(cfg, progress=not no_progress))


def _report(summary: dict) -> None:
    history = summary["history"]
    if history:
        first, last = history[0], history[-1]
        typer.echo(f"rollout return: first {first['rollout/return']:.3f}, last {last['rollout/return']:.3f}")
        if "throughput/memo_hit_rate" in last:
            typer.echo(f"memo hit rate: {last['throughput/memo_hit_rate']:.0%}")
    typer.echo(f"decisions/hour (this invocation): {summary['decisions_per_hour']:.0f}")
    typer.echo(f"policy: {summary['policy_dir']}  (use it as --policy learned:{summary['policy_dir']})")
