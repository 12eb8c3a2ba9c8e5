"""Issue 19's admin API through the real ASGI app: what the assistant reads of a document, officials'
metadata corrections (kept across re-ingests), region-filtered retrieval, expired documents left out of
answers, re-indexing one document, and the failed cases of an evaluation run; with the same token,
limits and Chinese error shape as every admin route."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.embeddings import Embeddings
from pydantic import SecretStr

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from tests.corpus import write_corpus
from tests.web import error_of
from xiangyin.settings import Settings

TOKEN = "village-admin-kb19"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADMIN = "/api/v1/admin"
SOLAR = """青溪县屋顶光伏发电补贴办法

第一条 农户在自家屋顶安装光伏发电设备并网的，县财政按发电量给予补贴，每千瓦时补贴0.3元，连续补贴3年。

第二条 申请补贴的农户，向所在乡镇农业综合服务中心提交并网验收单和身份证复印件。
"""
SOLAR_QUESTION = "屋顶光伏发电每千瓦时补贴多少钱？"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_corpus(tmp_path_factory.mktemp("kb19") / "docs")
    (root / "policy" / "solar.txt").write_text(SOLAR, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def api(docs: Path, embeddings: Embeddings) -> Iterator[TestClient]:
    settings = Settings(
        home=docs.parent / "home",
        admin_token=SecretStr(TOKEN),
        tts_engines=["espeak-ng"],
        rate_limit="1000/minute",
        expired_documents="exclude",
    )
    kb = KnowledgeBase(settings, embeddings)
    ingest(kb, [docs])
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
        time.sleep(0.3)
        job = client.get(f"{ADMIN}/jobs/{job['id']}", headers=AUTH).json()
    return job


def document(client: TestClient, source: str) -> dict[str, Any]:
    listed = client.get(f"{ADMIN}/documents", headers=AUTH).json()
    return dict(next(d for d in listed if d["source"] == source))


def correct(client: TestClient, source: str, change: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"{ADMIN}/documents/{source}/metadata", json=change, headers=AUTH)
    assert response.status_code == 202, response.text
    job = finished(client, response.json())
    assert job["state"] == "done" and job["kind"] == "metadata", job
    return job


def search(client: TestClient, question: str, region: str | None = None) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"question": question} | ({"region": region} if region else {})
    response = client.post(f"{ADMIN}/search", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return list(response.json())


ROUTES = [
    ("GET", "/documents/policy/grain.md/chunks", None),
    ("PUT", "/documents/policy/grain.md/metadata", {"region": "别处"}),
    ("POST", "/documents/policy/grain.md/reindex", None),
    ("POST", "/search", {"question": "种粮补贴"}),
    ("GET", "/evals/runs/abc/failures", None),
]


def test_the_new_routes_need_the_token_and_are_documented(api: TestClient) -> None:
    for method, path, body in ROUTES:
        assert error_of(api.request(method, ADMIN + path, json=body), 401)["code"] == "unauthorized"
        wrong = {"Authorization": "Bearer guessed"}
        assert (
            error_of(api.request(method, ADMIN + path, json=body, headers=wrong), 403)["code"] == "forbidden"
        )
    # The refused correction was not stored.
    assert document(api, "policy/grain.md")["overrides"] == {}

    paths = api.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/documents/{source}/chunks", "get"),
        ("/documents/{source}/metadata", "put"),
        ("/documents/{source}/reindex", "post"),
        ("/search", "post"),
        ("/evals/runs/{run_id}/failures", "get"),
    ]:
        documented = paths[ADMIN + path][method]["responses"]
        assert {"401", "403"} <= set(documented), path
    assert "422" in paths[f"{ADMIN}/documents/{{source}}/metadata"]["put"]["responses"]


def test_the_list_shows_validity_size_and_when_indexed(api: TestClient, docs: Path) -> None:
    grain = document(api, "policy/grain.md")
    assert grain["status"] == "indexed" and grain["chunks"] > 0
    assert grain["bytes"] == (docs / "policy" / "grain.md").stat().st_size
    assert grain["ingested_at"][:2] == "20" and grain["overrides"] == {}
    # The corpus's grain policy ends on 2025-12-31: expired from 2026 on.
    assert grain["valid_to"] == "2025-12-31"
    assert grain["expired"] is (dt.date.today() > dt.date(2025, 12, 31))
    assert document(api, "policy/solar.txt")["expired"] is False  # no end date


def test_a_document_shows_its_chunks_in_order_with_sections_and_table_rows(api: TestClient) -> None:
    response = api.get(f"{ADMIN}/documents/handbook/broadcast.docx/chunks", headers=AUTH)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["document"]["source"] == "handbook/broadcast.docx"
    chunks = view["chunks"]
    assert (
        [c["ordinal"] for c in chunks] == list(range(len(chunks))) == list(range(view["document"]["chunks"]))
    )
    text = "\n".join(c["text"] for c in chunks)
    # The table as the rows the assistant quotes, each readable alone.
    assert "套餐：基础版；月费：30元/月；音柱数量：4只" in text
    assert any("二、资费" in c["section"] for c in chunks)
    # Exactly what retrieval returns.
    hit = api.app.state.services.assistant.kb.search("增强版云广播每月多少钱", k=1)[0]  # type: ignore[attr-defined]
    assert {"id": hit.chunk.id, "text": hit.chunk.text} in [
        {"id": c["id"], "text": c["text"]} for c in chunks
    ]

    missing = error_of(api.get(f"{ADMIN}/documents/policy/nothing.md/chunks", headers=AUTH), 404)
    assert missing["code"] == "document_not_found"


def test_a_region_correction_changes_region_filtered_retrieval_and_survives_reingest(
    api: TestClient, docs: Path
) -> None:
    source = "policy/solar.txt"
    assert search(api, SOLAR_QUESTION, "江南省青溪县")[0]["source"] == source  # no region: national

    correct(api, source, {"region": "江北省白沙县", "title": "白沙县屋顶光伏补贴办法"})
    solar = document(api, source)
    assert solar["region"] == "江北省白沙县" and solar["title"] == "白沙县屋顶光伏补贴办法"
    assert solar["overrides"] == {"region": "江北省白沙县", "title": "白沙县屋顶光伏补贴办法"}
    chunks = api.get(f"{ADMIN}/documents/{source}/chunks", headers=AUTH).json()["chunks"]
    assert chunks and all(c["text"] for c in chunks)
    # Another region's question no longer reads it; its own region's does, with the corrected title.
    assert source not in {h["source"] for h in search(api, SOLAR_QUESTION, "江南省青溪县")}
    mine = search(api, SOLAR_QUESTION, "江北省白沙县")[0]
    assert mine["source"] == source and mine["region"] == "江北省白沙县"
    assert mine["title"] == "白沙县屋顶光伏补贴办法"

    # Re-ingesting the same file (the CLI, or a re-index) keeps the correction, reading nothing again.
    kb = api.app.state.services.writer_kb  # type: ignore[attr-defined]
    report = ingest(kb, [docs])
    assert source in report.unchanged and not report.updated
    again = api.post(f"{ADMIN}/documents/{source}/reindex", headers=AUTH)
    assert again.status_code == 202
    job = finished(api, again.json())
    assert job["state"] == "done" and job["updated"] == [source], job
    assert document(api, source)["region"] == "江北省白沙县"
    # Changed bytes are read again, still corrected.
    (docs / "policy" / "solar.txt").write_text(
        SOLAR + "\n第三条 本办法自发布之日起施行。\n", encoding="utf-8"
    )
    assert source in ingest(kb, [docs]).updated
    assert document(api, source)["region"] == "江北省白沙县"

    # {} returns the document to its file's metadata.
    correct(api, source, {})
    solar = document(api, source)
    assert (
        solar["region"] == "" and solar["overrides"] == {} and solar["title"] == "青溪县屋顶光伏发电补贴办法"
    )


def test_an_expired_document_is_marked_and_not_answered_from(api: TestClient) -> None:
    source = "policy/solar.txt"
    answer = api.post("/api/v1/chat", json={"message": SOLAR_QUESTION}).json()
    assert "0.3元" in answer["answer"] and answer["citations"][0]["source"] == source

    correct(api, source, {"valid_from": "2020-01-01", "valid_to": "2022-12-31"})
    solar = document(api, source)
    assert solar["expired"] is True and solar["valid_to"] == "2022-12-31"
    answer = api.post("/api/v1/chat", json={"message": SOLAR_QUESTION}).json()
    assert answer["refused"] and "0.3元" not in answer["answer"]
    assert "已经过期" in answer["answer"] and "需要上传新的文件" in answer["answer"]
    assert source not in {p["source"] for p in answer["passages"]}
    assert source not in {h["source"] for h in search(api, SOLAR_QUESTION)}

    # An empty date removes it: in force again.
    correct(api, source, {"valid_to": ""})
    assert document(api, source)["expired"] is False
    answer = api.post("/api/v1/chat", json={"message": SOLAR_QUESTION}).json()
    assert "0.3元" in answer["answer"]
    correct(api, source, {})


def test_bad_corrections_and_searches_get_chinese_422s(api: TestClient) -> None:
    path = f"{ADMIN}/documents/policy/grain.md/metadata"
    bad: list[dict[str, Any]] = [
        {"valid_to": "2025-13-40"},
        {"kind": "novel"},
        {"region": "区" * 61},
        {"title": ""},
        {"title": "a\x00b"},
        {"regoin": "拼错"},
    ]
    for body in bad:
        error = error_of(api.put(path, json=body, headers=AUTH), 422)
        assert error["code"] == "invalid_request", body
    assert "截止日期" in error_of(api.put(path, json=bad[0], headers=AUTH), 422)["message"]
    order = error_of(
        api.put(path, json={"valid_from": "2025-12-31", "valid_to": "2025-01-01"}, headers=AUTH), 422
    )
    assert order["code"] == "bad_validity" and "生效日期" in order["message"]
    assert document(api, "policy/grain.md")["overrides"] == {}
    missing = error_of(api.put(f"{ADMIN}/documents/policy/none.md/metadata", json={}, headers=AUTH), 404)
    assert missing["code"] == "document_not_found"
    assert error_of(api.post(f"{ADMIN}/documents/x/none.md/reindex", headers=AUTH), 404)["code"] == (
        "document_not_found"
    )

    for body in ({"question": ""}, {"question": "问" * 201}, {"question": "低保", "k": 50}, {"q": "低保"}):
        assert (
            error_of(api.post(f"{ADMIN}/search", json=body, headers=AUTH), 422)["code"] == "invalid_request"
        )
    assert error_of(api.get(f"{ADMIN}/evals/runs/{'0' * 32}/failures", headers=AUTH), 404)["code"] == (
        "run_not_found"
    )


def test_deleting_a_document_forgets_its_correction(api: TestClient, docs: Path) -> None:
    upload = api.post(
        f"{ADMIN}/documents",
        headers=AUTH,
        files=[
            (
                "files",
                (
                    "well.txt",
                    "桃源村水井管理办法\n\n水井每季度消毒一次，由村卫生员负责。\n".encode(),
                    "text/plain",
                ),
            )
        ],
    )
    assert finished(api, upload.json())["added"] == ["well.txt"]
    correct(api, "well.txt", {"region": "桃源村"})
    assert document(api, "well.txt")["region"] == "桃源村"
    assert api.delete(f"{ADMIN}/documents/well.txt", headers=AUTH).json() == {"removed": ["well.txt"]}
    assert api.app.state.services.assistant.kb.catalog.override("well.txt") is None  # type: ignore[attr-defined]
