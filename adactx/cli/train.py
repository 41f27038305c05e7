"""`adactx train longlora | ppo | grpo`: the reader's window (LongLoRA) and the controller's policy (TRL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Train the reader (LongLoRA window extension, SFT) or a context policy (features, PPO, GRPO).\n\n"
    "Each command reads a config file (see its --help), checkpoints as it goes and resumes when run again.",
    no_args_is_help=True,
)


@app.command("longlora")
def longlora(
    config: Annotated[Path, typer.Option("--config", help="TOML/JSON/YAML file with LongLoRATrainConfig fields.")],
    steps: Annotated[int | None, typer.Option("--steps", help="Override the config's number of steps.")] = None,
    output_dir: Annotated[str | None, typer.Option("--output-dir", help="Override the config's output_dir.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar (one log line per step).")] = False,
    device: Annotated[str, typer.Option("--device", help="cpu | cuda | auto (cuda when a GPU is visible).")] = "auto",
) -> None:
    """Extend the reader's window with LongLoRA (S²-Attn + LoRA + trainable embeddings/norms + PI).

    Checkpoints every `save_every` steps; running the same command again resumes from the latest.
    """
    from dataclasses import replace

    from adactx.kernels.train import train_longlora
    from adactx.kernels.train_config import LongLoRATrainConfig

    cfg = LongLoRATrainConfig.from_file(config)
    if steps is not None:
        cfg = replace(cfg, steps=steps)
    if output_dir is not None:
        cfg = replace(cfg, output_dir=output_dir)
    from adactx.reader import resolve_device

    resolve_device(device)  # a bad or unavailable device fails before the model loads
    adapter = train_longlora(cfg, progress=not no_progress, device=device)
    typer.echo(f"adapter: {adapter}")


@app.command("sft")
def sft(
    config: Annotated[Path, typer.Option("--config", help="TOML/JSON/YAML file with SFTTrainConfig fields.")],
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="Override the config's max_steps.")] = None,
    output_dir: Annotated[str | None, typer.Option("--output-dir", help="Override the config's output_dir.")] = None,
) -> None:
    """Supervised fine-tuning of the reader (LongLoRA SFT): answer-only loss, reader's prompt layout.

    Data: mixed:train, QMSum train, SQuALITY train (and a local LongAlpaca JSON), laid out as the
    reader lays out its prompt. Checkpoints every `save_steps` steps / `save_minutes` minutes;
    running the same command again resumes from the latest. Use the result with `--adapter DIR`.
    """
    from dataclasses import replace

    from adactx.kernels.sft import train_sft
    from adactx.kernels.sft_config import SFTTrainConfig

    cfg = SFTTrainConfig.from_file(config)
    if max_steps is not None:
        cfg = replace(cfg, max_steps=max_steps)
    if output_dir is not None:
        cfg = replace(cfg, output_dir=output_dir)
    adapter = train_sft(cfg)
    typer.echo(f"adapter: {adapter}")


# --- `adactx train features` (issue 9: the feature-policy arm) ----------------------------------
@app.command("features")
def features(
    config: Annotated[Path, typer.Option("--config", help="TOML/JSON/YAML file with FeatureTrainConfig fields "
                                                          "([env] and [reward] tables for the env and λ).")],
    total_timesteps: Annotated[int | None, typer.Option("--total-timesteps", help="Override the decisions to train on.")] = None,
    output_dir: Annotated[str | None, typer.Option("--output-dir", help="Override the config's output_dir.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar (one line per rollout).")] = False,
) -> None:
    """Train the feature policy: sb3-contrib MaskablePPO, an MLP over the env's vector observation + masks.

    Same reward as the env (score - λ·tokens/1000). Checkpoints at rollout ends; the same command resumes.
    Writes OUTPUT_DIR/policy, usable as `--policy learned:OUTPUT_DIR/policy`.
    """
    from dataclasses import replace

    from adactx.rl.features_config import FeatureTrainConfig
    from adactx.rl.features_train import train_features

    cfg = FeatureTrainConfig.from_file(config)
    if total_timesteps is not None:
        cfg = replace(cfg, total_timesteps=total_timesteps)
    if output_dir is not None:
        cfg = replace(cfg, output_dir=output_dir)
    result = train_features(cfg, progress=not no_progress)
    rate = result["memo_hit_rate"]
    typer.echo(f"policy: {result['policy']}  (learned:{result['policy']})")
    typer.echo(f"throughput: {result['decisions']} decisions in {result['seconds']:.0f} s = "
               f"{result['decisions_per_hour']:.0f} decisions/hour; memo hit rate "
               f"{'n/a' if rate is None else f'{rate:.0%}'} ({result['memo_hits']} hits, {result['memo_misses']} misses)")


def _policy_config(cls, config: Path, iterations: int | None, output_dir: str | None):
    from dataclasses import replace

    cfg = cls.from_file(config)
    if iterations is not None:
        cfg = replace(cfg, iterations=iterations)
    if output_dir is not None:
        cfg = replace(cfg, output_dir=output_dir)
    return cfg


@app.command("ppo")
def ppo(
    config: Annotated[Path, typer.Option("--config", help="TOML/JSON file with PPOTrainConfig fields ([env] table: EnvConfig).")],
    iterations: Annotated[int | None, typer.Option("--iterations", help="Override the config's outer iterations.")] = None,
    output_dir: Annotated[str | None, typer.Option("--output-dir", help="Override the config's output_dir.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar (one line per iteration).")] = False,
) -> None:
    """Train an LM context policy with TRL's PPO (SmolLM2-135M + LoRA), one PPO sample per decision.

    Each iteration rolls out the policy on training examples through the memoized environment, then PPO
    trains on every decision with the return from that decision on. Checkpoints after every iteration;
    running the same command again resumes. TensorBoard logs: OUTPUT_DIR/tensorboard.
    """
    from adactx.rl.ppo import train_ppo
    from adactx.rl.train_config import PPOTrainConfig

    cfg = _policy_config(PPOTrainConfig, config, iterations, output_dir)
    summary = train_ppo(cfg, progress=not no_progress)
    _report(summary)


@app.command("grpo")
def grpo(
    config: Annotated[Path, typer.Option("--config", help="TOML/JSON file with GRPOTrainConfig fields ([env] table: EnvConfig).")],
    iterations: Annotated[int | None, typer.Option("--iterations", help="Override the config's GRPO steps.")] = None,
    output_dir: Annotated[str | None, typer.Option("--output-dir", help="Override the config's output_dir.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
) -> None:
    """Train an LM context policy with TRL's GRPO, each episode played closed-loop (>= 4 per example).

    Observation tokens are masked out of the loss (env_mask); the reward is the episode's return.
    Checkpoints every save_steps; running the same command again resumes. TensorBoard: OUTPUT_DIR/tensorboard.
    """
    from adactx.rl.grpo import train_grpo
    from adactx.rl.train_config import GRPOTrainConfig

    cfg = _policy_config(GRPOTrainConfig, config, iterations, output_dir)
    summary = train_grpo(cfg, progress=not no_progress)
    _report(summary)


def _report(summary: dict) -> None:
    history = summary["history"]
    if history:
        first, last = history[0], history[-1]
        typer.echo(f"rollout return: first {first['rollout/return']:.3f}, last {last['rollout/return']:.3f}")
        if "throughput/memo_hit_rate" in last:
            typer.echo(f"memo hit rate: {last['throughput/memo_hit_rate']:.0%}")
    typer.echo(f"decisions/hour (this invocation): {summary['decisions_per_hour']:.0f}")
    typer.echo(f"policy: {summary['policy_dir']}  (use it as --policy learned:{summary['policy_dir']})")
