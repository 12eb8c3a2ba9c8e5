"""Answer quality of the extractive composer: the demo golden set and shared/data/domainrag.

Prints keyword accuracy (every answer keyword in the answer), refusal precision and recall, citation
correctness (a cited passage holds the evidence), retrieval hit@5 (one of the top 5 ranked passages holds
it) and latency. The cases are asked and scored by the evaluation harness (evals.runner, evals.metrics),
so these numbers are the ones `xiangyin eval run` reports for the same answers. The refusal threshold is
fitted by `--only confidence` (benchmarks/confidence.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from assistant.pipeline import Assistant
from benchmarks.report import table
from evals.cases import load_cases
from evals.results import RunInfo
from evals.runner import InProcessTarget, Runner
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from xiangyin.settings import Settings


def _assistant(home: Path, folder: Path) -> Assistant:
    settings = Settings(home=home)
    kb = KnowledgeBase(settings)
    ingest(kb, [folder])
    return Assistant(settings, knowledge_base=kb)


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
            info = RunInfo(
                cases_file=str(path), target="in-process", started_at=datetime.now(UTC).isoformat()
            )
            summary = Runner(InProcessTarget(assistant)).run(cases, info).summary
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
                summary.hit_at_5,
                summary.latency_p50_ms,
                summary.latency_p95_ms,
            )
        )
    say("\nExtractive composer (keyword accuracy over answerable cases, citation correctness over answered):")
    # A measure that applies to none of a set's cases (refusal recall on a set with nothing to refuse)
    # has no value, shown "-" as the harness's report does.
    shown = [tuple("-" if value is None else value for value in row) for row in rows]
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
            shown,
        )
    )
