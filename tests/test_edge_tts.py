"""edge-tts against a local service speaking its protocol (tests/edge_service.py): the real library, the
real WebSocket exchange and real MP3 audio; only the service's address is replaced."""

from __future__ import annotations

from collections.abc import Iterator

import edge_tts.communicate
import numpy as np
import pytest

from tests.edge_service import SECONDS_PER_CHAR, TONE_HZ, FakeEdgeService
from voice.audio import SAMPLE_RATE, Samples
from voice.engines.edge import EdgeEngine
from voice.engines.espeak import EspeakEngine
from voice.tts import Synthesizer


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEdgeService]:
    with FakeEdgeService(hang_on="卡住") as fake:
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", fake.url)
        yield fake


def _dominant_hz(samples: Samples) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def test_the_answer_is_spoken_by_the_online_voice(service: FakeEdgeService) -> None:
    synthesizer = Synthesizer([EdgeEngine("zh-CN-XiaoxiaoNeural", timeout_s=10)], rate=0.8)
    speech = synthesizer.synthesize("低保标准每人每月880元。")

    assert speech.engine == "edge-tts" and not speech.failed
    (request,) = service.requests
    # The text is normalised for speech before it is sent; the voice and the slower rate go with it.
    assert request.text == "低保标准每人每月八百八十元。"
    assert request.voice == "Microsoft Server Speech Text to Speech Voice (zh-CN, XiaoxiaoNeural)"
    assert request.rate == "-20%"
    assert request.output_format == "audio-24khz-48kbitrate-mono-mp3"
    assert {"ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version"} <= set(request.query)
    # The streamed MP3 frames were joined and decoded back to 16 kHz samples of the service's tone.
    assert speech.duration_s == pytest.approx(len(request.text) * SECONDS_PER_CHAR, abs=0.1)
    assert _dominant_hz(speech.samples) == pytest.approx(TONE_HZ, abs=5)


def test_a_configured_voice_and_rate_reach_the_service(service: FakeEdgeService) -> None:
    engine = EdgeEngine("zh-CN-YunxiNeural", timeout_s=10)
    Synthesizer([engine], rate=1.0).synthesize("你好。")
    Synthesizer([engine]).synthesize("你好。", rate=1.25)
    assert [(r.voice, r.rate) for r in service.requests] == [
        ("Microsoft Server Speech Text to Speech Voice (zh-CN, YunxiNeural)", "+0%"),
        ("Microsoft Server Speech Text to Speech Voice (zh-CN, YunxiNeural)", "+25%"),
    ]


def test_long_answers_are_requested_sentence_by_sentence(service: FakeEdgeService) -> None:
    synthesizer = Synthesizer([EdgeEngine(timeout_s=10)])
    sentences = synthesizer.sentences("先到村委会申请。再等乡镇审核！最后公示七天。")

    first, speech = next(sentences)
    # The first sentence's audio is ready before the next one has been asked for.
    assert first == "先到村委会申请。"
    assert [r.text for r in service.requests] == ["先到村委会申请。"]
    assert speech.duration_s == pytest.approx(len(first) * SECONDS_PER_CHAR, abs=0.1)

    rest = list(sentences)
    assert [s for s, _ in rest] == ["再等乡镇审核！", "最后公示七天。"]
    assert [r.text for r in service.requests] == ["先到村委会申请。", "再等乡镇审核！", "最后公示七天。"]
    assert all(s.engine == "edge-tts" and s.duration_s > 1.0 for _, s in rest)
    assert {r.rate for r in service.requests} == {"-10%"}


def test_a_stalled_service_times_out_and_the_next_engine_speaks(service: FakeEdgeService) -> None:
    edge = EdgeEngine(timeout_s=1)
    synthesizer = Synthesizer([edge, EspeakEngine()])
    speech = synthesizer.synthesize("网络卡住了怎么办。")

    assert speech.engine == "espeak-ng" and speech.duration_s > 0.5
    assert speech.failed == {"edge-tts": "edge-tts timed out after 1 s"}
    assert [r.text for r in service.requests] == ["网络卡住了怎么办。"]
    # The stalled voice waits at the back of the line; the next sentence does not pay its timeout again.
    again = synthesizer.synthesize("再说一句。")
    assert again.engine == "espeak-ng" and not again.failed
    assert len(service.requests) == 1
