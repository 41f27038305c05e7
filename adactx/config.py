"""Shared checks for the dataclass configs that live beside the code using them.

    @dataclass
    class ControllerSettings:
        budget: int = field(default=4096, metadata={"help": "..."})
        def __post_init__(self):
            require_positive(self, "budget", "max_steps")

Errors name the class and the field: ``ControllerSettings.budget: must be >= 1, got 0``.
"""

from __future__ import annotations

from adactx.errors import AdactxError


def require_positive(config: object, *names: str) -> None:
    """Every named field must be an integer >= 1."""
    for name in names:
        value = getattr(config, name)
        if int(value) < 1:
            raise AdactxError(f"{type(config).__name__}.{name}: must be >= 1, got {value}")
