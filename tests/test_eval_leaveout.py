"""Leave-one-out negatives on a corpus the tests write: a case answered with its document present is
asked again with the document removed from a copy of the evaluation knowledge base, which is left as it
was; through `xiangyin eval leave-one-out` too."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from typer.testing import CliRunner

from assistant.answer import Citation
from evals.cases import Case
from evals.leaveout import TAG, LeaveOneOutRun, leave_one_out, negative, still_answered
from evals.results import CaseResult, RunResult, load_run
from evals.runner import evaluate, knowledge_home
from knowledge.base import KnowledgeBase
from tests.corpus import write_corpus
from xiangyin.cli import app
from xiangyin.settings import Settings

CASES = [
    {
        "id": "grain",
        "question": "种粮补贴每亩多少钱？",
        "answer_keywords": ["120元"],
        "sources": ["docs/policy/grain.md"],
        "evidence": ["补贴标准为每亩120元"],
        "tags": ["grain"],
    },
    {
        "id": "grain-date",
        "question": "耕地地力保护补贴什么时候发到农户账户？",
        "answer_keywords": ["6月30日"],
        "sources": ["docs/policy/grain.md"],
        "evidence": ["在每年6月30日前发放到农户账户"],
        "tags": ["grain"],
    },
    {
        "id": "dibao",
        "question": "低保每个月多少钱？",
        "answer_keywords": ["680元"],
        "sources": ["docs/policy/dibao.txt"],
        "evidence": ["2025年农村低保标准为每人每月680元"],
        "tags": ["dibao"],
    },
    {
        "id": "pension-followup",
        "history": [{"role": "user", "content": "城乡居民养老保险怎么交？"}],
        "question": "那领养老金要什么条件？",
        "answer_keywords": ["60周岁"],
        "sources": ["docs/policy/pension.txt"],
        "evidence": ["年满60周岁、累计缴费满15年的参保人"],
        "tags": ["pension", "followup"],
    },
    {
        "id": "medical",
        "question": "城乡居民医保个人一年交多少钱？",
        "answer_keywords": ["400元"],
        "sources": ["docs/policy/medical.md"],
        "evidence": ["2025年度个人缴费标准为每人每年400元"],
        "tags": ["medical"],
    },
    {  # the evidence is in another document too, which is removed as well
        "id": "dibao-where",
        "question": "低保到哪里申请？",
        "sources": ["docs/policy/dibao.txt"],
        "evidence": ["乡镇人民政府"],
    },
    # Not negatives: the document was never loaded, no document is named, or the case should be refused
    # anyway.
    {"id": "forest", "question": "林权证到哪里办理？", "sources": ["docs/policy/forest.md"]},
    {"id": "no-sources", "question": "医保一年交多少钱？", "answer_keywords": ["400元"]},
    {"id": "next-year", "question": "2030年的低保标准是多少？", "should_refuse": True},
]


MEDICAL_FAQ = """青溪县城乡居民医保缴费问答
问：城乡居民医保个人一年要交多少？
答：每人每年交400元，村里可以代收。
"""


@dataclass
class Workspace:
    root: Path
    cases: Path
    docs: Path
    settings: Settings

    @property
    def cached_home(self) -> Path:
        return knowledge_home(self.settings, self.docs)


def _snapshot(home: Path, embeddings: Embeddings) -> tuple[list[str], int, int]:
    kb = KnowledgeBase(Settings(home=home), embeddings)
    try:
        return [d.source for d in kb.documents()], kb.catalog.chunk_count(), kb.vectors.count()
    finally:
        kb.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("leaveout")
    docs = write_corpus(root / "docs")
    # The medical fact again, in other words: without medical.md the question is still answerable.
    (docs / "policy" / "medical-faq.txt").write_text(MEDICAL_FAQ, encoding="utf-8")
    cases = root / "cases.jsonl"
    cases.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CASES), encoding="utf-8")
    return Workspace(root, cases, docs, Settings(home=root / "home"))


@pytest.fixture(scope="module")
def answered(workspace: Workspace) -> RunResult:
    """The ordinary run, with every document present (it also builds the cached evaluation home)."""
    return evaluate(workspace.cases, workspace.settings, knowledge=workspace.docs)


@pytest.fixture(scope="module")
def left_out(workspace: Workspace, answered: RunResult, embeddings: Embeddings) -> LeaveOneOutRun:
    before = _snapshot(workspace.cached_home, embeddings)
    scratch = workspace.root / "scratch"
    scratch.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        result = leave_one_out(workspace.cases, workspace.settings, workspace.docs)
    assert not any(scratch.iterdir())  # every copy was deleted
    assert _snapshot(workspace.cached_home, embeddings) == before  # the cached home was only read
    return result


@pytest.mark.slow
def test_answered_cases_become_negatives(
    workspace: Workspace, answered: RunResult, left_out: LeaveOneOutRun
) -> None:
    present = {r.case.id: r for r in answered.results}
    assert present["grain"].passed and "120元" in present["grain"].answer
    assert present["dibao"].passed and "680元" in present["dibao"].answer

    run = left_out.run
    by_id = {r.case.id: r for r in run.results}
    assert list(by_id) == [
        "grain-loo",
        "grain-date-loo",
        "dibao-loo",
        "pension-followup-loo",
        "medical-loo",
        "dibao-where-loo",
    ]
    # The two grain cases share one copy; the medical case, answered again from the FAQ restating its
    # fact, is asked a second time without the FAQ too.
    assert (left_out.copies, left_out.asked) == (6, 7)
    removed = {
        "grain-loo": ["policy/grain.md"],
        "dibao-loo": ["policy/dibao.txt"],
        "medical-loo": ["policy/medical-faq.txt", "policy/medical.md"],
        "dibao-where-loo": ["policy/dibao.txt", "policy/homestead.html"],
    }
    for key, sources in removed.items():
        result = by_id[key]
        case = result.case
        assert case.should_refuse and case.tags[0] == TAG and not case.answer_keywords
        assert case.sources == sources and result.sources_loaded is False and result.error is None
        # Truly gone: neither retrieval nor the answer can reach a removed document.
        assert result.ranking and all(p.source not in sources for p in result.ranking)
        assert all(c.source not in sources for c in result.citations)
        assert result.passed == result.refused
    assert by_id["grain-loo"].refused, by_id["grain-loo"].answer
    assert by_id["dibao-loo"].refused, by_id["dibao-loo"].answer
    assert by_id["medical-loo"].refused, by_id["medical-loo"].answer
    assert "养老" in by_id["pension-followup-loo"].standalone_question  # the history was replayed

    assert run.summary.cases == 6 and run.summary.refusal_recall == pytest.approx(run.summary.pass_rate)
    assert set(run.by_tag) >= {TAG, "grain", "dibao", "pension"}
    assert run.info.knowledge == str(workspace.docs) and run.info.duration_s > 0

    skipped = {s.case.id: s.reason for s in left_out.skipped}
    assert set(skipped) == {"forest", "no-sources"}
    assert "forest.md" in skipped["forest"]


@pytest.mark.slow
def test_a_case_still_restated_after_its_rounds_is_skipped(
    workspace: Workspace, left_out: LeaveOneOutRun
) -> None:
    once = leave_one_out(workspace.cases, workspace.settings, workspace.docs, rounds=0)
    skipped = {s.case.id: s.reason for s in once.skipped}
    assert set(skipped) == {"forest", "no-sources", "medical"}
    assert "policy/medical-faq.txt" in skipped["medical"]  # answered again, from the restated fact
    assert "medical-loo" not in [r.case.id for r in once.run.results]
    assert (once.copies, once.asked) == (5, 6)


@pytest.mark.slow
def test_a_resumed_run_asks_nothing_again(workspace: Workspace, left_out: LeaveOneOutRun) -> None:
    partial = workspace.root / "partial.jsonl"
    kept = [r.model_copy(update={"answer": "上次保留的回答"}) for r in left_out.run.results]
    partial.write_text("".join(r.model_dump_json() + "\n" for r in kept), encoding="utf-8")
    resumed = leave_one_out(workspace.cases, workspace.settings, workspace.docs, partial=partial)
    # Only the medical case's first round, which the partial file does not hold (its second is there).
    assert (resumed.copies, resumed.asked) == (1, 1)
    assert [r.answer for r in resumed.run.results] == ["上次保留的回答"] * 6


@pytest.mark.slow
def test_the_command_writes_a_run_the_report_reads(workspace: Workspace, left_out: LeaveOneOutRun) -> None:
    out = workspace.root / "out"
    args = ["--home", str(workspace.settings.home), "eval", "leave-one-out"]
    args += ["--cases", str(workspace.cases), "--kb", str(workspace.docs), "--out", str(out), "--limit", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "拒答召回率" in result.stdout and "复制知识库 1 次" in result.stdout
    assert (out / "report.html").exists() and not (out / "partial.jsonl").exists()
    run = load_run(out / "result.json")
    assert isinstance(run, RunResult)
    assert [r.case.id for r in run.results] == ["grain-loo", "grain-date-loo"]

    report = CliRunner().invoke(app, ["eval", "report", str(out / "result.json")])
    assert report.exit_code == 0, report.output
    assert (out / "result.html").exists()


@pytest.mark.slow
def test_the_command_fails_below_its_baseline(workspace: Workspace, left_out: LeaveOneOutRun) -> None:
    out, summary = workspace.root / "gated", workspace.root / "baseline.json"
    args = ["--home", str(workspace.settings.home), "eval", "leave-one-out"]
    args += ["--cases", str(workspace.cases), "--kb", str(workspace.docs), "--out", str(out)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    saved = CliRunner().invoke(app, ["eval", "baseline", str(out / "result.json"), str(summary)])
    assert saved.exit_code == 0, saved.output

    again = CliRunner().invoke(app, [*args, "--fresh", "--baseline", str(summary)])
    assert again.exit_code == 0, again.output
    assert "对比" in again.stdout and "变差（之前通过，现在未通过）：0 个" in again.stdout
    # Every negative here is refused, so no run can fall below this baseline; the gate is the run
    # command's (tests/test_golden.py fails a real regression): here it must be reached at all.
    assert left_out.run.summary.refusal_recall == 1.0
    wrong = CliRunner().invoke(app, [*args, "--fresh", "--baseline", str(summary), "--metric", "recall"])
    assert wrong.exit_code == 2 and "unknown metric" in wrong.output


def test_an_answer_citing_the_original_keywords_is_no_negative() -> None:
    original = Case(id="c", question="低保多少钱？", answer_keywords=["880元", "每月"], sources=["a.md"])

    def answered(*quotes: str, refused: bool = False) -> CaseResult:
        citations = [
            Citation(number=n, chunk_id=f"x{n}", source=f"doc{n}.md", title="", section="", quote=q)
            for n, q in enumerate(quotes, start=1)
        ]
        return CaseResult(
            case=negative(original, ["a.md"]), asked="低保多少钱？", refused=refused, citations=citations
        )

    assert still_answered(answered("每人每月880元", "无关的段落"), original) == ["doc1.md"]
    assert still_answered(answered("标准880元", "每月10日前发放"), original) == ["doc1.md", "doc2.md"]
    assert still_answered(answered("每月10日前发放"), original) == []  # half of the fact only
    listed = original.model_copy(update={"answer_keywords": ["英语", "法语", "德语"]})
    assert still_answered(answered("英语、法语三语教学", "德国"), listed) == ["doc1.md"]  # most of a list
    assert still_answered(answered("只招收英语"), listed) == []
    verdict = original.model_copy(update={"answer_keywords": ["是", "可以"]})
    assert still_answered(answered("是的，可以申请"), verdict) == []  # a yes/no case's keywords tell nothing
    assert still_answered(answered("每人每月880元", refused=True), original) == []
    # A one-digit keyword tells nothing; the reference answer's figure with its unit does.
    counted = original.model_copy(update={"answer_keywords": ["9"], "answer": "9个 / 9"})
    assert still_answered(answered("A+（9个）：理论经济学、应用经济学"), counted) == ["doc1.md"]
    assert still_answered(answered("学校14个一流学科入选，9位院士"), counted) == []
    assert (
        still_answered(answered("每人每月880元"), original.model_copy(update={"answer_keywords": []})) == []
    )


def test_an_answer_quoting_a_copy_of_the_evidence_is_no_negative() -> None:
    """A yes/no case's 可以 tells nothing; an answer quoting its evidence in other punctuation or with a
    word changed, or cut by a chunk's edge, still draws on the fact. Another year's notice, the same
    sentence with other figures, does not."""
    yes_no = Case(
        id="c",
        question="国家专项计划录取的新生可以自行决定是否迁户口吗？",
        answer_keywords=["可以"],
        evidence=['按国家专项生计划和"圆梦计划"录取的新生可自行决定入学时是否迁转户口。'],
        sources=["a.md"],
    )
    dated = Case(
        id="d",
        question="2020年保送生网上报名到几号？",
        answer_keywords=["12月21日"],
        evidence=["（一）网上报名：即日起至2020年12月21日11:00"],
        sources=["a.md"],
    )

    def answered(case: Case, quote: str) -> CaseResult:
        citation = Citation(number=1, chunk_id="x", source="doc1.md", title="", section="", quote=quote)
        return CaseResult(case=negative(case, ["a.md"]), asked=case.question, citations=[citation])

    copy = "“圆梦计划”和国家专项生计划录取的新生可自行决定入学时是否迁转户口[3]。"
    assert still_answered(answered(yes_no, copy), yes_no) == ["doc1.md"]
    assert still_answered(answered(yes_no, "国家专项计划录取的学生可以转专业。"), yes_no) == []
    assert still_answered(answered(dated, "网上报名：即日起至2020年1月2日11:00"), dated) == []
    # A chunk cut inside the evidence: its line is the evidence's end, or its beginning with its figures.
    cut = "日期：2022-05-24\n新生可自行决定入学时是否迁转户口。\n6.\n“圆梦计划”录取的新生在校的学习生活是否有不同？"
    assert still_answered(answered(yes_no, cut), yes_no) == ["doc1.md"]
    assert still_answered(answered(dated, "其他事项见下。\n（一）网上报名：即日起至2020年12"), dated) == []
    assert still_answered(answered(yes_no, "入学时是否迁转户口。"), yes_no) == []  # too short to tell
