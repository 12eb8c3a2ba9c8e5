"""One definition per measure (issue 17): the benchmarks and the evaluation harness score the same answer
the same way, through the metric objects of evals.metrics. These are the cases where the benchmarks'
old scoring (evals/scoring.py) and the harness disagreed."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer import Answer, Citation, Passage
from evals.cases import Case, HistoryTurn
from evals.metrics import BY_NAME, MEASURES
from evals.results import (
    LOWER_IS_BETTER,
    METRICS,
    CaseResult,
    CaseScores,
    RunInfo,
    Summary,
    finish,
    result_of,
    summarize,
)
from evals.runner import Reply, Runner, Trial

EVIDENCE = "2025年农村低保标准为每人每月680元"
DIBAO = Case(
    id="dibao",
    question="低保每月多少钱？",
    answer="每人每月680元。",
    answer_keywords=["680元"],
    sources=["policy/dibao.txt"],
    evidence=[EVIDENCE],
)
REFUSE = Case(id="visa", question="签证怎么办？", should_refuse=True)


def passage(text: str, source: str = "policy/dibao.txt") -> Passage:
    return Passage(chunk_id=f"{source}#{text[:4]}", source=source, title="", section="", text=text, score=0.9)


def answer(
    text: str, cited: Sequence[Passage] = (), passages: Sequence[Passage] = (), refused: bool = False
) -> Answer:
    citations = [
        Citation(number=n, chunk_id=p.chunk_id, source=p.source, title="", section="", quote=p.text)
        for n, p in enumerate(cited, start=1)
    ]
    return Answer(
        question="",
        standalone_question="",
        answer=text,
        speech=text,
        refused=refused,
        kind="refusal" if refused else "answer",
        citations=citations,
        passages=list(passages or cited),
        session_id="s",
    )


def test_every_measure_is_a_summary_field_and_keeps_its_score_in_a_case_field() -> None:
    assert {m.name for m in MEASURES} <= set(Summary.model_fields)
    kept = {m.kept_as for m in MEASURES if m.kept_as}
    assert kept == set(CaseScores.model_fields)
    assert list(METRICS) == [m.name for m in MEASURES if m.shown]
    assert METRICS["citation_correctness"] == "引用正确率" and "refusal_rate" not in METRICS
    assert {"question_cer", "latency_p50_ms", "latency_p95_ms"} == LOWER_IS_BETTER


def test_a_citation_is_right_when_the_cited_passage_holds_the_evidence() -> None:
    right = result_of(DIBAO, answer("每人每月680元[1]", [passage(EVIDENCE + "。")]))
    wrong = result_of(DIBAO, answer("每人每月680元[1]", [passage("2024年标准为650元。")]))
    assert right.scores.citation_ok is True and wrong.scores.citation_ok is False
    # A refusal cites nothing: its citation is neither right nor wrong; its keywords are wrong.
    refused = result_of(DIBAO, answer("文件里没有。", refused=True))
    assert refused.scores.citation_ok is None and refused.scores.keywords_ok is False


def test_without_evidence_a_citation_of_an_expected_document_is_right() -> None:
    """The benchmarks used to count every citation of a case without evidence wrong (citation
    correctness 0 on the demo set with its evidence left out, the harness .774)."""
    case = DIBAO.model_copy(update={"evidence": []})
    right = result_of(case, answer("每人每月680元[1]", [passage("每人每月680元。")]))
    elsewhere = result_of(case, answer("每人每月680元[1]", [passage("每人每月680元。", "faq/other.md")]))
    assert right.scores.citation_ok is True and elsewhere.scores.citation_ok is False
    assert right.scores.hit_at_1 == 1.0  # retrieval by the same rule: the ranking is the passages


def test_measures_that_do_not_apply_are_none_not_zero_or_one() -> None:
    """The benchmarks scored an answerable case without keywords as wrong, and gave refusal precision
    and recall 1.0 to sets with nothing refused or nothing to refuse."""
    no_keywords = DIBAO.model_copy(update={"id": "open", "answer_keywords": []})
    results = [
        result_of(DIBAO, answer("每人每月680元[1]", [passage(EVIDENCE)])),
        result_of(no_keywords, answer("每人每月680元[1]", [passage(EVIDENCE)])),
    ]
    s = summarize(results)
    assert s.keyword_accuracy == 1.0  # over the one case with keywords
    assert s.refusal_precision is None and s.refusal_recall is None and s.refusal_rate == 0.0
    assert s.citation_correctness == 1.0 and s.hit_at_5 == 1.0

    only_refusals = summarize([result_of(REFUSE, answer("文件里没有。", refused=True))])
    assert only_refusals.keyword_accuracy is None and only_refusals.citation_correctness is None
    assert (only_refusals.refusal_precision, only_refusals.refusal_recall) == (1.0, 1.0)


def test_an_error_counts_against_the_pass_rate_only() -> None:
    errored = finish(CaseResult(case=DIBAO, asked=DIBAO.question, error="HTTP 500"))
    ok = result_of(DIBAO, answer("每人每月680元[1]", [passage(EVIDENCE)]), latency_ms=12.0)
    s = summarize([ok, errored])
    assert (s.cases, s.passed, s.pass_rate, s.errors) == (2, 1, 0.5, 1)
    assert s.keyword_accuracy == 1.0 and s.citation_correctness == 1.0 and s.latency_p50_ms == 12.0
    assert BY_NAME["pass_rate"].summarize([ok, errored]) == 0.5


class _Fixed:
    """A target that gives the same answer to everything, its ranking the answer's passages."""

    description = "fixed"
    parallel = False

    def __init__(self, reply: Answer) -> None:
        self.reply = reply

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply:
        return Reply(self.reply, [], 5.0)

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        return None


def test_the_harness_and_a_benchmark_score_the_same_answer_alike() -> None:
    """A benchmark scores the answers it got (result_of); the harness's runner builds its results with
    the same function, so only the ranking each was given can differ."""
    given = answer("每人每月680元[1]", [passage("2024年标准为650元。")], [passage(EVIDENCE)])
    harness = Runner(_Fixed(given)).run_one(Trial(DIBAO, "typed"))
    bench = result_of(DIBAO, given, ranking=[], latency_ms=5.0)
    assert harness.scores == bench.scores and harness.passed == bench.passed
    assert harness.scores.citation_ok is False  # cited the 2024 passage, not the evidence
    info = RunInfo(cases_file="x", target="fixed", started_at="now")
    run = Runner(_Fixed(given)).run([DIBAO, REFUSE], info)
    assert run.summary == summarize([bench, result_of(REFUSE, given, ranking=[], latency_ms=5.0)])
