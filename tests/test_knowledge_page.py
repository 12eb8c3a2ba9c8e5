"""Issue 19 in the browser: an official manages the knowledge base on /admin, in Debian's Chromium
through a real server. Two files uploaded at once (GBK text and a Word file with a table) are followed to
the end, the table is read as the assistant reads it, a region and validity correction changes what a
region-filtered question finds and what the assistant answers, a deleted document's answers go, and a
corrupt PDF dropped on the page shows why it was refused. Screenshots at phone and desktop width go to
tests/output/knowledge/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest
from langchain_core.embeddings import Embeddings
from playwright.sync_api import Page, expect, sync_playwright
from pydantic import SecretStr

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from tests.corpus import write_corpus
from tests.live_server import live_server
from tests.web import CHROMIUM, screenshot_folder
from xiangyin.settings import Settings

pytestmark = pytest.mark.slow

TOKEN = "village-admin-page19"
SLOW_MS = 240_000
POTATO = """青溪县红薯种植补贴办法

第一条 本县农户连片种植红薯五亩以上的，县财政给予种植补贴，每亩补贴80元。

第二条 农户在每年6月30日前向村委会报名，由乡镇农业站核实面积。
"""
POTATO_QUESTION = "种红薯每亩补贴多少钱？"
DRONE_QUESTION = "植保无人机喷洒一亩地多少钱？"


def drone_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("青溪县植保无人机服务手册", level=1)
    document.add_heading("一、服务内容", level=2)
    document.add_paragraph("县农机合作社提供植保无人机喷洒服务，农户提前三天预约。")
    document.add_heading("二、收费标准", level=2)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("作物", "喷洒价格", "最少面积"), ("水稻", "每亩12元", "10亩"), ("小麦", "每亩10元", "20亩")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[str]:
    root = tmp_path_factory.mktemp("knowledge-page")
    settings = Settings(
        home=root / "home",
        admin_token=SecretStr(TOKEN),
        tts_engines=["espeak-ng"],
        rate_limit="1000/minute",
        whisper_model_path=root / "no-whisper",
        expired_documents="exclude",
    )
    kb = KnowledgeBase(settings, embeddings)
    ingest(kb, [write_corpus(root / "docs")])
    assistant = Assistant(settings, knowledge_base=kb, sessions=SessionStore(settings.home / "s.sqlite3"))
    services = Services(settings, assistant)
    with live_server(create_app(settings, services)) as url:
        assert services.wait_loaded(600)
        yield url
    kb.close()


def ask(url: str, question: str) -> dict[str, Any]:
    response = httpx.post(url + "/api/v1/chat", json={"message": question}, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def region_search(page: Page, question: str, region: str) -> None:
    page.fill("#search-question", question)
    page.fill("#search-region", region)
    page.click("#search-button")
    expect(page.locator("#search-button")).to_be_enabled()


def save_metadata(page: Page) -> None:
    page.click("#save-meta")
    expect(page.locator("#meta-status")).to_contain_text("已保存，助手已经按新的信息回答", timeout=SLOW_MS)


def test_an_official_uploads_reads_corrects_and_deletes_documents(server: str, tmp_path: Path) -> None:
    shots = screenshot_folder("knowledge")
    potato = tmp_path / "红薯补贴.txt"
    potato.write_bytes(POTATO.encode("gbk"))
    drone = drone_docx(tmp_path / "drone.docx")
    assert "80元" not in ask(server, POTATO_QUESTION)["answer"]

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            context.set_default_timeout(30_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(server + "/admin")
            page.wait_for_selector("body[data-ready=true]")
            page.fill("#token", TOKEN)
            page.click("#sign-in-button")
            expect(page.locator("#workspace")).to_be_visible()
            expect(page.locator("#doc-list li[data-source='policy/grain.md']")).to_be_visible()

            # Two files at once through the file picker; each is followed to the end.
            page.set_input_files("#file-input", [str(potato), str(drone)])
            uploads = page.locator("#upload-list li")
            expect(uploads).to_have_count(2)
            for name in ("红薯补贴.txt", "drone.docx"):
                row = page.locator(f"#upload-list li[data-name='{name}']")
                expect(row).to_have_attribute("data-state", "done", timeout=SLOW_MS)
                expect(row).to_contain_text("已收录")
            potato_row = page.locator("#doc-list li[data-source='红薯补贴.txt']")
            expect(potato_row).to_have_attribute("data-status", "indexed")
            expect(potato_row).to_contain_text("青溪县红薯种植补贴办法")
            expect(potato_row).to_contain_text("段")
            page.screenshot(path=shots / "phone-uploaded.png", full_page=True)
            assert "80元" in ask(server, POTATO_QUESTION)["answer"]

            # Search by name, then what the assistant reads of the Word file: the table as its rows.
            page.fill("#doc-search", "drone")
            expect(page.locator("#doc-list li")).to_have_count(1)
            page.locator("#doc-list li[data-source='drone.docx'] .open-doc").click()
            expect(page.locator("#doc-panel")).to_be_visible()
            chunks = page.locator("#chunk-list")
            expect(chunks).to_contain_text("二、收费标准")
            expect(chunks.locator(".table-row").first).to_contain_text("作物：水稻")
            expect(chunks.locator(".table-row").first).to_contain_text("喷洒价格：每亩12元")
            page.screenshot(path=shots / "phone-chunks.png", full_page=True)
            page.fill("#doc-search", "")

            # A region correction: a question filtered to 青溪县 no longer finds the document.
            region_search(page, POTATO_QUESTION, "江南省青溪县")
            expect(page.locator("#search-results li").first).to_have_attribute("data-source", "红薯补贴.txt")
            page.locator("#doc-list li[data-source='红薯补贴.txt'] .open-doc").click()
            # The Word file's panel is still open: its form is refilled when this document arrives.
            expect(page.locator("#doc-panel-title")).to_contain_text("红薯种植补贴")
            page.fill("#meta-region", "江北省白沙县")
            save_metadata(page)
            expect(page.locator("#meta-form .changed[data-field='region']")).to_be_visible(timeout=SLOW_MS)
            expect(potato_row).to_contain_text("地区：江北省白沙县")
            region_search(page, POTATO_QUESTION, "江南省青溪县")
            expect(page.locator("#search-results li[data-source='红薯补贴.txt']")).to_have_count(0)
            region_search(page, POTATO_QUESTION, "江北省白沙县")
            expect(page.locator("#search-results li").first).to_have_attribute("data-source", "红薯补贴.txt")

            # Validity: expired, marked, and no longer answered from.
            page.fill("#meta-from", "2020-01-01")
            page.fill("#meta-to", "2020-12-31")
            save_metadata(page)
            expect(potato_row.locator(".badge.expired")).to_be_visible()
            expired = ask(server, POTATO_QUESTION)
            assert expired["refused"] and "80元" not in expired["answer"], expired["answer"]
            assert "已经过期" in expired["answer"] and "新的文件" in expired["answer"]

            # Deleting the Word file (after the confirmation) takes its answers away.
            assert "12元" in ask(server, DRONE_QUESTION)["answer"]
            page.locator("#doc-list li[data-source='drone.docx'] .delete-doc").click()
            expect(page.locator("#doc-list li[data-source='drone.docx']")).to_have_count(0)
            gone = ask(server, DRONE_QUESTION)
            assert "drone.docx" not in {c["source"] for c in gone["citations"]}
            assert "12元" not in gone["answer"]

            # A corrupt PDF dropped on the page shows why it was refused.
            page.evaluate(
                """() => {
                    const data = new DataTransfer();
                    data.items.add(new File(["%PDF-1.7\\n这不是真的PDF" + "0".repeat(4000)], "坏文件.pdf",
                                            { type: "application/pdf" }));
                    document.getElementById("drop-zone").dispatchEvent(
                        new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
                }"""
            )
            broken = page.locator("#upload-list li[data-name='坏文件.pdf']")
            expect(broken).to_have_attribute("data-state", "failed", timeout=SLOW_MS)
            expect(broken).to_contain_text("没有收录")
            refused = page.locator("#doc-list li[data-source='坏文件.pdf']")
            expect(refused).to_have_attribute("data-status", "refused")
            expect(refused.locator(".doc-reason")).to_contain_text("原因")
            page.screenshot(path=shots / "phone.png", full_page=True)

            page.set_viewport_size({"width": 1366, "height": 900})
            page.locator("#doc-list li[data-source='红薯补贴.txt'] .open-doc").click()
            expect(page.locator("#doc-panel")).to_be_visible()
            page.screenshot(path=shots / "desktop.png", full_page=True)
            assert errors == [], errors
        finally:
            browser.close()
