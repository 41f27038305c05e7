"""Task metrics: one ``score()`` entry point for evaluation and RL rewards, plus LongBench's variants.

    score("qa", "It was 42.", ["42", "forty-two"])       # {"score": f1, "f1", "em", "contains"}
    score("query_summary", pred, refs)                     # {"score": rougeL, "rouge1", "rouge2", "rougeL", "bleu"}
    score("qa", "B", ["B"], options=["A. ..", "B. .."])   # {"score": accuracy, "accuracy", ...}
    score("passkey", "The pass key is 4242.", ["4242"])   # {"score": accuracy, "accuracy", "em", "contains"}

Every value is in [0, 1] and is the maximum over the references (BLEU is sacrebleu's multi-reference
sentence BLEU, which already uses all references). ``score["score"]`` is the task's headline metric.

Definitions
    f1 / em      SQuAD: lower-case, strip punctuation and articles (a/an/the), split on whitespace.
    contains     1 when the normalized reference occurs, as whole words, in the normalized prediction
                 (a verbose small reader that states the right value still gets credit).
    rouge*       Google's ``rouge-score`` F-measure with the Porter stemmer.
    bleu         ``sacrebleu.sentence_bleu`` / 100.
    accuracy     multiple choice: the option letter read from the prediction (or the option whose text
                 it matches best) equals the gold letter; passkey: the first integer in the prediction
                 equals the key (LongLoRA compares the generated tokens to the key's tokens).

LongBench (``longbench_score``) reproduces THUDM/LongBench ``eval.py`` by name: ``longbench_qa_f1``
is its ``qa_f1_score`` (= SQuAD F1), ``longbench_rouge_l`` its ``rouge_score`` (the ``rouge`` PyPI
package's summary-level ROUGE-L F, 0 when it raises), plus count / retrieval / classification / code-sim;
for trec, triviaqa, samsum and lsht only the prediction's first line is scored, as in LongBench.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


# --------------------------------------------------------------------------------------------- QA
def normalize_answer(text: str) -> str:
    """SQuAD normalization: lower case, drop punctuation and articles, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction_tokens: Sequence[str], reference_tokens: Sequence[str]) -> float:
    common = Counter(prediction_tokens) & Counter(reference_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(prediction_tokens)
    recall = overlap / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


def qa_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 of the normalized strings (identical to LongBench's ``qa_f1_score``)."""
    return token_f1(normalize_answer(prediction).split(), normalize_answer(reference).split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def contains_answer(prediction: str, reference: str) -> float:
    """1.0 when the normalized reference appears as a whole-word run inside the normalized prediction."""
    ref = normalize_answer(reference)
    return float(bool(ref) and f" {ref} " in f" {normalize_answer(prediction)} ")


def max_over_references(
    metric: Callable[[str, str], float], prediction: str, references: Sequence[str]
) -> float:
    return max((metric(prediction, ref) for ref in references), default=0.0)


# ---------------------------------------------------------------------------------- summaries
@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures (rouge-score, Porter stemmer)."""
    scores = _rouge_scorer().score(reference, prediction)
    return {name: s.fmeasure for name, s in scores.items()}


def rouge_max(prediction: str, references: Sequence[str]) -> dict[str, float]:
    """Each ROUGE variant maximized over the references independently."""
    best = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for ref in references:
        for name, value in rouge(prediction, ref).items():
            best[name] = max(best[name], value)
    return best


def bleu(prediction: str, references: Sequence[str]) -> float:
    """sacrebleu's sentence BLEU with all references, scaled to [0, 1]."""
    import sacrebleu

    if not references:
        return 0.0
    return sacrebleu.sentence_bleu(prediction, list(references)).score / 100.0


# --------------------------------------------------------------------------- multiple choice
_LEADING_LETTER = re.compile(r"^\W*(?:answer|option)?\W*\(?([A-Z])\)?(?:[.:)\s]|$)", re.IGNORECASE)
_OPTION_PREFIX = re.compile(r"^\s*\(?([A-Z])[.:)]\s*")


def option_letter(option: str, index: int) -> str:
    """The letter an option carries ("B. text" -> "B"), or its position's letter."""
    match = _OPTION_PREFIX.match(option)
    return match.group(1).upper() if match else chr(ord("A") + index)


def option_text(option: str) -> str:
    return _OPTION_PREFIX.sub("", option, count=1)


def choose_option(prediction: str, options: Sequence[str]) -> str | None:
    """The option letter a prediction picks: a leading letter, else the best-matching option text."""
    letters = [option_letter(opt, i) for i, opt in enumerate(options)]
    match = _LEADING_LETTER.match(prediction.strip())
    if match and match.group(1).upper() in letters:
        return match.group(1).upper()
    overlaps = [qa_f1(prediction, option_text(opt)) for opt in options]
    if not overlaps or max(overlaps) == 0.0:
        return None
    return letters[overlaps.index(max(overlaps))]


def multiple_choice_accuracy(prediction: str, reference: str, options: Sequence[str]) -> float:
    chosen = choose_option(prediction, options)
    return float(chosen is not None and chosen == reference.strip().strip(".").upper())


# ---------------------------------------------------------------------------------- passkey
def passkey_accuracy(prediction: str, reference: str) -> float:
    """1.0 when the first integer in the prediction is the key."""
    numbers = re.findall(r"\d+", prediction)
    return float(bool(numbers) and numbers[0] == reference.strip())


# ------------------------------------------------------------------------------ entry point
def _qa_scores(prediction: str, references: Sequence[str]) -> dict[str, float]:
    f1 = max_over_references(qa_f1, prediction, references)
    return {
        "score": f1,
        "f1": f1,
        "em": max_over_references(exact_match, prediction, references),
        "contains": max_over_references(contains_answer, prediction, references),
    }


def score(
    task: str, prediction: str, references: Sequence[str], options: Sequence[str] | None = None
) -> dict:
    """All metrics for one prediction; ``"score"`` is the headline (F1, ROUGE-L or accuracy)."""
    references = [r for r in references if r is not None]
    if options:
        accuracy = max_over_references(
            lambda p, r: multiple_choice_accuracy(p, r, options), prediction, references
        )
        return {"score": accuracy, "accuracy": accuracy, "chosen": choose_option(prediction, options)}
    if task == "qa":
        return _qa_scores(prediction, references)
    if task == "passkey":
        accuracy = max_over_references(passkey_accuracy, prediction, references)
        return {**_qa_scores(prediction, references), "score": accuracy, "accuracy": accuracy}
    if task in ("query_summary", "summary"):
        rouges = rouge_max(prediction, references)
        return {"score": rouges["rougeL"], **rouges, "bleu": bleu(prediction, references)}
    raise ValueError(f"task: unknown task kind {task!r}; choose from qa, query_summary, summary, passkey")


# ------------------------------------------------------------------------- LongBench variants
def longbench_qa_f1(prediction: str, reference: str, **_) -> float:
    """LongBench ``qa_f1_score``: SQuAD normalization + token F1."""
    return qa_f1(prediction, reference)


def longbench_rouge_l(prediction: str, reference: str, **_) -> float:
    """LongBench ``rouge_score``: the ``rouge`` package's ROUGE-L F, 0.0 when it raises."""
    from rouge import Rouge

    try:
        return Rouge(metrics=["rouge-l"]).get_scores([prediction], [reference], avg=True)["rouge-l"]["f"]
    except Exception:  # noqa: BLE001  LongBench: a bare except returns 0 (empty hypothesis, recursion depth)
        return 0.0


def _fraction_equal(numbers: list[str], target: str) -> float:
    return 0.0 if not numbers else sum(n == target for n in numbers) / len(numbers)


def longbench_count(prediction: str, reference: str, **_) -> float:
    """LongBench ``count_score``: share of the integers in the prediction that equal the answer."""
    return _fraction_equal(re.findall(r"\d+", prediction), str(reference))


def longbench_retrieval(prediction: str, reference: str, **_) -> float:
    """LongBench ``retrieval_score``: share of the integers that equal the gold "Paragraph N"."""
    return _fraction_equal(re.findall(r"\d+", prediction), re.findall(r"Paragraph (\d+)", reference)[0])


def longbench_classification(prediction: str, reference: str, all_classes: Sequence[str] = (), **_) -> float:
    """LongBench ``classification_score``: 1/k when the gold class is among the k classes named."""
    named = [c for c in all_classes if c in prediction]
    for term in named:  # LongBench removes while iterating (skipping the next item); kept as is
        if term in reference and term != reference:
            named.remove(term)
    return 1.0 / len(named) if reference in named else 0.0


def longbench_code_sim(prediction: str, reference: str, **_) -> float:
    """LongBench ``code_sim_score``: fuzzywuzzy's ``fuzz.ratio`` (difflib, rounded to a percent) between the
    first prediction line that holds no `` ` ``, ``#`` or ``//`` and the gold line."""
    import difflib

    first = next(
        (ln for ln in prediction.lstrip("\n").split("\n") if not any(m in ln for m in ("`", "#", "//"))), ""
    )
    if not first or not reference:  # fuzzywuzzy returns 0 for an empty string
        return 0.0
    return round(100 * difflib.SequenceMatcher(None, first, reference).ratio()) / 100


LONGBENCH_METRICS: dict[str, Callable[..., float]] = {
    **dict.fromkeys(
        ["hotpotqa", "2wikimqa", "musique", "narrativeqa", "qasper", "multifieldqa_en", "triviaqa", "nq"],
        longbench_qa_f1,
    ),
    **dict.fromkeys(["gov_report", "qmsum", "multi_news", "samsum"], longbench_rouge_l),
    "trec": longbench_classification,
    "passage_count": longbench_count,
    "passage_retrieval_en": longbench_retrieval,
    "lcc": longbench_code_sim,
    "repobench-p": longbench_code_sim,
}
LONGBENCH_FIRST_LINE = frozenset({"trec", "triviaqa", "samsum", "lsht"})


def longbench_score(
    dataset: str,
    predictions: Sequence[str],
    answers: Sequence[Sequence[str]],
    all_classes: Sequence[str] | None = None,
) -> float:
    """LongBench's ``scorer``: mean over examples of the max over answers, x100, rounded to 2 places."""
    if dataset not in LONGBENCH_METRICS:
        raise ValueError(f"dataset: no LongBench metric for {dataset!r}; known: {sorted(LONGBENCH_METRICS)}")
    metric = LONGBENCH_METRICS[dataset]
    total = 0.0
    for prediction, golds in zip(predictions, answers, strict=True):
        if dataset in LONGBENCH_FIRST_LINE:
            prediction = prediction.lstrip("\n").split("\n")[0]
        total += max((metric(prediction, g, all_classes=all_classes or ()) for g in golds), default=0.0)
    return round(100 * total / len(predictions), 2)
