"""Answer quality of the extractive composer: the demo golden set and shared/data/domainrag.

Prints keyword accuracy (every answer keyword in the answer), refusal precision and recall, citation
correctness (a cited passage holds the evidence), retrieval hit (a retrieved passage holds it) and
latency; then the refusal-threshold sweep on the demo set that the defaults in settings come from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.pipeline import Assistant
from benchmarks.report import table
from evals.cases import Case, load_cases
from evals.golden import run_cases
from evals.scoring import score_answer, summarize
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from xiangyin.settings import Settings


@dataclass(frozen=True)
class _Features:
    should_refuse: bool
    keywords_ok: bool
    top_dense: float
    coverage: float
    unknown: bool


def _assistant(home: Path, folder: Path, **overrides: float) -> Assistant:
    settings = Settings(home=home).model_copy(update=overrides)
    kb = KnowledgeBase(settings)
    ingest(kb, [folder])
    return Assistant(settings, knowledge_base=kb)


def _features(assistant: Assistant, cases: Sequence[Case]) -> list[_Features]:
    rows = []
    for case in cases:
        answer = assistant.ask(case.question, history=case.turns())
        rows.append(
            _Features(
                case.should_refuse,
                score_answer(case, answer, 0).keywords_ok,
                max((p.dense_score or 0.0 for p in answer.passages), default=0.0),
                answer.coverage,
                bool(answer.unknown_terms),
            )
        )
    return rows


def sweep(rows: Sequence[_Features]) -> list[tuple[float, float, float, float, float]]:
    """(min dense, unknown-term coverage, refusal precision, refusal recall, keyword accuracy)."""
    results = []
    for dense in (0.0, 0.85, 0.86, 0.87, 0.88):
        for unknown in (0.0, 0.2, 0.3, 0.4, 0.5):
            refused = [r.top_dense < dense or (r.unknown and r.coverage < unknown) for r in rows]
            hits = sum(f and r.should_refuse for f, r in zip(refused, rows, strict=True))
            precision = hits / max(sum(refused), 1)
            recall = hits / max(sum(r.should_refuse for r in rows), 1)
            answerable = [(f, r) for f, r in zip(refused, rows, strict=True) if not r.should_refuse]
            accuracy = sum(not f and r.keywords_ok for f, r in answerable) / max(len(answerable), 1)
            results.append((dense, unknown, precision, recall, accuracy))
    return sorted(results, key=lambda r: (2 * r[2] * r[3] / max(r[2] + r[3], 1e-9)) + r[4], reverse=True)


def main(demo: Path, demo_cases: Path, domainrag: Path, results: Path, say: Callable[[str], None]) -> None:
    rows = []
    sets = [("demo golden set", demo, demo_cases, results / "demo-e5")]
    if (domainrag / "cases.jsonl").exists():
        sets.append(("domainrag", domainrag / "corpus", domainrag / "cases.jsonl", results / "domainrag-e5"))
    for name, folder, path, home in sets:
        say(f"answering the {name} (ingest into {home} first)...")
        assistant = _assistant(home, folder)
        try:
            cases = load_cases(path)
            started = time.perf_counter()
            summary = summarize(run_cases(assistant, cases))
            say(f"{name}: {len(cases)} cases in {time.perf_counter() - started:.0f} s")
        finally:
            assistant.close()
        rows.append(
            (
                name,
                summary.cases,
                summary.keyword_accuracy,
                summary.refusal_rate,
                summary.refusal_precision,
                summary.refusal_recall,
                summary.citation_correctness,
                summary.retrieval_hit,
                summary.latency_p50_ms,
                summary.latency_p95_ms,
            )
        )
    say("\nExtractive composer (keyword accuracy over answerable cases, citation correctness over answered):")
    say(
        table(
            [
                "set",
                "cases",
                "keyword acc",
                "refused",
                "refusal P",
                "refusal R",
                "citation ok",
                "retrieval hit@5",
                "p50 ms",
                "p95 ms",
            ],
            rows,
        )
    )

    assistant = _assistant(results / "demo-e5", demo, refusal_min_dense=0.0, refusal_unknown_coverage=0.0)
    try:
        features = _features(assistant, load_cases(demo_cases))
    finally:
        assistant.close()
    say("\nRefusal thresholds on the demo golden set (best 8 by refusal F1 + keyword accuracy):")
    say(
        table(
            ["min dense", "coverage if unknown term", "refusal P", "refusal R", "keyword acc"],
            sweep(features)[:8],
        )
    )
