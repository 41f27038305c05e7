"""SQuALITY (nyu-mll): question-focused summaries of Gutenberg stories, four references per question.

    examples = load_squality("dev")          # train | dev | test

Each story is one ``Document``; each of its questions is an ``Example`` (task ``query_summary``) whose
``references`` are the workers' responses (four per question). Question 1 of every story asks for the
plot, so ``meta["question_number"] == 1`` selects whole-story summaries. No gold evidence spans.
"""

from __future__ import annotations

import json

from adactx.data.paths import data_file
from adactx.errors import AdactxError
from adactx.types import Document, Example

SPLITS = ("train", "dev", "test")


def story_examples(story: dict, split: str) -> list[Example]:
    meta = story["metadata"]
    text = story["document"]
    title = text.strip().split("\n", 1)[0].strip()
    doc = Document(doc_id=f"squality-{meta['passage_id']}", text=text, title=title, source="squality")
    examples = []
    for question in story["questions"]:
        number = question["question_number"]
        examples.append(
            Example(
                example_id=f"squality-{split}-{meta['passage_id']}-q{number}",
                task="query_summary",
                documents=[doc],
                query=question["question_text"],
                references=[r["response_text"] for r in question["responses"]],
                source="squality",
                meta={"split": split, "question_number": number, "passage_id": meta["passage_id"]},
            )
        )
    return examples


def load_squality(split: str = "dev") -> list[Example]:
    if split not in SPLITS:
        raise AdactxError(f"squality: unknown split {split!r}; choose from {', '.join(SPLITS)}")
    path = data_file("squality", "v1-3", "txt", f"{split}.jsonl")
    examples = []
    with path.open(encoding="utf-8") as fh:
        for line_number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                examples += story_examples(json.loads(line), split)
            except (json.JSONDecodeError, KeyError) as exc:
                raise AdactxError(f"{path}:{line_number}: not a SQuALITY story ({exc!r})") from exc
    return examples
