"""Scoring answers against golden cases, and the aggregate numbers officials and CI read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import Answer
from evals.cases import Case
from evals.metrics import percentile


@dataclass(frozen=True)
class CaseScore:
    case_id: str
    should_refuse: bool
    refused: bool
    keywords_ok: bool
    """Answered (not refused) and every answer keyword is in the answer."""
    citation_ok: bool
    """A cited passage contains one of the case's evidence strings."""
    retrieved_ok: bool
    """A retrieved passage contains one of the case's evidence strings."""
    latency_ms: float


def score_answer(case: Case, answer: Answer, latency_ms: float) -> CaseScore:
    keywords = bool(case.answer_keywords) and all(k in answer.answer for k in case.answer_keywords)
    return CaseScore(
        case_id=case.id,
        should_refuse=case.should_refuse,
        refused=answer.refused,
        keywords_ok=not answer.refused and keywords,
        citation_ok=any(e in c.quote for c in answer.citations for e in case.evidence),
        retrieved_ok=any(e in p.text for p in answer.passages for e in case.evidence),
        latency_ms=latency_ms,
    )


@dataclass(frozen=True)
class Summary:
    cases: int
    keyword_accuracy: float
    """Over the cases that should be answered."""
    citation_correctness: float
    """Over the answerable cases that were answered."""
    retrieval_hit: float
    refusal_rate: float
    """Share of all cases refused."""
    refusal_precision: float
    refusal_recall: float
    latency_p50_ms: float
    latency_p95_ms: float


def summarize(scores: Sequence[CaseScore]) -> Summary:
    answerable = [s for s in scores if not s.should_refuse]
    answered = [s for s in answerable if not s.refused]
    refused = [s for s in scores if s.refused]
    to_refuse = [s for s in scores if s.should_refuse]
    return Summary(
        cases=len(scores),
        keyword_accuracy=sum(s.keywords_ok for s in answerable) / max(len(answerable), 1),
        citation_correctness=sum(s.citation_ok for s in answered) / max(len(answered), 1),
        retrieval_hit=sum(s.retrieved_ok for s in answerable) / max(len(answerable), 1),
        refusal_rate=len(refused) / max(len(scores), 1),
        refusal_precision=sum(s.should_refuse for s in refused) / len(refused) if refused else 1.0,
        refusal_recall=sum(s.refused for s in to_refuse) / len(to_refuse) if to_refuse else 1.0,
        latency_p50_ms=percentile([s.latency_ms for s in scores], 50),
        latency_p95_ms=percentile([s.latency_ms for s in scores], 95),
    )
