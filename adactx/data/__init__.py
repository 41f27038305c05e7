"""Data loaders: every set becomes a list of ``adactx.types.Example``.

    from adactx.data import load, list_sets
    load("qmsum:val"); load("bamboo-paperqa-16k", n=10); load("mixed:test", n=50)

One small module per set (``qmsum``, ``squality``, ``bamboo``, ``passkey``, ``needle``, ``mixed``,
``hf_sets``); ``registry`` maps names to them; ``paths`` finds the shared data root. ``sft`` builds
the reader's supervised fine-tuning records (train splits only) for ``adactx train sft``.
"""

from adactx.data.registry import list_sets, load

__all__ = ["list_sets", "load"]
