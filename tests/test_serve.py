"""`xiangyin serve --workers 2` for real: two uvicorn worker processes share one index through the
`chroma run` server it starts, and sessions through the data home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from api.server import free_port, process_exit, wait_until_ready
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from tests.corpus import write_corpus
from xiangyin.settings import Settings


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _chat(url: str, message: str, session_id: str | None = None) -> dict[str, Any]:
    body = json.dumps({"message": message, "session_id": session_id}).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/chat", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return dict(json.loads(response.read()))


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[str]:
    root = tmp_path_factory.mktemp("serve")
    home = root / "home"
    kb = KnowledgeBase(Settings(home=home), embeddings)
    ingest(kb, [write_corpus(root / "docs")])
    kb.close()
    port = free_port()
    env = os.environ | {"XIANGYIN_TTS_ENGINES": '["espeak-ng"]', "XIANGYIN_RATE_LIMIT": "1000/minute"}
    command = [
        sys.executable,
        "-m",
        "xiangyin",
        "--home",
        str(home),
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    log = (root / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        # Both workers must be ready, not just the first to answer.
        wait_until_ready(f"{url}/readyz", lambda: process_exit("xiangyin serve", process), 600, in_a_row=6)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_two_workers_share_the_index_and_the_sessions(two_workers: str) -> None:
    status, ready = _get(f"{two_workers}/readyz")
    assert status == 200 and ready["workers_share"].startswith("http://127.0.0.1:")
    assert ready["documents"] == 7
    for n in range(4):
        first = _chat(two_workers, "耕地地力保护补贴每亩多少钱？", session_id=f"villager-{n}")
        assert "120元" in first["answer"]
        # The follow-up may land on the other worker: the session lives in the data home.
        follow = _chat(two_workers, "什么时候发？", session_id=f"villager-{n}")
        assert "6月30日" in follow["answer"], follow
