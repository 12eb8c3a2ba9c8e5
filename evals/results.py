"""What an evaluation run produces: every case's answer, what was retrieved, its scores, and the
aggregates overall, per tag and for spoken questions. The JSON file holds everything needed to score a
run again (`rescore`) without asking the assistant anything."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import fmean
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.answer import Citation
from evals.cases import Case
from evals.metrics import (
    char_f1,
    first_relevant_rank,
    hit_at,
    keywords_present,
    number_accuracy,
    passage_relevant,
    percentile,
    reciprocal_rank,
    rouge_l,
)

RUN_FORMAT = "xiangyin-eval/1"
SUMMARY_FORMAT = "xiangyin-eval-summary/1"
RANKING_DEPTH = 10

Mode = Literal["typed", "spoken"]
Problem = Literal[
    "missing_document", "retrieval_miss", "wrongly_refused", "answer_composition", "should_refuse", "error"
]


class RetrievedPassage(BaseModel):
    source: str
    title: str = ""
    section: str = ""
    text: str
    score: float = 0.0


class CaseScores(BaseModel):
    """One answer's measures; None where a measure does not apply to the case."""

    hit_at_1: float | None = None
    hit_at_5: float | None = None
    reciprocal_rank: float | None = Field(
        default=None, description="1/rank of the first relevant passage, @10."
    )
    keywords_ok: bool | None = None
    number_accuracy: float | None = None
    char_f1: float | None = None
    rouge_l: float | None = None
    citation_ok: bool | None = None


class Verdict(BaseModel):
    """An LLM judge's rating of one answer (evals/judge.py)."""

    faithfulness: float = Field(ge=0, le=1, description="Every statement is backed by the cited passages.")
    correctness: float | None = Field(default=None, ge=0, le=1, description="Agrees with the reference.")
    reason: str = ""


class CaseResult(BaseModel):
    case: Case
    mode: Mode = "typed"
    asked: str = Field(description="What the assistant was asked: the question, or its transcript.")
    question_cer: float | None = Field(default=None, description="Transcript vs question (spoken cases).")
    answer: str = ""
    refused: bool = False
    kind: str = ""
    standalone_question: str = ""
    unknown_terms: list[str] = Field(default_factory=list)
    confidence: float | None = Field(default=None, description="The assistant's confidence (0-1).")
    signals: dict[str, float] = Field(default_factory=dict, description="What the confidence came from.")
    citations: list[Citation] = Field(default_factory=list)
    passages: list[RetrievedPassage] = Field(
        default_factory=list, description="The passages the answer was composed from."
    )
    ranking: list[RetrievedPassage] = Field(
        default_factory=list, description="Retrieval's ranked list (up to 10) the retrieval measures use."
    )
    sources_loaded: bool | None = Field(
        default=None, description="Whether the expected documents are in the knowledge base (if known)."
    )
    latency_ms: float = 0.0
    error: str | None = None
    scores: CaseScores = Field(default_factory=CaseScores)
    judge: Verdict | None = Field(default=None, description="Only when a judge model was given.")
    passed: bool = False
    problem: Problem | None = None

    @property
    def key(self) -> str:
        return f"{self.case.id}/{self.mode}"


def score_case(result: CaseResult) -> CaseScores:
    case = result.case
    answerable = not case.should_refuse
    scores = CaseScores()
    if answerable and (case.evidence or case.sources):
        relevant = [
            passage_relevant(p.text, p.source, case.evidence, case.sources)
            for p in result.ranking[:RANKING_DEPTH]
        ]
        rank = first_relevant_rank(relevant)
        scores.hit_at_1, scores.hit_at_5 = hit_at(rank, 1), hit_at(rank, 5)
        scores.reciprocal_rank = reciprocal_rank(rank, RANKING_DEPTH)
        if not result.refused and not result.error:
            scores.citation_ok = any(
                passage_relevant(c.quote, c.source, case.evidence, case.sources) for c in result.citations
            )
    if answerable and case.answer_keywords:
        scores.keywords_ok = not result.refused and keywords_present(result.answer, case.answer_keywords)
    if answerable and case.answer:
        answer = "" if result.refused else result.answer
        numbers = number_accuracy(answer, case.answer)
        scores.number_accuracy = None if numbers is None else round(numbers, 6)
        scores.char_f1 = round(char_f1(answer, case.answer), 6)
        scores.rouge_l = rouge_l(answer, case.answer)
    return scores


