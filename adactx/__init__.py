"""adactx: an adaptive context manager for long documents.

A controller graph grows a reader LM's context step by step (retrieve, extend, refine) and stops when
the answer is good enough. Start with ``from adactx import ContextManager`` (see ``adactx.api``).
Heavy modules load lazily, so ``import adactx`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ContextManager", "Result", "__version__", "build_controller"]

if TYPE_CHECKING:
    from adactx.api import ContextManager, Result
    from adactx.graphs.graph import build_controller


def __getattr__(name: str) -> Any:
    if name in ("ContextManager", "Result"):
        from adactx import api

        return getattr(api, name)
    if name == "build_controller":  # the controller graph, to embed in an app's own LangGraph graph
        from adactx.graphs.graph import build_controller

        return build_controller
    raise AttributeError(f"module 'adactx' has no attribute {name!r}")
