"""The report officials read, rendered by a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from typer.testing import CliRunner

from assistant.answer import Citation
from evals.cases import Case
from evals.report import render_report
from evals.results import CaseResult, RetrievedPassage, RunInfo, RunResult, finish, save
from tests.web import CHROMIUM
from xiangyin.cli import app

EVIDENCE = "2025年农村低保标准为每人每月680元"


def _result(case: Case, answer: str, refused: bool = False, **extra: object) -> CaseResult:
    ranking = [
        RetrievedPassage(
            source="policy/pension.txt", title="养老保险", section="缴费", text="个人缴费分为七个档次。"
        ),
        RetrievedPassage(source="policy/dibao.txt", title="低保标准", section="", text=EVIDENCE + "。"),
    ]
    cited = [
        Citation(
            number=1, chunk_id="x", source="policy/dibao.txt", title="低保标准", section="", quote=EVIDENCE
        )
    ]
    fields: dict[str, object] = {
        "case": case,
        "asked": case.question,
        "answer": answer,
        "refused": refused,
        "ranking": ranking,
        "citations": [] if refused else cited,
        "latency_ms": 20.0,
        "sources_loaded": True,
    }
    return finish(CaseResult.model_validate(fields | extra))


def sample_run() -> RunResult:
    dibao = Case(
        id="dibao",
        question="低保每月多少钱？",
        answer="每人每月680元。",
        answer_keywords=["680元"],
        sources=["policy/dibao.txt"],
        evidence=[EVIDENCE],
        tags=["dibao", "amount"],
    )
    results = [
        _result(dibao, "2025年农村低保标准为每人每月680元[1]。"),
        # Answer text with markup must be shown as text, never run.
        _result(
            dibao.model_copy(update={"id": "dibao-2", "question": "低保标准<b>多少</b>？"}),
            "<script>alert(1)</script>比上年提高30元[1]。",
        ),
        _result(dibao.model_copy(update={"id": "dibao-3"}), "文件里没有。", refused=True),
        _result(
            Case(
                id="forest",
                question="林权证到哪里办？",
                answer_keywords=["林业站"],
                sources=["policy/forest.md"],
            ),
            "文件里没有。",
            refused=True,
            sources_loaded=False,
            unknown_terms=["林权证"],
        ),
        _result(
            Case(id="oil", question="油茶补贴多少钱？", should_refuse=True, tags=["out_of_scope"]),
            "每亩100元[1]。",
        ),
        _result(
            dibao.model_copy(update={"id": "dibao-voice", "audio": "a.wav"}),
            "2025年农村低保标准为每人每月680元[1]。",
            mode="spoken",
            asked="低保每月多少钱",
            question_cer=0.0,
        ),
    ]
    info = RunInfo(
        cases_file="cases.jsonl",
        target="in-process",
        knowledge="demo",
        started_at="2026-11-28T23:00:00+00:00",
    )
    return RunResult.build(info, results)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


def open_report(browser: Browser, path: Path) -> tuple[Page, list[str]]:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    return page, requests


@pytest.mark.slow
def test_report_shows_its_sections_in_a_real_browser(browser: Browser, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_report(sample_run()), encoding="utf-8")
    page, requests = open_report(browser, path)
    assert requests == [path.as_uri()]  # self-contained: nothing else is fetched
    assert page.title() == "乡音问答评测报告"

    headline = page.locator("#headline")
    assert headline.locator("h2").inner_text() == "总体情况"
    assert "共 5 个问题，答对 1 个（20.0%）" in headline.inner_text()
    assert page.locator('#headline [data-metric="keyword_accuracy"] .value').inner_text() == "25.0%"

    # One chart per tag, drawn as inline SVG with real size.
    tags = page.locator("#by-tag .tag")
    assert tags.count() == 3
    assert page.locator('#by-tag [data-tag="dibao"] svg rect').count() == 6
    box = page.locator('#by-tag [data-tag="dibao"] svg').bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    assert "该拒答的0%" in (page.locator('#by-tag [data-tag="out_of_scope"] svg').text_content() or "")

    fix = page.locator("#fix")
    assert fix.locator('[data-problem="missing_document"]').inner_text().startswith("缺少文档")
    assert "林权证" in fix.locator('[data-problem="missing_document"]').inner_text()
    link = fix.locator('[data-problem="missing_document"] a')
    assert link.inner_text() == "forest" and link.get_attribute("href") == "#case-forest/typed"
    link.click()
    assert page.url.endswith("#case-forest/typed")
    assert fix.locator('[data-problem="answer_composition"]').count() == 1
    assert fix.locator('[data-problem="wrongly_refused"]').count() == 1
    assert fix.locator('[data-problem="should_refuse"]').count() == 1

    failures = page.locator("#failures .case")
    assert failures.count() == 4
    composed = page.locator('[id="case-dibao-2/typed"]')
    assert "<script>alert(1)</script>比上年提高30元" in composed.inner_text()  # shown, not run
    assert composed.locator(".missing").inner_text() == "680元"
    assert composed.locator(".passages li.hit").count() == 1  # the passage with the evidence is marked
    assert composed.locator(".passages li.hit mark").inner_text() == EVIDENCE

    spoken = page.locator("#spoken")
    assert spoken.is_visible() and "语音识别字错率 0.0%" in spoken.inner_text()
    assert page.locator("#glossary").is_visible()


@pytest.mark.slow
def test_report_command_renders_a_stored_run(browser: Browser, tmp_path: Path) -> None:
    save(sample_run(), tmp_path / "result.json")
    result = CliRunner().invoke(app, ["eval", "report", str(tmp_path / "result.json"), "--rescore"])
    assert result.exit_code == 0, result.output
    page, _ = open_report(browser, tmp_path / "result.html")
    assert page.locator("#failures .case").count() == 4
