"""Run golden cases through the in-process assistant."""

from __future__ import annotations

import time
from collections.abc import Sequence

from assistant.pipeline import Assistant
from evals.cases import Case
from evals.scoring import CaseScore, score_answer


def run_cases(assistant: Assistant, cases: Sequence[Case]) -> list[CaseScore]:
    scores = []
    for case in cases:
        started = time.perf_counter()
        answer = assistant.ask(case.question, history=case.turns())
        scores.append(score_answer(case, answer, (time.perf_counter() - started) * 1000))
    return scores
