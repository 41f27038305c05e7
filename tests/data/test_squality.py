"""SQuALITY on the real files: five questions per story, four references each."""

import json

from adactx.data.squality import load_squality


def test_real_splits(shared_data):
    counts = {}
    for split in ("train", "dev", "test"):
        examples = load_squality(split)
        stories = [json.loads(x) for x in (shared_data / f"squality/v1-3/txt/{split}.jsonl").open()]
        assert len(examples) == sum(len(s["questions"]) for s in stories)
        assert all(len(e.references) == 4 and e.task == "query_summary" for e in examples)
        counts[split] = len(examples)
    assert counts == {"train": 250, "dev": 125, "test": 260}
    first = load_squality("dev")[0]
    assert first.meta["question_number"] == 1 and first.document.text.startswith("Jinx Ship To The Rescue")
