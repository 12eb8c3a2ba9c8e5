"""Every measure of the assistant's answers, defined once, for the evaluation harness (`xiangyin eval`,
the officials' page) and the benchmarks (`make bench`) alike.

A measure is a `Metric` (ragas-style): a name, what it means, how one answer scores (None where it does
not apply to the case) and how a set's scores combine. `MEASURES` lists them in the order reports show
them. Below them are the plain functions of texts they use, so a stored run can be scored again.

Character-level measures ignore punctuation, whitespace and citation marks: Chinese has no word
boundaries, and an answer should not lose points for a comma or a [1].
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import TYPE_CHECKING

from rouge_chinese import Rouge

from assistant.checking import CITATION, numbers_in

if TYPE_CHECKING:
    # Only for types: evals.results keeps each answer's scores and imports this module.
    from evals.results import CaseResult

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


# The measures

RANKING_DEPTH = 10
"""Retrieval measures look at this many ranked passages (MRR@10)."""

Score = float | bool | None
"""One answer's score: a number, right or wrong, or None where the measure does not apply."""


def mean(values: Sequence[float]) -> float | None:
    return round(fmean(values), 6) if values else None


def _rate(values: Sequence[float]) -> float:
    # The pass rate is 0, not "not applicable", for an empty run: it is the run's headline.
    return round(fmean(values), 6) if values else 0.0


def _p50(values: Sequence[float]) -> float:
    return round(percentile(values, 50), 2)


def _p95(values: Sequence[float]) -> float:
    return round(percentile(values, 95), 2)


@dataclass(frozen=True)
class Metric:
    """One measure. `score` is its only definition; `kept_as` names the field of `CaseScores` where a
    case's score is stored (so a summary of a stored run, and every tag's, reads it instead of scoring
    again); `aggregate` combines the scores of the cases it applies to."""

    name: str
    """The field of `evals.results.Summary` (and the name `--metric` takes)."""
    label: str
    """Its Chinese name, for officials."""
    meaning: str
    """What it means, in Chinese, for the report."""
    score: Callable[[CaseResult], Score]
    aggregate: Callable[[Sequence[float]], float | None] = mean
    kept_as: str | None = None
    lower_is_better: bool = False
    counts_errors: bool = False
    """Cases the assistant could not answer (an error) count; every other measure leaves them out."""
    shown: bool = True
    """Listed in reports and comparisons."""

    def value(self, result: CaseResult) -> Score:
        """The case's score: the stored one when there is one."""
        return getattr(result.scores, self.kept_as) if self.kept_as else self.score(result)

    def summarize(self, results: Sequence[CaseResult]) -> float | None:
        counted = results if self.counts_errors else [r for r in results if not r.error]
        return self.aggregate([float(v) for r in counted if (v := self.value(r)) is not None])


def _answerable(result: CaseResult) -> bool:
    return not result.case.should_refuse


def _judged_passages(result: CaseResult) -> bool:
    """Retrieval and citations can be checked: the case names its evidence or its documents."""
    return _answerable(result) and bool(result.case.evidence or result.case.sources)


def relevant(result: CaseResult, text: str, source: str) -> bool:
    """The relevance rule of every passage measure (ranking and citations): the passage holds one of the
    case's evidence strings; a case without evidence accepts any passage of its expected documents."""
    return passage_relevant(text, source, result.case.evidence, result.case.sources)


def _rank(result: CaseResult) -> int | None:
    ranked = result.ranking[:RANKING_DEPTH]
    return first_relevant_rank([relevant(result, p.text, p.source) for p in ranked])


def _hit_at(k: int) -> Callable[[CaseResult], Score]:
    def score(result: CaseResult) -> Score:
        return hit_at(_rank(result), k) if _judged_passages(result) else None

    return score


def _reciprocal_rank(result: CaseResult) -> Score:
    return reciprocal_rank(_rank(result), RANKING_DEPTH) if _judged_passages(result) else None


def _citation_ok(result: CaseResult) -> Score:
    # Only answers are cited: a refusal or an error has no citation to be right or wrong.
    if not _judged_passages(result) or result.refused or result.error:
        return None
    return any(relevant(result, c.quote, c.source) for c in result.citations)


def _keywords_ok(result: CaseResult) -> Score:
    # A case without keywords says nothing about them; a refusal of an answerable case is wrong.
    if not _answerable(result) or not result.case.answer_keywords:
        return None
    return not result.refused and keywords_present(result.answer, result.case.answer_keywords)


