"""Every measure on cases small enough to compute by hand."""

from __future__ import annotations

import pytest

from assistant.answer import Citation
from evals.cases import Case
from evals.metrics import (
    cer,
    char_f1,
    first_relevant_rank,
    hit_at,
    number_accuracy,
    percentile,
    reciprocal_rank,
    rouge_l,
    source_matches,
)
from evals.results import CaseResult, RetrievedPassage, RunInfo, RunResult, finish, summarize

EVIDENCE = "2025年农村低保标准为每人每月680元"
CASE = Case(
    id="dibao",
    question="低保每月多少钱？",
    answer="2025年低保标准是每人每月680元。",
    answer_keywords=["680元"],
    sources=["policy/dibao.txt"],
    evidence=[EVIDENCE],
    tags=["dibao", "amount"],
)
REFUSE = Case(id="oil", question="油茶补贴多少钱？", should_refuse=True, tags=["out_of_scope"])


def passage(text: str, source: str = "policy/other.md") -> RetrievedPassage:
    return RetrievedPassage(source=source, text=text)


def result(
    case: Case,
    answer: str = "",
    refused: bool = False,
    ranking: list[RetrievedPassage] | None = None,
    cited: list[str] | None = None,
    latency_ms: float = 10.0,
    sources_loaded: bool | None = True,
) -> CaseResult:
    citations = [
        Citation(number=n, chunk_id=f"c{n}", source="policy/dibao.txt", title="", section="", quote=q)
        for n, q in enumerate(cited or [], start=1)
    ]
    return finish(
        CaseResult(
            case=case,
            asked=case.question,
            answer=answer,
            refused=refused,
            ranking=ranking or [],
            citations=citations,
            latency_ms=latency_ms,
            sources_loaded=sources_loaded,
        )
    )


def test_ranks_hits_and_reciprocal_rank() -> None:
    assert first_relevant_rank([False, False, True, True]) == 3
    assert first_relevant_rank([False] * 3) is None
    assert (hit_at(3, 1), hit_at(3, 5), reciprocal_rank(3)) == (0.0, 1.0, pytest.approx(1 / 3))
    assert (hit_at(None, 5), reciprocal_rank(None), reciprocal_rank(11, 10), reciprocal_rank(1)) == (
        0,
        0,
        0,
        1,
    )


def test_source_paths_match_at_folder_boundaries() -> None:
    assert source_matches("corpus/p00001.txt", "p00001.txt")
    assert source_matches("policy/dibao.txt", "policy/dibao.txt")
    assert source_matches("dibao.txt", "county/policy/dibao.txt")
    assert not source_matches("corpus/p00001.txt", "p000001.txt")
    assert not source_matches("policy/dibao.txt", "handbook/dibao.txt")


def test_character_measures() -> None:
    # answer 每亩110元 (6 characters; marks and punctuation dropped), reference 补贴每亩110元 (8): 6 shared
    assert char_f1("每亩110元[1]。", "补贴每亩110元") == pytest.approx(2 * 1 * 0.75 / 1.75)
    assert char_f1("低保", "养老") == 0.0
    # longest common subsequence 每亩元 (3): precision 3/6, recall 3/9, F 0.4
    assert rouge_l("每亩110元", "补贴每亩一百一十元") == pytest.approx(0.4, abs=1e-6)
    assert rouge_l("每亩110元", "每亩110元") == pytest.approx(1.0, abs=1e-6)
    assert rouge_l("", "每亩110元") == 0.0


def test_number_accuracy_counts_the_reference_numbers() -> None:
    # reference numbers 110, 3, 1, 4, 15; the answer has 110, 3, 1
    assert number_accuracy("每亩110元，3月1日开始。", "每亩110元，3月1日至4月15日") == pytest.approx(0.6)
    assert number_accuracy("每亩一百一十元", "每亩110元") == 1.0  # Chinese numerals count
    assert number_accuracy("可以办理", "可以") is None  # nothing to count


def test_character_error_rate_and_percentile() -> None:
    assert cer([("新农合交多少钱？", "新萌和交多少钱")]) == pytest.approx(2 / 7)
    assert cer([("低保", "低保"), ("养老", "")]) == pytest.approx(2 / 4)
    assert percentile([30.0, 10.0, 20.0, 40.0], 50) == 30.0  # nearest rank: index round(1.5) = 2
    assert percentile([30.0, 10.0, 20.0, 40.0], 95) == 40.0
    assert percentile([], 50) == 0.0


