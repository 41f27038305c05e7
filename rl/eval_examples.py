"""The examples an evaluation runs on.

    examples = load_examples(cfg, reader.tokenizer)

A file-backed set is loaded whole and taken in a seeded random order (so the first ``n`` are a random
sample and a larger ``n`` extends a run); the mixed suite is generated (``cfg.mixed_lengths`` sets its
document lengths) in its own balanced order; other generated sets are generated with the seed.
"""

from __future__ import annotations

import numpy as np
from adactx.rl.eval_config import EvalConfig


def load_examples(cfg: EvalConfig, tokenizer):
    from adactx.data.registry import load, parse_spec
    from adactx.data.user import is_data_file, load_user_data, parse_fields, take

    if is_data_file(cfg.data):
        return take(load_user_data(cfg.data, parse_fields(cfg.fields)), cfg.n, cfg.seed)
    dataset, split = parse_spec(cfg.data)
    if dataset.name == "mixed":
        from adactx.data.mixed import MixedConfig, mixed_suite

        return mixed_suite(
            MixedConfig(lengths=cfg.mixed_lengths), tokenizer, split=split, n=cfg.n or 200, seed=cfg.seed
        )
    if dataset.generated:
        return load(cfg.data, n=cfg.n, seed=cfg.seed, tokenizer=tokenizer)
    examples = load(cfg.data)
    order = np.random.default_rng(cfg.seed).permutation(len(examples))
    return [examples[i] for i in order[: cfg.n or len(examples)]]


__all__ = ["load_examples"]