def _passed(result: CaseResult) -> bool:
    if result.error:
        return False
    if result.case.should_refuse:
        return result.refused
    s = result.scores
    if result.refused:
        return False
    if s.keywords_ok is not None:
        return s.keywords_ok
    if s.citation_ok is not None:
        return s.citation_ok
    return (s.char_f1 or 0.0) >= 0.5


def diagnose(result: CaseResult) -> Problem | None:
    """Why a case failed, in the terms of what to fix: a document to add, retrieval, or the answer."""
    if result.passed:
        return None
    if result.error:
        return "error"
    if result.case.should_refuse:
        return "should_refuse"
    if result.sources_loaded is False:
        return "missing_document"
    if result.scores.hit_at_5 == 0.0:
        return "retrieval_miss"
    if result.refused:
        return "wrongly_refused"
    return "answer_composition"


def finish(result: CaseResult) -> CaseResult:
    """Score a result and decide whether it passed and, if not, why."""
    result.scores = score_case(result)
    result.passed = _passed(result)
    result.problem = diagnose(result)
    return result


class Summary(BaseModel):
    """Aggregates over a set of results; a measure is None when no case it applies to was run."""

    cases: int
    passed: int
    pass_rate: float
    hit_at_1: float | None = None
    hit_at_5: float | None = None
    mrr_at_10: float | None = None
    keyword_accuracy: float | None = None
    number_accuracy: float | None = None
    char_f1: float | None = None
    rouge_l: float | None = None
    citation_correctness: float | None = None
    refusal_rate: float | None = None
    refusal_precision: float | None = None
    refusal_recall: float | None = None
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    question_cer: float | None = None
    judge_faithfulness: float | None = None
    judge_correctness: float | None = None
    errors: int = 0
    problems: dict[str, int] = Field(default_factory=dict)


METRICS: dict[str, str] = {
    "pass_rate": "通过率",
    "keyword_accuracy": "关键词准确率",
    "number_accuracy": "数字准确率",
    "hit_at_1": "检索命中@1",
    "hit_at_5": "检索命中@5",
    "mrr_at_10": "MRR@10",
    "citation_correctness": "引用正确率",
    "refusal_precision": "拒答精确率",
    "refusal_recall": "拒答召回率",
    "char_f1": "字符F1",
    "rouge_l": "ROUGE-L",
    "question_cer": "语音识别字错率",
    "judge_faithfulness": "评审模型：忠实度",
    "judge_correctness": "评审模型：正确性",
    "latency_p50_ms": "响应时间中位数(毫秒)",
    "latency_p95_ms": "响应时间P95(毫秒)",
}
"""The measures officials read, with their Chinese names, in the order reports show them."""

LOWER_IS_BETTER = {"question_cer", "latency_p50_ms", "latency_p95_ms"}


