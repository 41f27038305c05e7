"""What every trainer's config shares with ``transformers.TrainingArguments``: where and how often it logs.

    @dataclass
    class SFTTrainConfig(LoggingArgs):      # adds report_to, logging_dir, logging_steps (one source each)
        output_dir: str = ...
        def __post_init__(self):
            self.check_logging()            # report_to: 'wandb' is not one of ('tensorboard', 'none')

    log_dir = cfg.tensorboard_dir()         # Path (logging_dir, default OUTPUT_DIR/runs) or None
    with ScalarLog(log_dir) as log:         # a no-op when log_dir is None
        log.scalars(step, {"train/loss": 0.7})

The four train configs (``kernels.train_config``, ``kernels.sft_config``, ``rl.train_config``,
``rl.features_config``) subclass :class:`LoggingArgs`; the LongLoRA and SFT loops write through
:class:`ScalarLog`, TRL (PPO, GRPO) and sb3 (features) through their own TensorBoard writers pointed at
the same directory. Nothing heavy is imported until a writer is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adactx.errors import AdactxError

REPORT_TO = ("tensorboard", "none")


@dataclass
class LoggingArgs:
    """Base of the train configs; a subclass has an ``output_dir`` field (the default log directory's parent)."""

    report_to: str = field(
        default="tensorboard",
        metadata={"help": "tensorboard (event files under logging_dir) or none (train_log/history files only)."},
    )
    logging_dir: str | None = field(
        default=None, metadata={"help": "TensorBoard directory; empty: OUTPUT_DIR/runs (as TrainingArguments)."}
    )
    logging_steps: int = field(default=1, metadata={"help": "Log every N optimizer steps."})

    def check_logging(self) -> None:
        """Normalize ``report_to`` (TrainingArguments also takes a list) and check the logging fields."""
        self.report_to = report_to_value(self.report_to, f"{type(self).__name__}.report_to")
        if isinstance(self.logging_steps, bool) or not isinstance(self.logging_steps, int) or self.logging_steps < 1:
            raise AdactxError(f"{type(self).__name__}.logging_steps: must be an integer >= 1, got {self.logging_steps!r}")
        if self.logging_dir is not None and not isinstance(self.logging_dir, str):
            raise AdactxError(f"{type(self).__name__}.logging_dir: expected a string, got {self.logging_dir!r}")

    def tensorboard_dir(self) -> Path | None:
        """Where TensorBoard event files go, or None when ``report_to = "none"``."""
        if self.report_to == "none":
            return None
        return Path(self.logging_dir) if self.logging_dir else Path(self.output_dir) / "runs"  # type: ignore[attr-defined]


def report_to_value(value: Any, where: str) -> str:
    """``"tensorboard"``, ``"none"``, or a list of them (TrainingArguments style) -> one of REPORT_TO."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise AdactxError(f"{where}: expected one of {REPORT_TO} (or a list of them), got {value!r}")
    unknown = [i for i in items if i not in REPORT_TO and i != "all"]
    if unknown:
        raise AdactxError(f"{where}: {unknown[0]!r} is not one of {REPORT_TO}")
    return "tensorboard" if any(i in ("tensorboard", "all") for i in items) else "none"


class ScalarLog:
    """TensorBoard scalars through torch's ``SummaryWriter``; every call is a no-op without a directory."""

    def __init__(self, log_dir: Path | None):
        self.writer = None
        if log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(log_dir))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self.writer is None:
            return
        for key, value in values.items():
            self.writer.add_scalar(key, float(value), step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __enter__(self) -> ScalarLog:  # noqa: PYI034 -- typing.Self needs Python 3.11; 3.10 is supported
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["REPORT_TO", "LoggingArgs", "ScalarLog", "report_to_value"]