def _reference(result: CaseResult) -> tuple[str, str] | None:
    """(answer, reference) when the case has a reference answer; a refusal answers nothing."""
    if not _answerable(result) or not result.case.answer:
        return None
    return ("" if result.refused else result.answer), result.case.answer


def _number_accuracy(result: CaseResult) -> Score:
    pair = _reference(result)
    numbers = number_accuracy(*pair) if pair else None
    return None if numbers is None else round(numbers, 6)


def _char_f1(result: CaseResult) -> Score:
    pair = _reference(result)
    return round(char_f1(*pair), 6) if pair else None


def _rouge_l(result: CaseResult) -> Score:
    pair = _reference(result)
    return rouge_l(*pair) if pair else None


MEASURES: tuple[Metric, ...] = (
    Metric(
        "pass_rate",
        "通过率",
        "答对（或该拒答时拒答了）的问题所占比例。",
        lambda r: r.passed,
        aggregate=_rate,
        counts_errors=True,
    ),
    Metric(
        "keyword_accuracy",
        "关键词准确率",
        "回答里包含全部要点（关键词）的比例，拒答算错。",
        _keywords_ok,
        kept_as="keywords_ok",
    ),
    Metric(
        "number_accuracy",
        "数字准确率",
        "参考答案里的数字（金额、日期、比例）在回答里出现的比例。",
        _number_accuracy,
        kept_as="number_accuracy",
    ),
    Metric(
        "hit_at_1", "检索命中@1", "排在第 1 位的段落就含有答案依据的比例。", _hit_at(1), kept_as="hit_at_1"
    ),
    Metric(
        "hit_at_5", "检索命中@5", "前 5 个段落里有含答案依据的段落的比例。", _hit_at(5), kept_as="hit_at_5"
    ),
    Metric(
        "mrr_at_10",
        "MRR@10",
        "含答案依据的段落排得有多靠前（第 1 名得 1 分，第 2 名得 0.5 分……）。",
        _reciprocal_rank,
        kept_as="reciprocal_rank",
    ),
    Metric(
        "citation_correctness",
        "引用正确率",
        "回答所注明的出处确实含有答案依据的比例。",
        _citation_ok,
        kept_as="citation_ok",
    ),
    Metric(
        "refusal_precision",
        "拒答精确率",
        "助手说“文件里没有”的时候，确实不该回答的比例。",
        lambda r: r.case.should_refuse if r.refused else None,
    ),
    Metric(
        "refusal_recall",
        "拒答召回率",
        "不该回答的问题中，助手如实说“文件里没有”的比例。",
        lambda r: r.refused if r.case.should_refuse else None,
    ),
    Metric(
        "refusal_rate",
        "拒答率",
        "助手说“文件里没有”的问题所占比例。",
        lambda r: r.refused,
        shown=False,
    ),
    Metric("char_f1", "字符F1", "回答和参考答案在用字上的重合程度。", _char_f1, kept_as="char_f1"),
    Metric("rouge_l", "ROUGE-L", "回答和参考答案按顺序相同的文字所占的程度。", _rouge_l, kept_as="rouge_l"),
    Metric(
        "question_cer",
        "语音识别字错率",
        "语音识别把问题听错的字所占比例（越低越好）。",
        lambda r: r.question_cer,
        lower_is_better=True,
    ),
    Metric(
        "judge_faithfulness",
        "评审模型：忠实度",
        "评审用的大模型认为回答有资料依据的程度（只在配置了评审模型时有）。",
        lambda r: r.judge.faithfulness if r.judge else None,
    ),
    Metric(
        "judge_correctness",
        "评审模型：正确性",
        "评审用的大模型认为回答与参考答案一致的程度（只在配置了评审模型时有）。",
        lambda r: r.judge.correctness if r.judge else None,
    ),
    Metric(
        "latency_p50_ms",
        "响应时间中位数(毫秒)",
        "一半的问题在这个时间内得到回答。",
        lambda r: r.latency_ms,
        aggregate=_p50,
        lower_is_better=True,
    ),
    Metric(
        "latency_p95_ms",
        "响应时间P95(毫秒)",
        "95% 的问题在这个时间内得到回答。",
        lambda r: r.latency_ms,
        aggregate=_p95,
        lower_is_better=True,
    ),
)

BY_NAME: dict[str, Metric] = {m.name: m for m in MEASURES}
