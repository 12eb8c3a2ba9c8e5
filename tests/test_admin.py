"""Knowledge administration through the real ASGI app: token, uploads ingested in the background,
corrupt files reported, delete and re-index, on a small knowledge base of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.embeddings import Embeddings

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from tests.corpus import write_corpus
from xiangyin.settings import Settings

TOKEN = "village-admin-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SOLAR = """青溪县屋顶光伏发电补贴办法

第一条 农户在自家屋顶安装光伏发电设备并网的，县财政按发电量给予补贴，每千瓦时补贴0.3元，连续补贴3年。

第二条 申请补贴的农户，向所在乡镇农业综合服务中心提交并网验收单和身份证复印件。
"""


@pytest.fixture(scope="module")
def admin_api(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("admin")
    settings = Settings(
        home=root / "home",
        admin_token=TOKEN,
        tts_engines=["espeak-ng"],
        rate_limit="1000/minute",
        max_upload_bytes=200_000,
    )
    kb = KnowledgeBase(settings, embeddings)
    ingest(kb, [write_corpus(root / "docs")])
    assistant = Assistant(
        settings, knowledge_base=kb, sessions=SessionStore(settings.home / "sessions.sqlite3")
    )
    services = Services(settings, assistant)
    with TestClient(create_app(settings, services)) as client:
        assert services.wait_loaded(600)
        yield client
    kb.close()


def finished(client: TestClient, job: dict[str, Any], timeout_s: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job did not finish: {job}"
        time.sleep(0.5)
        job = client.get(f"/api/v1/admin/jobs/{job['id']}", headers=AUTH).json()
    return job


def ask(client: TestClient, question: str) -> dict[str, Any]:
    response = client.post("/api/v1/chat", json={"message": question})
    assert response.status_code == 200
    return dict(response.json())


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["code"])


def test_admin_routes_need_the_token(admin_api: TestClient) -> None:
    assert error_code(admin_api.get("/api/v1/admin/documents"), 401) == "unauthorized"
    wrong = {"Authorization": "Bearer guess"}
    assert error_code(admin_api.get("/api/v1/admin/documents", headers=wrong), 403) == "forbidden"
    assert error_code(admin_api.post("/api/v1/admin/reindex", headers=wrong), 403) == "forbidden"
    listed = admin_api.get("/api/v1/admin/documents", headers=AUTH).json()
    assert {d["source"] for d in listed} >= {"policy/grain.md", "handbook/broadcast.docx"}


def test_upload_is_ingested_in_the_background_and_answered_from(admin_api: TestClient) -> None:
    assert "0.3元" not in ask(admin_api, "屋顶光伏发电每千瓦时补贴多少钱？")["answer"]
    response = admin_api.post(
        "/api/v1/admin/documents",
        headers=AUTH,
        data={"folder": "policy"},
        files=[("files", ("solar.txt", SOLAR.encode(), "text/plain"))],
    )
    assert response.status_code == 202
    job = finished(admin_api, response.json())
    assert (
        job["state"] == "done"
        and job["added"] == ["policy/solar.txt"]
        and job["files"] == ["policy/solar.txt"]
    )
    assert job["stage"] == "complete" and job["done"] == job["total"]
    answer = ask(admin_api, "屋顶光伏发电每千瓦时补贴多少钱？")
    assert "0.3元" in answer["answer"] and answer["citations"][0]["source"] == "policy/solar.txt"
    listed = admin_api.get("/api/v1/admin/documents", headers=AUTH).json()
    solar = next(d for d in listed if d["source"] == "policy/solar.txt")
    assert solar["title"] == "青溪县屋顶光伏发电补贴办法" and solar["kind"] == "policy"


def test_a_corrupt_file_is_skipped_and_reported_and_loses_nothing(admin_api: TestClient) -> None:
    before = {d["source"] for d in admin_api.get("/api/v1/admin/documents", headers=AUTH).json()}
    notice = "桃源村村委会办公时间为周一至周五上午8点到12点。".encode()
    response = admin_api.post(
        "/api/v1/admin/documents",
        headers=AUTH,
        files=[
            ("files", ("broken.pdf", b"%PDF-1.7\n this is not really a pdf", "application/pdf")),
            ("files", ("office-hours.txt", notice, "text/plain")),
        ],
    )
    job = finished(admin_api, response.json())
    assert job["state"] == "done"
    assert list(job["skipped"]) == ["broken.pdf"] and job["skipped"]["broken.pdf"]
    assert job["added"] == ["office-hours.txt"]
    listed = admin_api.get("/api/v1/admin/documents", headers=AUTH).json()
    assert {d["source"] for d in listed if d["status"] == "indexed"} == before | {"office-hours.txt"}
    refused = next(d for d in listed if d["source"] == "broken.pdf")
    assert refused["status"] == "refused" and refused["reason"] == job["skipped"]["broken.pdf"]
    assert "0.3元" in ask(admin_api, "屋顶光伏发电每千瓦时补贴多少钱？")["answer"]


@pytest.mark.parametrize(
    ("filename", "content", "status", "code"),
    [
        ("virus.exe", b"MZ....", 415, "unsupported_document"),
        (".hidden.txt", "内容".encode(), 422, "bad_filename"),
        ("big.txt", "大".encode() * 100_000, 413, "upload_too_large"),
    ],
)
def test_bad_uploads_are_refused_before_anything_is_stored(
    admin_api: TestClient, filename: str, content: bytes, status: int, code: str
) -> None:
    response = admin_api.post(
        "/api/v1/admin/documents", headers=AUTH, files=[("files", (filename, content, "text/plain"))]
    )
    assert error_code(response, status) == code
    home = admin_api.app.state.services.settings.home  # type: ignore[attr-defined]
    assert not list((home / "documents").rglob(filename.lstrip(".")))


def test_a_path_in_the_file_name_cannot_escape_the_documents_folder(admin_api: TestClient) -> None:
    response = admin_api.post(
        "/api/v1/admin/documents",
        headers=AUTH,
        files=[("files", ("../../escape.txt", "村里的篮球场晚上10点关灯。".encode(), "text/plain"))],
    )
    job = finished(admin_api, response.json())
    home: Path = admin_api.app.state.services.settings.home  # type: ignore[attr-defined]
    assert job["added"] == ["escape.txt"] and (home / "documents" / "escape.txt").is_file()
    assert not (home.parent / "escape.txt").exists() and not (home / "escape.txt").exists()
    assert (
        error_code(
            admin_api.post(
                "/api/v1/admin/documents",
                headers=AUTH,
                data={"folder": "../up"},
                files=[("files", ("a.txt", "内容".encode(), "text/plain"))],
            ),
            422,
        )
        == "bad_folder"
    )


def test_reindex_picks_up_changed_files_and_delete_removes_a_document(admin_api: TestClient) -> None:
    home: Path = admin_api.app.state.services.settings.home  # type: ignore[attr-defined]
    solar = home / "documents" / "policy" / "solar.txt"
    solar.write_text(SOLAR.replace("0.3元", "0.25元"), encoding="utf-8")
    job = finished(admin_api, admin_api.post("/api/v1/admin/reindex", headers=AUTH).json())
    assert job["state"] == "done" and "policy/solar.txt" in job["updated"]
    assert "0.25元" in ask(admin_api, "屋顶光伏发电每千瓦时补贴多少钱？")["answer"]

    removed = admin_api.delete("/api/v1/admin/documents/policy/solar.txt", headers=AUTH)
    assert removed.status_code == 200 and removed.json() == {"removed": ["policy/solar.txt"]}
    assert not solar.exists(), "the uploaded file goes too, so a re-index does not bring it back"
    assert "0.25元" not in ask(admin_api, "屋顶光伏发电每千瓦时补贴多少钱？")["answer"]
    missing = admin_api.delete("/api/v1/admin/documents/policy/solar.txt", headers=AUTH)
    assert error_code(missing, 404) == "document_not_found"
    jobs = admin_api.get("/api/v1/admin/jobs", headers=AUTH).json()
    assert jobs[0]["kind"] == "reindex" and all(j["state"] == "done" for j in jobs)
    assert error_code(admin_api.get("/api/v1/admin/jobs/nope", headers=AUTH), 404) == "job_not_found"
