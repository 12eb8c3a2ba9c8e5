"""The OpenAI-compatible endpoint through the clients integrators use: the real `openai` package and
LangChain's `ChatOpenAI`, against a real uvicorn server over the demo knowledge base."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from tests.hostile import raw_request, repeated
from tests.live_server import live_server
from xiangyin.settings import Settings

pytestmark = pytest.mark.slow

KEY = "sk-xiangyin-wechat-5b1e"
OTHER_KEY = "sk-xiangyin-dify-77c0"
REQUEST_CAP = 64_000
QUESTION = "种粮补贴每亩多少钱？"
REFUSED = "去美国留学签证怎么办？"


@dataclass
class Server:
    url: str
    services: Services

    @property
    def home(self) -> Path:
        return self.services.settings.home

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def client(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0, timeout=120)

    def post(self, body: Any, key: str | None = KEY) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.post(self.base_url + "/chat/completions", json=body, headers=headers, timeout=120)


def started(settings: Settings, kb: KnowledgeBase) -> tuple[Any, Services]:
    assistant = Assistant(
        settings, knowledge_base=kb, sessions=SessionStore(settings.home / "sessions.sqlite3")
    )
    services = Services(settings, assistant)
    return create_app(settings, services), services


def compat_settings(kb: KnowledgeBase, home: Path, **changes: Any) -> Settings:
    return kb.settings.model_copy(
        update={
            "home": home,
            "tts_engines": ["espeak-ng"],
            "rate_limit": "100000/minute",
            "max_request_bytes": REQUEST_CAP,
            # As an operator writes it in the environment: names for the log, keys for the header.
            "openai_compat_keys": Settings(
                openai_compat_keys=f"wechat={KEY},dify={OTHER_KEY}"
            ).openai_compat_keys,
            **changes,
        }
    )


@pytest.fixture(scope="module")
def server(demo_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app, services = started(compat_settings(demo_kb, tmp_path_factory.mktemp("openai")), demo_kb)
    with live_server(app) as url:
        assert services.wait_loaded(600)
        yield Server(url, services)


def openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error of a response that must have `status`, in OpenAI's shape, the message in Chinese."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), "messages are Chinese"
    return dict(body["error"])


def still_answers(server: Server) -> None:
    assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200
    reply = server.client().chat.completions.create(
        model="xiangyin", messages=[{"role": "user", "content": QUESTION}]
    )
    assert "110元" in (reply.choices[0].message.content or "")


# The models


def test_models_lists_the_one_model_of_this_deployment(server: Server) -> None:
    client = server.client()
    assert [m.id for m in client.models.list()] == ["xiangyin"]
    assert client.models.retrieve("xiangyin").owned_by == "xiangyin"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-4o")
    assert missing.value.code == "model_not_found"


# Answers


def test_an_answer_names_its_sources_in_the_text_and_in_a_citations_field(server: Server) -> None:
    reply = server.client().chat.completions.create(
        model="xiangyin", messages=[{"role": "user", "content": QUESTION}]
    )
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-")
    assert reply.model == "xiangyin" and len(reply.choices) == 1
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    text = choice.message.content or ""
    answer, _, sources = text.partition("\n\n来源：\n")
    assert "110元" in answer and "[1]" in answer
    citations = (reply.model_extra or {})["citations"]
    assert citations and citations[0]["source"].startswith("policy/") and citations[0]["quote"]
    # The source list names every cited passage, in the order of the marks.
    assert sources.splitlines() == [
        f"[{c['number']}]《{c['title']}》{c['section']}".rstrip() for c in citations
    ]
    assert reply.usage is not None and reply.usage.completion_tokens == len(text)


def test_a_stream_is_openais_chunks_ending_with_citations_and_done(server: Server) -> None:
    client = server.client()
    plain = client.chat.completions.create(model="any-name", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(
        client.chat.completions.create(
            model="any-name", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    assert {c.object for c in chunks} == {"chat.completion.chunk"} and len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len(chunks) > 3, "the text comes in pieces"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and not last.choices[0].delta.content
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert (last.model_extra or {})["citations"] == (plain.model_extra or {})["citations"]


def test_the_stream_on_the_wire_is_data_lines_then_done(server: Server) -> None:
    body = {
        "model": "xiangyin",
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = server.post(body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\n\n") if e and not e.startswith(":")]
    assert all(e.startswith("data: ") and "\n" not in e for e in events), events
    assert events[-1] == "data: [DONE]" and "\r" not in response.text
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    # With include_usage every chunk carries `usage` (null), and one last chunk without choices has it.
    assert all("usage" in c for c in chunks) and chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    final = chunks[-2]
    assert final["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}
    assert final["citations"] and all("citations" not in c for c in chunks[:-2])
    # Without include_usage there is no `usage` at all.
    plain = [
        e for e in server.post({**body, "stream_options": None}).text.split("\n\n") if e.startswith("data: {")
    ]
    assert all("usage" not in json.loads(e[6:]) for e in plain)


def test_a_follow_up_is_understood_from_the_message_history(server: Server) -> None:
    client = server.client()
    first = client.chat.completions.create(
        model="xiangyin", messages=[{"role": "user", "content": "新农合一年交多少钱？"}]
    )
    said = first.choices[0].message.content or ""
    assert "400元" in said
    history: list[Any] = [
        {"role": "system", "content": "你是一个乐于助人的助手。"},  # a front end's prompt: ignored
        {"role": "user", "content": "新农合一年交多少钱？"},
        {"role": "assistant", "content": said},
        {"role": "user", "content": "那什么时候交？"},
    ]
    follow = client.chat.completions.create(model="xiangyin", messages=history)
    assert "9月1日" in (follow.choices[0].message.content or "")
    # Content as a list of text parts (how some front ends send it) is read the same way.
    parts = [*history[:-1], {"role": "user", "content": [{"type": "text", "text": "那什么时候交？"}]}]
    again = client.chat.completions.create(model="xiangyin", messages=parts)
    assert again.choices[0].message.content == follow.choices[0].message.content
    # The history alone carries the topic: without it the same follow-up is refused, and nothing is
    # remembered between requests.
    topic = [{"role": "user", "content": "宅基地审批要多长时间？"}]
    said = client.chat.completions.create(model="xiangyin", messages=topic).choices[0].message.content
    follow_up = {"role": "user", "content": "那需要什么材料？"}
    conversation = [*topic, {"role": "assistant", "content": said}, follow_up]
    answered = client.chat.completions.create(model="xiangyin", messages=conversation)
    assert "申请表" in (answered.choices[0].message.content or "")
    alone = client.chat.completions.create(model="xiangyin", messages=[follow_up])
    assert "12345" in (alone.choices[0].message.content or "")
    with sqlite3.connect(server.home / "sessions.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM turns").fetchone() == (0,)


def test_a_refusal_is_an_ordinary_message_with_the_handoff(server: Server) -> None:
    reply = server.client().chat.completions.create(
        model="xiangyin", messages=[{"role": "user", "content": REFUSED}]
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.refusal is None
    text = choice.message.content or ""
    assert "12345" in text and "来源" not in text and (reply.model_extra or {})["citations"] == []
    streamed = server.client().chat.completions.create(
        model="xiangyin", messages=[{"role": "user", "content": REFUSED}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == text


def test_small_talk_and_options_we_cannot_honour_are_answered_as_usual(server: Server) -> None:
    client = server.client(OTHER_KEY)  # every configured integrator's key works
    hello = client.chat.completions.create(model="xiangyin", messages=[{"role": "user", "content": "你好"}])
    assert "小音" in (hello.choices[0].message.content or "")
    reply = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": QUESTION}],
        temperature=0.1,
        top_p=0.5,
        max_tokens=3,
        presence_penalty=1,
        frequency_penalty=1,
        stop=["。"],
        seed=7,
        user="villager-1",
        n=1,
        extra_body={"some_future_option": {"a": 1}},
    )
    assert "110元" in (reply.choices[0].message.content or "") and reply.model == "xiangyin"


# LangChain


def test_langchain_chat_openai_asks_streams_and_follows_up(server: Server) -> None:
    model = ChatOpenAI(model="xiangyin", base_url=server.base_url, api_key=KEY, max_retries=0, timeout=120)
    answer = model.invoke(QUESTION)
    assert isinstance(answer.content, str) and "110元" in answer.content and "来源：" in answer.content
    streamed = "".join(str(piece.content) for piece in model.stream(QUESTION))
    assert streamed == answer.content
    follow = model.invoke(
        [
            SystemMessage("请用简短的话回答。"),
            HumanMessage("新农合一年交多少钱？"),
            AIMessage("个人每人每年400元[1]。"),
            HumanMessage("那什么时候交？"),
        ]
    )
    assert "9月1日" in str(follow.content)
    refused = model.invoke(REFUSED)
    assert "12345" in str(refused.content)
    with pytest.raises(openai.AuthenticationError):
        ChatOpenAI(model="xiangyin", base_url=server.base_url, api_key="wrong", max_retries=0).invoke("低保")


# Refused requests, in OpenAI's error shape


@pytest.mark.parametrize("key", ["wrong-key", KEY.upper(), KEY[:-1], f"{KEY}x", f"{KEY},{OTHER_KEY}"])
def test_a_bad_key_is_a_401_in_openais_shape(server: Server, key: str) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        server.client(key).chat.completions.create(
            model="xiangyin", messages=[{"role": "user", "content": "低保"}]
        )
    assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
    assert refused.value.type == "invalid_request_error"


def test_no_key_and_other_schemes_are_refused_on_every_v1_path(server: Server) -> None:
    for headers in (
        {},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer"},
    ):
        for method, path in (("GET", "/models"), ("POST", "/chat/completions"), ("GET", "/nothing")):
            response = httpx.request(method, server.base_url + path, headers=headers, timeout=30)
            assert openai_error(response, 401)["code"] == "invalid_api_key"
            assert response.headers["www-authenticate"] == "Bearer"
    # The admin token of the chat API is another thing altogether; and other routes need no key.
    assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200


def test_a_declared_gigabyte_without_a_key_is_refused_before_its_body(server: Server) -> None:
    started = time.monotonic()
    response = raw_request(
        server.url,
        "POST",
        "/v1/chat/completions",
        {"Content-Type": "application/json", "Content-Length": str(1 << 30)},
        repeated(b"x", 8 * REQUEST_CAP),
    )
    assert response.status == 401 and time.monotonic() - started < 10
    assert response.sent < 8 * REQUEST_CAP
    assert json.loads(response.body)["error"]["code"] == "invalid_api_key"


def test_an_oversize_message_is_a_413_in_openais_shape(server: Server) -> None:
    with pytest.raises(openai.APIStatusError) as refused:
        server.client().chat.completions.create(
            model="xiangyin", messages=[{"role": "user", "content": "补贴" * REQUEST_CAP}]
        )
    assert refused.value.status_code == 413
    body = refused.value.body
    assert (
        isinstance(body, dict)
        and body["code"] == "body_too_large"
        and body["type"] == "invalid_request_error"
    )
    assert "说短一点" in body["message"]
    # Sent without a length, the body is cut at the cap all the same.
    response = raw_request(
        server.url,
        "POST",
        "/v1/chat/completions",
        {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"},
        iter(
            [b'{"model": "x", "messages": [{"role": "user", "content": "', *repeated(b"a", 6 * REQUEST_CAP)]
        ),
    )
    assert response.status == 413
    assert set(json.loads(response.body)["error"]) == {"message", "type", "param", "code"}
    still_answers(server)


def test_tools_are_refused_with_a_clear_400(server: Server) -> None:
    tool = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as refused:
        server.client().chat.completions.create(
            model="xiangyin",
            messages=[{"role": "user", "content": QUESTION}],
            tools=[tool],  # type: ignore[list-item]
        )
    assert refused.value.param == "tools" and "工具调用" in refused.value.message
    model = ChatOpenAI(model="xiangyin", base_url=server.base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError):
        model.bind_tools([tool]).invoke(QUESTION)


@pytest.mark.parametrize(
    ("change", "param", "says"),
    [
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "这是什么病？"},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                        ],
                    }
                ]
            },
            "messages[0].content[1].type",
            "不能看图片",
        ),
        ({"n": 2}, "n", "n 只能是 1"),
        ({"response_format": {"type": "json_object"}}, "response_format", "JSON"),
        ({"functions": [{"name": "f", "parameters": {}}]}, "functions", "工具调用"),
        ({"tool_choice": "required"}, "tool_choice", "工具调用"),
        (
            {
                "messages": [
                    {"role": "user", "content": QUESTION},
                    {"role": "tool", "content": "{}", "tool_call_id": "c1"},
                    {"role": "user", "content": QUESTION},
                ]
            },
            "messages[1]",
            "工具消息",
        ),
        (
            {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "好"}]},
            "messages[1].role",
            "最后一条消息",
        ),
    ],
)
def test_what_cannot_be_honoured_is_a_400_naming_the_parameter(
    server: Server, change: dict[str, Any], param: str, says: str
) -> None:
    body = {"model": "xiangyin", "messages": [{"role": "user", "content": QUESTION}], **change}
    error = openai_error(server.post(body), 400)
    assert error["param"] == param and says in error["message"] and error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "body",
    [
        {"model": "xiangyin", "messages": []},
        {"model": "xiangyin"},
        {"model": "xiangyin", "messages": [{"role": "robot", "content": "低保"}]},
        {"model": "xiangyin", "messages": "低保"},
        [],
    ],
)
def test_malformed_requests_are_a_400_in_openais_shape(server: Server, body: Any) -> None:
    error = openai_error(server.post(body), 400)
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request"


def test_malformed_requests_raise_bad_request_in_the_openai_client(server: Server) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        server.client().chat.completions.create(model="xiangyin", messages=[])
    assert refused.value.status_code == 400 and refused.value.code == "invalid_request"


def test_hostile_values_in_every_field_get_a_4xx_in_openais_shape(server: Server) -> None:
    values: list[Any] = [
        "\x00",
        "-f/proc/self/environ",
        "啊" * 5000,
        None,
        -1,
        1e308,
        [],
        {},
        {"a": [[[[]]]]},
        True,
    ]
    fields = ["model", "messages", "stream", "stream_options", "n", "tools", "temperature", "stop", "user"]
    for field in fields:
        for value in values:
            body = {"model": "xiangyin", "messages": [{"role": "user", "content": "低保"}], field: value}
            response = server.post(body)
            assert response.status_code < 500, (field, value, response.text[:300])
            if response.status_code >= 400:
                openai_error(response, response.status_code)
    for value in values:
        body = {"model": "xiangyin", "messages": [{"role": "user", "content": value}]}
        response = server.post(body)
        assert response.status_code < 500, (value, response.text[:300])
        if response.status_code >= 400:
            openai_error(response, response.status_code)
    raw = httpx.post(
        server.base_url + "/chat/completions",
        content=b"\x00\xff{",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert openai_error(raw, 400)["code"] == "bad_request"
    still_answers(server)


# A client that goes away


def test_a_client_that_disconnects_mid_stream_leaves_the_server_healthy(server: Server) -> None:
    body = {
        "model": "xiangyin",
        "messages": [{"role": "user", "content": "低保的申请条件是什么？"}],
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.stream(
        "POST", server.base_url + "/chat/completions", json=body, headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert (
            first.startswith("data: ") and json.loads(first[6:])["choices"][0]["delta"]["role"] == "assistant"
        )
    # The openai client, closing its stream after the first chunk.
    stream = server.client().chat.completions.create(
        model="xiangyin", messages=[{"role": "user", "content": "养老金每月能领多少？"}], stream=True
    )
    assert next(iter(stream)).choices[0].delta.role == "assistant"
    stream.close()
    still_answers(server)
    assert server.services.answering_lock.acquire(timeout=60)
    server.services.answering_lock.release()


# Configuration


def test_without_keys_there_is_no_v1(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    app, _ = started(compat_settings(demo_kb, tmp_path, openai_compat_keys={}), demo_kb)
    client = TestClient(app)  # no lifespan: nothing is loaded, only the routes are looked at
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 404
    assert not any(path.startswith("/v1") for path in client.get("/openapi.json").json()["paths"])


def test_rate_limit_is_a_429_in_openais_shape(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    app, services = started(compat_settings(demo_kb, tmp_path, rate_limit="2/minute"), demo_kb)
    with TestClient(app, base_url="http://testserver") as http:
        assert services.wait_loaded(300)
        client = openai.OpenAI(base_url="http://testserver/v1", api_key=KEY, http_client=http, max_retries=0)
        for _ in range(2):
            client.chat.completions.create(model="xiangyin", messages=[{"role": "user", "content": "你好"}])
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(model="xiangyin", messages=[{"role": "user", "content": "你好"}])
        assert limited.value.code == "rate_limited" and int(limited.value.response.headers["retry-after"]) > 0
        # The same limiter as the chat API: the two share one budget per client.
        assert http.post("/api/v1/chat", json={"message": "你好"}).status_code == 429
        # Listing the models (front ends poll it) is never limited.
        assert [m.id for m in client.models.list()] == ["xiangyin"]


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("wechat=k1,dify=k2", {"wechat": "k1", "dify": "k2"}),
        ("k1, k2", {"key-1": "k1", "key-2": "k2"}),
        ('["k1", "k2"]', {"key-1": "k1", "key-2": "k2"}),
        ('{"wechat": "k1"}', {"wechat": "k1"}),
        ("wechat=c2VjcmV0==", {"wechat": "c2VjcmV0=="}),
    ],
)
def test_keys_are_configured_per_integrator_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, names: dict[str, str]
) -> None:
    monkeypatch.setenv("XIANGYIN_OPENAI_COMPAT_KEYS", value)
    keys = Settings().openai_compat_keys
    assert {name: key.get_secret_value() for name, key in keys.items()} == names
    assert "k1" not in repr(keys)


def test_an_empty_key_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIANGYIN_OPENAI_COMPAT_KEYS", "wechat=")
    with pytest.raises(ValueError, match="empty"):
        Settings()
