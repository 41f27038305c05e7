"""The settings an RL episode runs under: the controller's and the document's, with the RL defaults.

    EpisodeSettings()                  # max_steps 8, answer_tokens 16, ... (RL_DEFAULTS), the rest as
                                       # adactx.config.ControllerSettings / DocumentSettings
    EnvConfig(EpisodeSettings) and EvalConfig(EpisodeSettings) add what is theirs.

``RL_DEFAULTS`` is the one place where the environment and the evaluation deliberately read differently
from an interactive ``adactx ask``: fewer steps and shorter drafts, answers and query-focused summaries
keep CPU rollouts and the oracle's action tree affordable (every step drafts, every tree node answers),
and the reader memo and every result in docs/results.md were measured with exactly these values (the
memo is keyed on the generation settings, so changing one re-reads everything).
"""

from __future__ import annotations

from dataclasses import dataclass

from adactx.config import ControllerSettings, DocumentSettings, override_defaults, settings_of

RL_DEFAULTS = {"max_steps": 8, "draft_tokens": 6, "answer_tokens": 16, "summary_tokens": 64}


@dataclass
@override_defaults(ControllerSettings, **RL_DEFAULTS)
class EpisodeSettings(ControllerSettings, DocumentSettings):
    """Controller knobs + chunking/index settings, with the RL defaults above."""

    def __post_init__(self) -> None:
        ControllerSettings.__post_init__(self)
        DocumentSettings.__post_init__(self)

    def controller_settings(self) -> ControllerSettings:
        return settings_of(ControllerSettings, self)

    def document_settings(self) -> DocumentSettings:
        return settings_of(DocumentSettings, self)


__all__ = ["RL_DEFAULTS", "EpisodeSettings"]
