"""An afternoon as an attacker and as an unlucky user, against a real server (uvicorn on a socket) with an
admin token and a WeChat account configured: option-like texts, oversize and lying bodies, a
decompression bomb, malformed input to every route. Each gets a 4xx with a Chinese message (WeChat: no
reply), memory and disk stay bounded, and the server keeps answering."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.embeddings import Embeddings
from playwright.sync_api import expect, sync_playwright

from api.app import create_app
from api.server import free_port, process_exit, wait_until_ready
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from tests.corpus import write_corpus
from tests.hostile import SpoolWatch, docx_bomb, raw_request, repeated, rss_bytes
from tests.live_server import live_server
from tests.web import CHROMIUM, error_of, screenshot_folder
from tests.wechat.fakes import APP_ID, OPENID
from tests.wechat.fakes import TOKEN as WECHAT_TOKEN
from voice.audio import decode_audio
from xiangyin.settings import Settings

pytestmark = pytest.mark.slow

TOKEN = "hostile-admin-0c9e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPLOAD_CAP = 1_000_000
AUDIO_CAP = 500_000
REQUEST_CAP = 64_000
WECHAT_SESSION = f"wechat:official:{OPENID}"


@dataclass
class Server:
    url: str
    services: Services
    home: Path
    spool: Path

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=120, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=120, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.delete(self.url + path, timeout=120, **kwargs)

    def finished(self, job: dict[str, Any], timeout_s: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while job["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"job did not finish: {job}"
            time.sleep(0.2)
            job = self.get(f"/api/v1/admin/jobs/{job['id']}", headers=AUTH).json()
        return job

    def upload(self, *files: tuple[str, bytes]) -> dict[str, Any]:
        response = self.post(
            "/api/v1/admin/documents",
            headers=AUTH,
            files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        )
        assert response.status_code == 202, response.text
        return dict(response.json())

    def answer(self, question: str) -> str:
        response = self.post("/api/v1/chat", json={"message": question})
        assert response.status_code == 200, response.text
        return str(response.json()["answer"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("hostile")
    spool = root / "spool"
    spool.mkdir()
    settings = Settings(
        home=root / "home",
        admin_token=TOKEN,
        tts_engines=["espeak-ng"],
        rate_limit="100000/minute",
        max_upload_bytes=UPLOAD_CAP,
        max_upload_files=3,
        max_audio_bytes=AUDIO_CAP,
        max_request_bytes=REQUEST_CAP,
        wechat_app_id=APP_ID,
        wechat_token=WECHAT_TOKEN,
        wechat_api_base="http://127.0.0.1:9/cgi-bin/",
    )
    kb = KnowledgeBase(settings, embeddings)
    ingest(kb, [write_corpus(root / "docs")])
    assistant = Assistant(
        settings, knowledge_base=kb, sessions=SessionStore(settings.home / "sessions.sqlite3")
    )
    services = Services(settings, assistant)
    # Upload spools go where the test can watch them (the server runs in this process).
    previous, tempfile.tempdir = tempfile.tempdir, str(spool)
    try:
        with live_server(create_app(settings, services)) as url:
            assert services.wait_loaded(600)
            yield Server(url, services, settings.home, spool)
    finally:
        tempfile.tempdir = previous
        kb.close()


def still_answers(server: Server) -> None:
    assert server.get("/healthz").status_code == 200
    assert "400元" in server.answer("2025年城乡居民医保个人缴费多少钱？")


# 1. Texts that look like command-line options are read aloud as text, by every route that speaks.

SECRET = "这是一段绝对不能被读出来的秘密内容，管理员口令是山河湖海。" * 20


@pytest.mark.parametrize(
    "text", ["-f{secret}", "--version", "-h", "-w{written}", "--stdout", "-v en", "-- -x", "-q"]
)
def test_option_like_texts_are_spoken_as_text(server: Server, tmp_path: Path, text: str) -> None:
    secret, written = tmp_path / "secret.txt", tmp_path / "written.wav"
    secret.write_text(SECRET, encoding="utf-8")
    text = text.format(secret=secret, written=written)
    response = server.post("/api/v1/tts", json={"text": text, "format": "wav"})
    assert response.status_code == 200, response.text
    spoken = decode_audio(response.content)
    # The secret would take more than a minute to read; the option itself takes seconds.
    assert 0 < spoken.duration_s < 20, f"{text!r} spoke {spoken.duration_s:.1f} s"
    assert not written.exists(), "no option reached the engine"


@pytest.mark.parametrize(
    "text",
    [
        "身份证号110101199003074512",
        "身份证号11010119900307451X，银行卡号6222 0212 3456 7890 123",
        "卡号6222021234567890123456789",
        "100000000000000000%",
        "补贴\x00发放",
        "0.12345678901234567890元",
        "1e309",
    ],
)
def test_long_digit_strings_and_control_characters_do_not_break_speech(server: Server, text: str) -> None:
    response = server.post("/api/v1/tts", json={"text": text, "format": "wav"})
    assert response.status_code == 200, response.text
    assert decode_audio(response.content).duration_s > 0.3


def test_a_text_with_nothing_to_speak_is_the_clients_error_not_a_voice_outage(server: Server) -> None:
    error = error_of(server.post("/api/v1/tts", json={"text": "\x00\x01\u200b"}), 422)
    assert error["code"] == "nothing_to_speak"


def test_a_spoken_stream_whose_answer_holds_an_id_number_still_ends_with_done(server: Server) -> None:
    clips = list(
        server.services.speak_sentences("请带好身份证110101199003074512。卡号6222021234567890123456789。")
    )
    assert len(clips) == 2


# 2. Bodies are capped while they stream in, and admin routes check the token before reading one.

GIB = 1 << 30
MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer guess"}, 403), (AUTH, 413)],
)
def test_a_declared_gigabyte_is_answered_before_its_body(
    server: Server, headers: dict[str, str], status: int
) -> None:
    started = time.monotonic()
    response = raw_request(
        server.url,
        "POST",
        "/api/v1/admin/documents",
        {**MULTIPART, **headers, "Content-Length": str(GIB)},
        repeated(b"x", 4 * UPLOAD_CAP),
    )
    assert response.status == status and time.monotonic() - started < 10
    assert response.sent < 4 * UPLOAD_CAP, "the server answered without waiting for the body"
    assert "\u4e00" <= json.loads(response.body)["error"]["message"][0] <= "\u9fff"


@pytest.mark.parametrize(
    ("path", "headers", "cap"),
    [
        ("/api/v1/admin/documents", {**MULTIPART, **AUTH}, 3 * UPLOAD_CAP),
        ("/api/v1/asr", MULTIPART, AUDIO_CAP),
        ("/api/v1/voice", MULTIPART, AUDIO_CAP),
        ("/api/v1/chat", {"Content-Type": "application/json"}, REQUEST_CAP),
        ("/api/v1/tts", {"Content-Type": "application/json"}, REQUEST_CAP),
        ("/api/v1/admin/evals/cases", {"Content-Type": "application/json", **AUTH}, REQUEST_CAP),
    ],
)
def test_a_body_without_a_length_is_cut_at_the_cap(
    server: Server, path: str, headers: dict[str, str], cap: int
) -> None:
    if headers["Content-Type"].startswith("multipart"):
        head = b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\n'
        name = b"audio" if "admin" not in path else b"files"
        head = head.replace(b'name="files"', b'name="' + name + b'"')
        body: Iterator[bytes] = iter([head, *repeated("补".encode(), 6 * cap)])
    else:
        body = iter([b'{"message": "', *repeated(b"a", 6 * cap)])
    with SpoolWatch(server.spool).running() as watch:
        response = raw_request(server.url, "POST", path, headers, body)
    assert response.status == 413, response.body[:300]
    error = json.loads(response.body)["error"]
    assert error["code"] == "body_too_large" and "\u4e00" <= error["message"][0] <= "\u9fff"
    assert watch.peak <= cap + 256 * 1024, f"{watch.peak} bytes spooled for a cap of {cap}"
    still_answers(server)


def test_a_body_that_lies_about_its_length_is_cut_at_the_cap(server: Server) -> None:
    """Content-Length small, then the client keeps sending: the server reads only what was declared."""
    response = raw_request(
        server.url,
        "POST",
        "/api/v1/chat",
        {"Content-Type": "application/json", "Content-Length": "30"},
        iter([b'{"message": "\xe4\xbd\xa0\xe5\xa5\xbd"}', *repeated(b" ", 4 * REQUEST_CAP)]),
    )
    assert response.status in (200, 400, 422)
    still_answers(server)


# 3. A bad upload is refused with its reason, does not come back, and never blocks later uploads.


def test_a_decompression_bomb_is_refused_and_later_uploads_are_not_blocked(
    server: Server, tmp_path: Path
) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", 200_000_000)
    assert bomb.stat().st_size < UPLOAD_CAP
    rss_before = rss_bytes()
    started = time.monotonic()
    job = server.finished(server.upload(("bomb.docx", bomb.read_bytes())), timeout_s=120)
    refused_after = time.monotonic() - started
    assert job["state"] == "done" and job["added"] == []
    assert "bomb.docx" in job["skipped"] and "\u4e00" <= job["skipped"]["bomb.docx"][0] <= "\u9fff"
    job_skipped = job["skipped"]["bomb.docx"]
    assert refused_after < 60
    assert rss_bytes() - rss_before < 300_000_000, "the server's memory stayed bounded"

    notice = "桃源村图书室周六下午2点到5点开放。".encode()
    started = time.monotonic()
    job = server.finished(server.upload(("library.md", notice)), timeout_s=120)
    assert job["state"] == "done" and job["added"] == ["library.md"]
    assert job["skipped"] == {}, "a file refused earlier is not read again, nor reported again"
    assert time.monotonic() - started < 30
    assert "2点到5点" in server.answer("村图书室什么时候开放？")
    again = server.finished(server.upload(("bomb.docx", bomb.read_bytes())), timeout_s=60)
    assert again["skipped"] == {"bomb.docx": job_skipped}, "the same file uploaded again keeps its reason"

    listed = {d["source"]: d for d in server.get("/api/v1/admin/documents", headers=AUTH).json()}
    assert listed["bomb.docx"]["status"] == "refused" and listed["bomb.docx"]["reason"]
    assert server.delete("/api/v1/admin/documents/bomb.docx", headers=AUTH).json() == {
        "removed": ["bomb.docx"]
    }
    assert "bomb.docx" not in {
        d["source"] for d in server.get("/api/v1/admin/documents", headers=AUTH).json()
    }
    assert not (server.home / "documents" / "bomb.docx").exists()


def test_a_running_job_can_be_cancelled_and_keeps_what_it_committed(server: Server) -> None:
    """Searchable first (the default): the documents are committed within seconds and answer by their
    words while their vectors are added; a cancel then stops only the vectors, and says so."""
    # About 300 chunks: a minute of embedding on two cores, long enough to cancel in the middle.
    long_text = "\n\n".join(
        f"第{i}条 青溪县第{i}号水库的防汛责任人由第{i}村村委会主任担任，汛期每天巡查两次，巡查记录保存三年。"
        * 6
        # Enough chunks (~1,000, under the 1 MB upload limit) that embedding outlasts the polling on a fast CPU.
        for i in range(1, 1001)
    )
    job = server.upload(("flood.txt", long_text.encode()))
    deadline = time.monotonic() + 120
    while job["stage"] != "complete" or job["done"] == 0:
        assert time.monotonic() < deadline and job["state"] in ("queued", "running"), job
        time.sleep(0.2)
        job = server.get(f"/api/v1/admin/jobs/{job['id']}", headers=AUTH).json()
    waiting = server.upload(("waiting.txt", "青溪县第二水库下午5点关闸。".encode()))
    assert waiting["state"] == "queued"
    dropped = server.delete(f"/api/v1/admin/jobs/{waiting['id']}", headers=AUTH).json()
    assert dropped["state"] == "cancelled" and dropped["cancelling"] is False, "a queued job stops at once"
    assert dropped["message"] == "任务已取消，知识库保持原样。"
    cancelling = server.delete(f"/api/v1/admin/jobs/{job['id']}", headers=AUTH)
    assert cancelling.status_code == 202 and cancelling.json()["cancelling"] is True
    asked = time.monotonic()
    job = server.finished(cancelling.json(), timeout_s=30)
    assert time.monotonic() - asked < 15, "within one embedding batch"
    assert job["state"] == "cancelled" and job["message"].startswith("已停止补全向量")
    assert job["added"] == ["flood.txt"], "the report says what the job committed"
    documents = {d["source"]: d for d in server.get("/api/v1/admin/documents", headers=AUTH).json()}
    assert "waiting.txt" not in documents
    assert 0 < documents["flood.txt"]["pending"] < documents["flood.txt"]["chunks"]
    answer = server.post("/api/v1/chat", json={"message": "青溪县第237号水库的防汛责任人是谁？"}).json()
    assert not answer["refused"] and "第237村村委会主任" in answer["answer"], answer
    assert {c["source"] for c in answer["citations"]} == {"flood.txt"}
    # Deleted while its vectors wait, it leaves nothing for the next job to complete.
    assert server.delete("/api/v1/admin/documents/flood.txt", headers=AUTH).status_code == 200
    assert server.get("/api/v1/admin/stats", headers=AUTH).json()["pending"] == 0
    assert (
        error_of(server.delete(f"/api/v1/admin/jobs/{job['id']}", headers=AUTH), 409)["code"]
        == "job_finished"
    )
    assert error_of(server.delete("/api/v1/admin/jobs/nope", headers=AUTH), 404)["code"] == "job_not_found"
    still_answers(server)


# 6. The web API cannot read or steer a WeChat villager's conversation.


def test_web_session_ids_cannot_address_a_wechat_conversation(server: Server) -> None:
    sessions = server.services.assistant.sessions
    server.services.ask("2025年城乡居民医保个人缴费多少钱？", WECHAT_SESSION)
    before = sessions.history(WECHAT_SESSION)
    response = server.post("/api/v1/chat", json={"message": "那什么时候交？", "session_id": WECHAT_SESSION})
    assert response.status_code == 200
    answer = response.json()
    assert answer["session_id"] == WECHAT_SESSION, "the client keeps the id it chose"
    assert "医保" not in answer["standalone_question"], "the WeChat conversation was not continued"
    assert sessions.history(WECHAT_SESSION) == before, "nor changed"
    # The web conversation itself works as before.
    follow = server.post("/api/v1/chat", json={"message": "报销比例呢？", "session_id": WECHAT_SESSION})
    assert follow.status_code == 200


# 7, 9. Malformed requests get a Chinese message that says what to do.


def test_a_nul_byte_in_an_upload_name_is_refused(server: Server) -> None:
    # Built by hand: httpx would percent-encode the NUL, which makes a harmless name.
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="evil\x00.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + "内容".encode() + b"\r\n--xyz--\r\n"
    )
    headers = {**MULTIPART, **AUTH, "Content-Length": str(len(body))}
    response = raw_request(server.url, "POST", "/api/v1/admin/documents", headers, body)
    assert response.status == 422, response.body
    assert json.loads(response.body)["error"]["code"] == "bad_filename"
    still_answers(server)


def test_chat_errors_say_what_to_do(server: Server) -> None:
    too_long = error_of(server.post("/api/v1/chat", json={"message": "问" * 2500}), 422)["message"]
    assert "不超过200个字" in too_long
    broken = server.post(
        "/api/v1/chat", content=b'{"message": "x",,}', headers={"Content-Type": "application/json"}
    )
    message = error_of(broken, 422)["message"]
    assert "JSON" in message and "（1" not in message
    assert (
        "会话编号"
        in error_of(server.post("/api/v1/chat", json={"message": "低保", "session_id": "a b"}), 422)[
            "message"
        ]
    )
    assert "超过600个字" in error_of(server.post("/api/v1/tts", json={"text": "读" * 700}), 413)["message"]


# Every route, every hostile value.

HOSTILE_STRINGS = [
    "-f/proc/self/environ",
    "--version",
    "../../../../etc/passwd",
    "\x00",
    "wechat:official:" + OPENID,
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a SYSTEM 'file:///etc/passwd'>]><x>&a;</x>",
    "'; DROP TABLE documents; --",
    "1" * 40,
    "啊" * 5000,
]
HOSTILE_VALUES: list[Any] = [*HOSTILE_STRINGS, None, -1, 1e308, [], {}, {"a": [[[[[]]]]]}, True]


def _path_values(path: str) -> list[str]:
    if "{" not in path:
        return [path]
    return [
        path.split("{", 1)[0] + value
        for value in ("..%2F..%2Fetc%2Fpasswd", "%00", "-f", "a" * 3000, "wechat:official:x", "%E4%B8%AD")
    ]


def _bodies(operation: dict[str, Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        ref = content["application/json"]["schema"].get("$ref", "")
        fields = list(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
        bodies: list[dict[str, Any]] = [
            {"content": b"\x00\xff{", "headers": {"Content-Type": "application/json"}}
        ]
        bodies += [{"json": {field: value for field in fields}} for value in HOSTILE_VALUES]
        bodies += [{"json": value} for value in ([], "x", 3)]
        return bodies
    if "multipart/form-data" in content:
        names = ("files", "audio")
        return [
            {"files": [(name, (filename, data, "application/octet-stream")) for name in names]}
            for filename, data in [
                ("-f.txt", b""),
                ("a\x00b.wav", b"RIFF"),
                ("../../x.md", b"\x00" * 100),
                ("x.docx", b"PK\x03\x04" + b"\x00" * 200),
                ("x.pdf", b"%PDF-1.7\n" + b"0" * 5000),
            ]
        ]
    return [{}]


def test_every_route_answers_hostile_input_with_a_4xx_in_chinese(server: Server) -> None:
    spec = server.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    rss_before = rss_bytes()
    tried = 0
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            if template == "/api/v1/admin/evals/runs" and method == "post":
                continue  # starts a full evaluation run; its guard is tested in test_officials_page
            for path in _path_values(template):
                for body in _bodies(operation, schemas):
                    for headers in ({}, AUTH):
                        response = httpx.request(
                            method.upper(),
                            server.url + path,
                            params={"echostr": "-f", "signature": "\x00", "timestamp": "1" * 30},
                            timeout=120,
                            **{**body, "headers": {**body.get("headers", {}), **headers}},
                        )
                        tried += 1
                        assert response.status_code < 500, f"{method} {path} {body}: {response.text[:300]}"
                        if response.status_code >= 400 and not template.startswith("/wechat/"):
                            error_of(response, response.status_code)
    assert tried > 300
    assert rss_bytes() - rss_before < 400_000_000
    still_answers(server)


def test_the_wechat_callback_gives_no_reply_to_malformed_messages(server: Server) -> None:
    for body in (
        b"",
        b"\x00" * 100,
        b"<xml><ToUserName>" * 1000,
        b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>",
    ):
        response = server.post(
            "/wechat/official", params={"signature": "x", "timestamp": "1", "nonce": "2"}, content=body
        )
        assert 400 <= response.status_code < 500 and "xml" not in response.headers.get("content-type", "")
    oversize = server.post("/wechat/official", content=b"<xml>" + b"a" * 200_000)
    assert error_of(oversize, 413)["code"] == "body_too_large"
    still_answers(server)


def test_an_official_cancels_an_update_job_on_the_page(server: Server) -> None:
    long_text = "\n\n".join(
        f"第{i}条 青溪县第{i}号山塘的管护员由第{i}组组长担任，每月清理一次溢洪道，清理记录保存两年。" * 6
        # Enough chunks (~1,000, under the 1 MB upload limit) that embedding outlasts the polling on a fast CPU.
        for i in range(1, 1001)
    )
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            asked: list[str] = []
            page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
            page.goto(server.url + "/admin")
            page.wait_for_selector("body[data-ready=true]")
            page.fill("#token", TOKEN)
            page.click("#sign-in-button")
            expect(page.locator("#workspace")).to_be_visible()

            job = server.upload(("ponds.txt", long_text.encode()))
            row = page.locator("#job-list li", has_text="ponds.txt")
            # Its documents answer once committed; cancelling then stops only the vectors, and says so.
            expect(row).to_contain_text("已可检索，正在补全向量", timeout=60_000)
            expect(row.locator("button.danger")).to_have_text("取消")
            row.locator("button.danger").click()
            expect(row).to_have_attribute("data-state", "cancelled", timeout=30_000)
            assert len(asked) == 1 and "确定停止补全向量吗？" in asked[0]
            expect(row).to_contain_text("ponds.txt：已取消")
            expect(row).to_contain_text("已停止补全向量")
            page.screenshot(path=screenshot_folder("hostile") / "job-cancelled.png", full_page=True)
            assert server.finished(job)["state"] == "cancelled"
            assert errors == [], errors
        finally:
            browser.close()


def test_sigterm_stops_a_real_server_in_the_middle_of_a_slow_parse(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    """`xiangyin serve` as a process: a document whose parse would take half a minute must not hold
    the server when it is told to stop, and the job says what happened after the restart."""
    home = tmp_path / "home"
    kb = KnowledgeBase(Settings(home=home), embeddings)
    ingest(kb, [write_corpus(tmp_path / "docs")])
    kb.close()
    env = os.environ | {
        "XIANGYIN_ADMIN_TOKEN": TOKEN,
        "XIANGYIN_TTS_ENGINES": '["espeak-ng"]',
        "XIANGYIN_WHISPER_MODEL_PATH": str(tmp_path / "no-whisper"),  # this test never listens
    }

    def start() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        command = [sys.executable, "-m", "xiangyin", "--home", str(home), "serve", "--port", str(port)]
        log = (tmp_path / "server.log").open("a")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/readyz", lambda: process_exit("xiangyin serve", process), 600)
        return process, url

    process, url = start()
    try:
        # Each unclosed [ sends the Markdown link pattern to the end of the line: about 35 s of parsing.
        slow = "# 慢\n\n" + "[" * 100_000 + "\n"
        response = httpx.post(
            f"{url}/api/v1/admin/documents", headers=AUTH, files=[("files", ("slow.md", slow.encode()))]
        )
        job = response.json()
        deadline = time.monotonic() + 60
        while job["state"] != "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
            job = httpx.get(f"{url}/api/v1/admin/jobs/{job['id']}", headers=AUTH).json()
        time.sleep(1.0)
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert time.monotonic() - stopping < 10, "the parse did not hold the server"
    finally:
        if process.poll() is None:
            process.kill()

    process, url = start()
    try:
        after = httpx.get(f"{url}/api/v1/admin/jobs/{job['id']}", headers=AUTH).json()
        assert after["state"] == "failed" and "服务器" in after["message"]
        answer = httpx.post(
            f"{url}/api/v1/chat", json={"message": "2025年城乡居民医保个人缴费多少钱？"}, timeout=120
        )
        assert "400元" in answer.json()["answer"], "the index answers as before"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