def _mean(values: Iterable[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(fmean(present), 6) if present else None


def summarize(results: Sequence[CaseResult]) -> Summary:
    ok = [r for r in results if not r.error]
    refused = [r for r in ok if r.refused]
    to_refuse = [r for r in ok if r.case.should_refuse]
    problems: dict[str, int] = {}
    for r in results:
        if r.problem:
            problems[r.problem] = problems.get(r.problem, 0) + 1
    passed = sum(r.passed for r in results)
    latencies = [r.latency_ms for r in ok]
    return Summary(
        cases=len(results),
        passed=passed,
        pass_rate=round(passed / len(results), 6) if results else 0.0,
        hit_at_1=_mean(r.scores.hit_at_1 for r in ok),
        hit_at_5=_mean(r.scores.hit_at_5 for r in ok),
        mrr_at_10=_mean(r.scores.reciprocal_rank for r in ok),
        keyword_accuracy=_mean(r.scores.keywords_ok for r in ok),
        number_accuracy=_mean(r.scores.number_accuracy for r in ok),
        char_f1=_mean(r.scores.char_f1 for r in ok),
        rouge_l=_mean(r.scores.rouge_l for r in ok),
        citation_correctness=_mean(r.scores.citation_ok for r in ok),
        refusal_rate=round(len(refused) / len(ok), 6) if ok else None,
        refusal_precision=_mean(r.case.should_refuse for r in refused),
        refusal_recall=_mean(r.refused for r in to_refuse),
        latency_p50_ms=round(percentile(latencies, 50), 2),
        latency_p95_ms=round(percentile(latencies, 95), 2),
        question_cer=_mean(r.question_cer for r in ok),
        judge_faithfulness=_mean(r.judge.faithfulness if r.judge else None for r in ok),
        judge_correctness=_mean(r.judge.correctness if r.judge else None for r in ok),
        errors=sum(1 for r in results if r.error),
        problems=problems,
    )


class RunInfo(BaseModel):
    cases_file: str
    target: str = Field(description="'in-process' or the server URL.")
    knowledge: str | None = Field(default=None, description="The knowledge folder (in-process runs).")
    started_at: str
    duration_s: float = 0.0
    settings: dict[str, Any] = Field(default_factory=dict)


class Outcome(BaseModel):
    passed: bool
    question: str
    problem: Problem | None = None


class RunSummary(BaseModel):
    """A run without its answers: small enough to commit as a regression baseline."""

    format: str = SUMMARY_FORMAT
    info: RunInfo
    summary: Summary
    spoken: Summary | None = None
    by_tag: dict[str, Summary] = Field(default_factory=dict)
    outcomes: dict[str, Outcome] = Field(default_factory=dict)


class RunResult(BaseModel):
    format: str = RUN_FORMAT
    info: RunInfo
    summary: Summary
    spoken: Summary | None = None
    by_tag: dict[str, Summary] = Field(default_factory=dict)
    results: list[CaseResult] = Field(default_factory=list)

    @classmethod
    def build(cls, info: RunInfo, results: Sequence[CaseResult]) -> RunResult:
        """The run with its aggregates: overall and per tag over typed questions, spoken ones apart."""
        typed = [r for r in results if r.mode == "typed"]
        spoken = [r for r in results if r.mode == "spoken"]
        tags = sorted({t for r in typed for t in r.case.tags})
        return cls(
            info=info,
            summary=summarize(typed),
            spoken=summarize(spoken) if spoken else None,
            by_tag={t: summarize([r for r in typed if t in r.case.tags]) for t in tags},
            results=list(results),
        )

    def rescore(self) -> RunResult:
        """The same answers scored again with the current measures."""
        return RunResult.build(self.info, [finish(r.model_copy(deep=True)) for r in self.results])

    def summary_only(self) -> RunSummary:
        return RunSummary(
            info=self.info,
            summary=self.summary,
            spoken=self.spoken,
            by_tag=self.by_tag,
            outcomes={
                r.key: Outcome(passed=r.passed, question=r.case.question or r.asked, problem=r.problem)
                for r in self.results
            },
        )


def load_run(path: Path) -> RunResult | RunSummary:
    """A run's JSON file, or a summary saved from one (a baseline)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and data.get("format") == SUMMARY_FORMAT:
        return RunSummary.model_validate(data)
    return RunResult.model_validate(data)


def save(run: RunResult | RunSummary, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.model_dump_json(indent=1), encoding="utf-8")
