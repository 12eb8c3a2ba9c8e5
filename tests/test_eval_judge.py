"""The optional LLM judge, with LangChain's fake chat model standing in for a remote model."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.answer import Citation
from evals.cases import Case
from evals.judge import Judge
from evals.results import CaseResult, RunInfo, RunResult, finish

CASE = Case(id="dibao", question="低保每月多少钱？", answer="每人每月680元。", answer_keywords=["680元"])


def answered(case: Case = CASE, refused: bool = False) -> CaseResult:
    quote = "2025年农村低保标准为每人每月680元"
    citation = Citation(
        number=1, chunk_id="c", source="policy/dibao.txt", title="低保", section="", quote=quote
    )
    return finish(
        CaseResult(
            case=case, asked=case.question, answer="每人每月680元[1]。", refused=refused, citations=[citation]
        )
    )


def test_verdicts_are_read_and_averaged(caplog: pytest.LogCaptureFixture) -> None:
    model = FakeListChatModel(
        responses=[
            '好的。{"faithfulness": 1, "correctness": 0.5, "reason": "金额一致，少了年份"}',
            '{"faithfulness": 0.5, "correctness": 0.9}',
            "我觉得不错",  # not a verdict
            '{"faithfulness": 7}',  # out of range
        ]
    )
    judge = Judge(model)
    first = judge.judge(answered())
    assert first is not None and (first.faithfulness, first.correctness) == (1.0, 0.5)
    assert first.reason == "金额一致，少了年份"
    no_reference = judge.judge(answered(CASE.model_copy(update={"answer": None})))
    assert no_reference is not None and no_reference.correctness is None  # nothing to agree with
    assert judge.judge(answered()) is None and judge.judge(answered()) is None
    assert "not a verdict" in caplog.text
    assert judge.judge(answered(refused=True)) is None  # refusals are not judged (no model call)

    results = [answered(), answered()]
    results[0].judge, results[1].judge = first, no_reference
    run = RunResult.build(RunInfo(cases_file="x", target="in-process", started_at="now"), results)
    assert run.summary.judge_faithfulness == 0.75 and run.summary.judge_correctness == 0.5
    assert run.rescore().results[0].judge == first  # re-scoring keeps the verdicts
