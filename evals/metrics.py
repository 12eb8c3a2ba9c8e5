"""The measures of one answer, as plain functions of texts, so a stored run can be scored again.

Character-level measures ignore punctuation, whitespace and citation marks: Chinese has no word
boundaries, and an answer should not lose points for a comma or a [1].
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from rouge_chinese import Rouge

from assistant.checking import CITATION, numbers_in

_NOT_WORD = re.compile(r"[\W_]+")
_ROUGE = Rouge(metrics=["rouge-l"])


def plain_chars(text: str) -> str:
    """The text without citation marks, punctuation and spaces."""
    return _NOT_WORD.sub("", CITATION.sub("", text))


def source_matches(expected: str, actual: str) -> bool:
    """Document paths match when one ends with the other at a folder boundary, so a case written against
    `corpus/p00001.txt` matches the passage source `p00001.txt` of an ingested `corpus/` folder."""
    a, b = expected.strip("/"), actual.strip("/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def passage_relevant(text: str, source: str, evidence: Sequence[str], sources: Sequence[str]) -> bool:
    """A passage is the right one when it contains an evidence string; without evidence, when it comes
    from one of the expected documents."""
    if evidence:
        return any(e in text for e in evidence)
    return any(source_matches(s, source) for s in sources)


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant passage, or None."""
    return next((rank for rank, ok in enumerate(relevant, start=1) if ok), None)


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def keywords_present(answer: str, keywords: Sequence[str]) -> bool:
    return bool(keywords) and all(k in answer for k in keywords)


def number_accuracy(answer: str, reference: str) -> float | None:
    """Share of the reference answer's numbers (digits or Chinese numerals) that the answer contains;
    None when the reference has no number."""
    expected = numbers_in(reference)
    if not expected:
        return None
    return len(expected & numbers_in(answer)) / len(expected)


def char_f1(answer: str, reference: str) -> float:
    """F1 of the characters the answer shares with the reference (as multisets)."""
    a, r = Counter(plain_chars(answer)), Counter(plain_chars(reference))
    common = sum((a & r).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def rouge_l(answer: str, reference: str) -> float:
    """ROUGE-L F-measure over characters (the longest common subsequence)."""
    a, r = plain_chars(answer), plain_chars(reference)
    if not a or not r:
        return 0.0
    score = _ROUGE.get_scores(" ".join(a), " ".join(r))[0]["rouge-l"]["f"]
    return round(float(score), 6)


def edit_distance(reference: str, hypothesis: str) -> int:
    row = list(range(len(hypothesis) + 1))
    for i in range(1, len(reference) + 1):
        previous, row[0] = row[0], i
        for j in range(1, len(hypothesis) + 1):
            current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (reference[i - 1] != hypothesis[j - 1]))
            previous = current
    return row[-1]


def cer(pairs: Sequence[tuple[str, str]]) -> float:
    """Character error rate over (reference, hypothesis) pairs, punctuation ignored."""
    errors = total = 0
    for reference, hypothesis in pairs:
        ref, hyp = plain_chars(reference), plain_chars(hypothesis)
        errors += edit_distance(ref, hyp)
        total += len(ref)
    return errors / max(total, 1)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else 0.0
