"""Shared builders for the rl tests: a tiny reader, a hashing encoder, a toy document with gold spans."""

from __future__ import annotations

from adactx.types import Document, Example, Span

TOPICS = ["budget", "schedule", "design", "buttons", "battery", "colour", "price", "marketing"]
TEXT = "\n\n".join(
    f"Section {i}. The team talked about the {t} at length. "
    + " ".join(f"Point {j} on the {t}." for j in range(5))
    for i, t in enumerate(TOPICS)
)


def toy_examples(n: int = 4) -> list[Example]:
    out = []
    for i, topic in enumerate(TOPICS[:n]):
        start = TEXT.index(f"Section {i}.")
        out.append(
            Example(
                example_id=f"toy{i}",
                task="qa",
                documents=[Document("toy", TEXT)],
                query=f"What about the {topic}?",
                references=[topic],
                evidence=[Span(0, start, start + 40)],
                meta={"variant": "even" if i % 2 == 0 else "odd"},
            )
        )
    return out


def env_config(**overrides):
    from adactx.rl.env import EnvConfig

    cfg = {
        "budget": 200,
        "max_steps": 4,
        "retrieve_k": 2,
        "extend_tokens": 60,
        "draft_tokens": 2,
        "answer_tokens": 3,
        "summary_tokens": 3,
        "chunk_tokens": 24,
        "actions": ("retrieve-2", "extend-60", "refine", "answer"),
    }
    cfg.update(overrides)
    return EnvConfig(**cfg)