def test_one_case_scored_and_diagnosed() -> None:
    good = result(
        CASE,
        answer="2025年农村低保标准为每人每月680元[1]。",
        ranking=[passage("无关"), passage(EVIDENCE + "，比上年提高30元。", "policy/dibao.txt")],
        cited=[EVIDENCE],
    )
    s = good.scores
    assert (s.hit_at_1, s.hit_at_5, s.reciprocal_rank) == (0.0, 1.0, 0.5)
    assert s.keywords_ok and s.citation_ok and s.number_accuracy == 1.0
    assert good.passed and good.problem is None

    # The evidence was retrieved, but the answer took the wrong sentence.
    wrong = result(CASE, answer="比上年提高30元[1]。", ranking=[passage(EVIDENCE)], cited=["比上年提高30元"])
    assert not wrong.scores.keywords_ok and wrong.scores.citation_ok is False
    assert wrong.scores.number_accuracy == 0.0  # 2025 and 680 missing
    assert wrong.problem == "answer_composition"

    refused = result(CASE, answer="文件里没有。", refused=True, ranking=[passage(EVIDENCE)])
    assert refused.problem == "wrongly_refused" and refused.scores.char_f1 == 0.0
    assert refused.scores.citation_ok is None  # nothing was cited: not a wrong citation

    missed = result(CASE, answer="不相关[1]。", ranking=[passage("无关")] * 6)
    assert missed.scores.hit_at_5 == 0.0 and missed.problem == "retrieval_miss"
    missing = result(CASE, answer="不相关[1]。", ranking=[passage("无关")], sources_loaded=False)
    assert missing.problem == "missing_document"

    answered = result(REFUSE, answer="油茶每亩补贴100元[1]。")
    assert not answered.passed and answered.problem == "should_refuse"
    assert answered.scores.hit_at_5 is None and answered.scores.keywords_ok is None

    errored = finish(CaseResult(case=CASE, asked=CASE.question, error="HTTP 500"))
    assert errored.problem == "error" and not errored.passed


def test_document_level_retrieval_without_evidence() -> None:
    case = CASE.model_copy(update={"evidence": [], "sources": ["corpus/p00002.txt"]})
    scored = result(case, answer="680元", ranking=[passage("a", "p00001.txt"), passage("b", "p00002.txt")])
    assert (scored.scores.hit_at_1, scored.scores.reciprocal_rank) == (0.0, 0.5)


def test_summary_overall_and_per_tag() -> None:
    other = CASE.model_copy(update={"id": "pension", "tags": ["pension"], "answer_keywords": ["200元"]})
    results = [
        # answered right: refusal not involved
        result(CASE, "每人每月680元[1]", ranking=[passage(EVIDENCE)], cited=[EVIDENCE], latency_ms=10),
        # refused although answerable (a false refusal)
        result(other, "没有", refused=True, ranking=[passage("无关"), passage(EVIDENCE)], latency_ms=20),
        # refused and should be (a true refusal)
        result(REFUSE, "没有", refused=True, latency_ms=30),
        # answered although it should be refused (a missed refusal)
        result(REFUSE.model_copy(update={"id": "visa"}), "签证…", latency_ms=40),
    ]
    s = summarize(results)
    assert (s.cases, s.passed, s.pass_rate) == (4, 2, 0.5)
    assert s.keyword_accuracy == 0.5  # over the two answerable cases
    assert (s.hit_at_1, s.hit_at_5, s.mrr_at_10) == (0.5, 1.0, 0.75)
    assert s.citation_correctness == 1.0  # only the answered answerable case counts
    assert (s.refusal_rate, s.refusal_precision, s.refusal_recall) == (0.5, 0.5, 0.5)
    assert (s.latency_p50_ms, s.latency_p95_ms) == (30.0, 40.0)
    assert s.problems == {"wrongly_refused": 1, "should_refuse": 1}

    run = RunResult.build(RunInfo(cases_file="x", target="in-process", started_at="now"), results)
    assert set(run.by_tag) == {"dibao", "amount", "pension", "out_of_scope"}
    assert (
        run.by_tag["out_of_scope"].refusal_recall == 0.5
        and run.by_tag["out_of_scope"].keyword_accuracy is None
    )
    assert run.by_tag["dibao"].pass_rate == 1.0 and run.spoken is None

    spoken = finish(results[0].model_copy(update={"mode": "spoken", "question_cer": 0.25}))
    with_voice = RunResult.build(run.info, [*results, spoken])
    assert with_voice.summary == s and with_voice.spoken is not None
    assert with_voice.spoken.question_cer == 0.25 and with_voice.spoken.cases == 1


def test_a_stored_run_can_be_scored_again() -> None:
    run = RunResult.build(
        RunInfo(cases_file="x", target="in-process", started_at="now"),
        [result(CASE, "每人每月680元[1]", ranking=[passage(EVIDENCE)], cited=[EVIDENCE])],
    )
    stored = RunResult.model_validate_json(run.model_dump_json())
    stored.results[0].scores.keywords_ok = False  # as an older version of the measures might have said
    stored.results[0].passed = False
    again = stored.rescore()
    assert again.results[0].passed and again.summary == run.summary
