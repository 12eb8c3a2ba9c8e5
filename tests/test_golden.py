"""The demo golden set as a regression check: a run of the evaluation harness may not fall more than a
little below the committed baseline (evals/baselines/demo.json), so a real regression fails and noise
does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cases import CaseFileError, load_cases
from evals.compare import compare, gate
from evals.results import load_run
from evals.runner import evaluate
from knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "evals" / "demo_cases.jsonl"


def test_golden_set_is_well_formed() -> None:
    cases = load_cases(CASES)
    assert len(cases) >= 80
    assert sum(c.should_refuse for c in cases) >= 15
    assert sum(bool(c.history) for c in cases) >= 10
    for case in cases:
        assert case.should_refuse == (not case.evidence)
        assert all(k in (case.answer or "") for k in case.answer_keywords)


def test_case_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "cases.jsonl"
    bad.write_text('{"id": "a", "question": "低保标准"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"cases.jsonl:2"):
        load_cases(bad)


@pytest.mark.slow
def test_golden_set_regression(demo_kb: KnowledgeBase) -> None:
    """The demo golden set through the evaluation harness, gated against the committed baseline
    (`make eval-baseline` writes a new one after an intended change)."""
    run = evaluate(CASES, demo_kb.settings, knowledge_base=demo_kb)
    comparison = compare(load_run(BASELINE), run)
    # Answer measures move by 1/88 per case; refusal measures by about 1/20, so they get more room.
    failures = gate(comparison, ANSWER_GATE, max_drop=0.03) + gate(comparison, REFUSAL_GATE, max_drop=0.08)
    regressed = [f"{c.key} {c.question} ({c.problem})" for c in comparison.regressed]
    assert not failures, "\n".join([*failures, "cases that used to pass:", *regressed])
    assert run.summary.cases == len(load_cases(CASES)) and run.summary.errors == 0


BASELINE = ROOT / "evals" / "baselines" / "demo.json"
ANSWER_GATE = ("keyword_accuracy", "number_accuracy", "hit_at_5", "mrr_at_10", "citation_correctness")
REFUSAL_GATE = ("refusal_precision", "refusal_recall")
