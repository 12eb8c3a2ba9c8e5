"""What an evaluation run produces: every case's answer, what was retrieved, its scores, and the
aggregates overall, per tag and for spoken questions. The JSON file holds everything needed to score a
run again (`rescore`) without asking the assistant anything."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.answer import Answer, Citation, Passage
from evals.cases import Case
from evals.metrics import MEASURES

RUN_FORMAT = "xiangyin-eval/1"
SUMMARY_FORMAT = "xiangyin-eval-summary/1"

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

    @classmethod
    def of(cls, p: Passage) -> RetrievedPassage:
        return cls(source=p.source, title=p.title, section=p.section, text=p.text, score=p.score)


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
    """The case's scores by every measure that keeps one (evals.metrics)."""
    return CaseScores.model_validate({m.kept_as: m.score(result) for m in MEASURES if m.kept_as})


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


METRICS: dict[str, str] = {m.name: m.label for m in MEASURES if m.shown}
"""The measures officials read, with their Chinese names, in the order reports show them."""

LOWER_IS_BETTER = {m.name for m in MEASURES if m.lower_is_better}


def summarize(results: Sequence[CaseResult]) -> Summary:
    problems: dict[str, int] = {}
    for r in results:
        if r.problem:
            problems[r.problem] = problems.get(r.problem, 0) + 1
    return Summary.model_validate(
        {
            "cases": len(results),
            "passed": sum(r.passed for r in results),
            **{m.name: m.summarize(results) for m in MEASURES},
            "errors": sum(1 for r in results if r.error),
            "problems": problems,
        }
    )


def result_of(
    case: Case,
    answer: Answer,
    *,
    mode: Mode = "typed",
    asked: str | None = None,
    ranking: Sequence[RetrievedPassage] | None = None,
    latency_ms: float = 0.0,
    question_cer: float | None = None,
    sources_loaded: bool | None = None,
) -> CaseResult:
    """An answer to a case, scored (`finish`). The retrieval measures read `ranking`; without one, the
    passages the answer was composed from (what a server returns) are the ranking."""
    passages = [RetrievedPassage.of(p) for p in answer.passages]
    return finish(
        CaseResult(
            case=case,
            mode=mode,
            asked=case.question if asked is None else asked,
            answer=answer.answer,
            refused=answer.refused,
            kind=answer.kind,
            standalone_question=answer.standalone_question,
            unknown_terms=answer.unknown_terms,
            confidence=answer.confidence,
            signals=answer.signals,
            citations=answer.citations,
            passages=passages,
            ranking=passages if ranking is None else list(ranking),
            question_cer=question_cer,
            sources_loaded=sources_loaded,
            latency_ms=round(latency_ms, 2),
        )
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
