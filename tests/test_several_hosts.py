"""Several API hosts for real: two `xiangyin serve` processes, each with its own data home (no shared
files), on one PostgreSQL cluster and one `chroma run` server, behind the round-robin balancer of
`make cluster-demo` (api/cluster.py). Sessions, uploads, WeChat retries, a host killed mid-answer and
PostgreSQL stopped and started again."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.cluster import Deployment, deployment
from assistant.sessions import PostgresSessionStore
from tests.corpus import write_corpus
from tests.wechat.fakes import (
    APP_ID,
    OPENID,
    SECRET,
    TOKEN,
    FakeWeChatAPI,
    OfficialAccountSender,
    deliver,
    run,
    text_xml,
)
from tests.wechat.fakes import serve as serve_asgi

ADMIN = "several-hosts-admin-token"
WECHAT_PATH = "/wechat/official"

pytestmark = pytest.mark.slow


def _request(
    url: str, body: dict[str, Any] | None = None, method: str | None = None, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _chat(url: str, message: str, session_id: str) -> dict[str, Any]:
    status, body = _request(f"{url}/api/v1/chat", {"message": message, "session_id": session_id})
    assert status == 200, body
    return body


def _upload(url: str, name: str, text: str) -> dict[str, Any]:
    boundary = "xiangyin-test-boundary"
    payload = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: text/markdown\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/admin/documents",
        data=payload,
        headers={
            "content-type": f"multipart/form-data; boundary={boundary}",
            "authorization": f"Bearer {ADMIN}",
        },
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 202
        return dict(json.loads(response.read()))


def _wait_job(url: str, job_id: str, timeout_s: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status, job = _request(f"{url}/api/v1/admin/jobs/{job_id}", token=ADMIN)
        assert status == 200, job
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[tuple[FakeWeChatAPI, str]]:
    fake = FakeWeChatAPI()
    with serve_asgi(fake.app()) as url:
        yield fake, f"{url}/cgi-bin/"


@pytest.fixture(scope="module")
def hosts(
    tmp_path_factory: pytest.TempPathFactory, fake_wechat: tuple[FakeWeChatAPI, str]
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("several-hosts")
    environment = {
        "XIANGYIN_ADMIN_TOKEN": ADMIN,
        "XIANGYIN_TTS_ENGINES": '["espeak-ng"]',
        "XIANGYIN_RATE_LIMIT": "1000/minute",
        "XIANGYIN_WECHAT_APP_ID": APP_ID,
        "XIANGYIN_WECHAT_TOKEN": TOKEN,
        "XIANGYIN_WECHAT_SECRET": SECRET,
        "XIANGYIN_WECHAT_API_BASE": fake_wechat[1],
    }
    with deployment(2, [write_corpus(root / "docs")], environment, root=root / "cluster") as running:
        yield running


def test_a_follow_up_asked_on_host_b_builds_on_the_question_asked_on_host_a(hosts: Deployment) -> None:
    a, b = hosts.hosts
    first = _chat(a.url, "耕地地力保护补贴每亩多少钱？", "villager-1")
    assert "120元" in first["answer"]
    follow = _chat(b.url, "什么时候发？", "villager-1")
    assert "6月30日" in follow["answer"], follow
    turns = PostgresSessionStore(hosts.database_url).history("web:villager-1")
    assert [t.content for t in turns if t.role == "user"] == ["耕地地力保护补贴每亩多少钱？", "什么时候发？"]
    # Through the balancer, turn by turn on alternating hosts.
    for n in range(3):
        assert (
            "120元"
            in _chat(hosts.balancer_url, "耕地地力保护补贴每亩多少钱？", f"via-balancer-{n}")["answer"]
        )
        assert "6月30日" in _chat(hosts.balancer_url, "什么时候发？", f"via-balancer-{n}")["answer"]


def test_a_document_uploaded_on_host_a_is_answered_on_host_b(hosts: Deployment) -> None:
    a, b = hosts.hosts
    notice = "# 青溪县2025年油茶种植补贴通知\n\n新种油茶每亩补贴800元，由乡镇农业站在11月底前核实面积。\n"
    job = _upload(a.url, "youcha-2025.md", notice)
    done = _wait_job(b.url, job["id"])  # the job is seen from the other host too
    assert done["state"] == "done", done
    answer = _chat(b.url, "新种油茶每亩补贴多少钱？", "uploader")
    assert "800元" in answer["answer"] and not answer["refused"], answer
    status, documents = _request(f"{b.url}/api/v1/admin/documents", token=ADMIN)
    assert status == 200 and any(d["source"].endswith("youcha-2025.md") for d in documents)


def test_a_wechat_message_retried_to_a_b_a_is_answered_once(
    hosts: Deployment, fake_wechat: tuple[FakeWeChatAPI, str]
) -> None:
    a, b = hosts.hosts
    urls = [a.url + WECHAT_PATH, b.url + WECHAT_PATH, a.url + WECHAT_PATH]
    question = "城乡居民医保个人一年交多少钱？"
    # Three attempts at once, as WeChat's retries of a slow answer overlap with the first.
    results: list[Any] = []

    def attempt(url: str) -> None:
        delivery = deliver(url, OfficialAccountSender(), text_xml(question, 9101), timeout_s=15.0, attempts=1)
        results.append(run(delivery))

    threads = [threading.Thread(target=attempt, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replies = [r.reply for r in results if r.reply]
    assert replies and all("400元" in reply for reply in replies), replies
    assert len(set(replies)) == 1
    session = PostgresSessionStore(hosts.database_url).history(f"wechat:official:{OPENID}")
    assert [t.content for t in session if t.role == "user"] == [question], "answered more than once"


def test_killing_a_host_mid_answer_loses_nothing(tmp_path: Path, hosts: Deployment) -> None:
    a, b = hosts.hosts
    before = _chat(b.url, "城乡居民医保个人一年交多少钱？", "crash")
    assert "400元" in before["answer"]
    # A streamed answer cut off by the host's death: the client sees the connection drop.
    request = urllib.request.Request(
        f"{a.url}/api/v1/chat/stream",
        data=json.dumps({"message": "什么时候缴费？", "session_id": "crash"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.readline()  # the first event is on its way: the answer is under way
        a.kill()
    after = _chat(b.url, "什么时候缴费？", "crash")
    assert "9月1日" in after["answer"], after
    turns = PostgresSessionStore(hosts.database_url).history("web:crash")
    assert turns[0].content == "城乡居民医保个人一年交多少钱？" and "400元" in turns[1].content
    hosts.restart(a)
    assert "400元" in _chat(a.url, "城乡居民医保个人一年交多少钱？", "after-restart")["answer"]


def test_postgresql_down_is_a_503_in_chinese_and_service_returns_with_it(hosts: Deployment) -> None:
    a, _ = hosts.hosts
    hosts.postgres.stop("immediate")
    try:
        status, body = _request(
            f"{a.url}/api/v1/chat", {"message": "新农合一年交多少钱？", "session_id": "pg-down"}
        )
        assert status == 503, body
        assert body["error"]["code"] == "database_unavailable"
        assert "数据库" in body["error"]["message"]
    finally:
        hosts.postgres.start()
    deadline = time.monotonic() + 60
    while True:
        status, body = _request(
            f"{a.url}/api/v1/chat", {"message": "新农合一年交多少钱？", "session_id": "pg-up"}
        )
        if status == 200:
            break
        assert time.monotonic() < deadline, body
        time.sleep(1)
    assert "400元" in body["answer"]
