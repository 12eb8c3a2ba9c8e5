"""Chunks waiting for a vector (issue 21): the catalog records which chunks are embedded, `kb stats`, the
admin API and the officials' page count the rest, and a re-index completes them; on a real Chroma store
(a counting stand-in embeds, so the tests spend no time embedding)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.embeddings import Embeddings
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from benchmarks.ingest_speed import CountingEmbeddings
from knowledge.base import KnowledgeBase
from knowledge.ingest import embed_pending, ingest, pending_by_source, pending_embeddings
from tests.corpus import write_corpus
from xiangyin import cli
from xiangyin.settings import Settings

NOTICE = """# 第{n}号 关于发放耕地地力保护补贴的通知

一、补贴对象为承包耕地的农户，每亩补贴{money}元。

二、补贴资金于6月底前通过社保卡一次性发放到户。

三、如有疑问，请拨打乡农业服务中心电话咨询。
"""
TOKEN = "village-admin-pending"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class _Stopping(CountingEmbeddings):
    """Asks the ingest to stop after its first batch of embeddings (while `armed`)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = True
        self.stop = False

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.stop = self.armed
        return super().embed_documents(texts)


class _Failing(CountingEmbeddings):
    """Fails on its call number `after + 1` (an engine crash, memory exhausted)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after, self.calls = after, 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls > self.after:
            raise RuntimeError("embedder crashed")
        return super().embed_documents(texts)


def _write(folder: Path, documents: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        text = NOTICE.format(n=n, money=100 + n)
        (folder / f"notice{n:02d}.md").write_text(text, encoding="utf-8")
    return folder


def _stopped_after_commit(kb: KnowledgeBase, corpus: Path, embedder: _Stopping) -> int:
    """An ingest whose embedding stops after one batch, once its documents answer; returns the pending."""
    embedder.armed, embedder.stop = True, False
    report = ingest(kb, [corpus], searchable_first=True, cancelled=lambda: embedder.stop)
    embedder.armed, embedder.stop = False, False
    return report.pending


@pytest.fixture
def stopping() -> _Stopping:
    return _Stopping()


@pytest.fixture
def small_kb(tmp_path: Path, stopping: _Stopping) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(Settings(home=tmp_path / "home", embed_batch_size=2), stopping)
    yield kb
    kb.close()


def test_the_catalog_counts_pending_chunks_per_document(
    small_kb: KnowledgeBase, stopping: _Stopping, tmp_path: Path
) -> None:
    corpus = _write(tmp_path / "corpus", 4)
    pending = _stopped_after_commit(small_kb, corpus, stopping)
    by_source = pending_by_source(small_kb)
    assert 0 < pending == sum(by_source.values()) < small_kb.catalog.chunk_count()
    # The marks agree with the store, document by document.
    missing = small_kb.catalog.chunk_ids() - small_kb.vectors.all_ids()
    expected: dict[str, int] = {}
    for chunk in small_kb.catalog.chunks(sorted(missing)).values():
        expected[chunk.source] = expected.get(chunk.source, 0) + 1
    assert by_source == expected
    assert small_kb.catalog.embedded_known(small_kb.vectors.name)
    # The documents answer by their words meanwhile; a background pass completes the vectors.
    assert small_kb.search("第2号 耕地地力保护补贴", k=1, mode="lexical")[0].chunk.source == "notice02.md"
    assert embed_pending(small_kb) == pending
    assert pending_by_source(small_kb) == {} and pending_embeddings(small_kb) == 0


OIL_TEA = """# 青溪县2025年油茶种植补贴通知

新种油茶每亩补贴800元，由乡镇农业站在11月底前核实面积。

补贴资金在12月底前通过一卡通发放。
"""


def test_a_document_still_waiting_for_its_vectors_answers_by_its_words(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    """Uploaded a minute ago, not embedded yet: its chunks were never compared with the question, so
    neither the fusion nor the similarity floor may count that against them."""
    settings = Settings(home=tmp_path / "home")
    kb = KnowledgeBase(settings, embeddings)
    docs = write_corpus(tmp_path / "docs")
    ingest(kb, [docs])
    (docs / "policy" / "youcha.md").write_text(OIL_TEA, encoding="utf-8")
    stage = {"now": ""}
    report = ingest(
        kb,
        [docs],
        searchable_first=True,
        progress=lambda now, *_: stage.update(now=now),
        cancelled=lambda: stage["now"] == "complete",
    )
    pending = {c.id for c in kb.catalog.chunks_of("policy/youcha.md")}
    assert report.pending == len(pending) and kb.pending(sorted(pending)) == pending
    assistant = Assistant(settings, knowledge_base=kb, sessions=SessionStore(tmp_path / "s.sqlite3"))
    try:
        for question, fact in (("新种油茶每亩补贴多少钱？", "800元"), ("油茶补贴什么时候发？", "12月底")):
            answer = assistant.ask(question)
            assert not answer.refused and fact in answer.answer, answer
            assert answer.citations[0].source == "policy/youcha.md"
        # Embedded, it ranks as before by both lists.
        embed_pending(kb)
        assert kb.pending(sorted(pending)) == set()
        assert kb.search("新种油茶每亩补贴多少钱", k=1)[0].chunk.source == "policy/youcha.md"
    finally:
        assistant.close()  # and the knowledge base it was given


def test_searchable_first_reports_the_completion_as_its_own_stage(
    small_kb: KnowledgeBase, stopping: _Stopping, tmp_path: Path
) -> None:
    corpus = _write(tmp_path / "corpus", 2)
    stopping.armed = False
    stages: list[str] = []
    ingest(small_kb, [corpus], searchable_first=True, progress=lambda stage, *_: stages.append(stage))
    # Read, then committed (answering), then the vectors: a job shows "complete" once documents answer.
    assert stages[0] == "read" and "embed" not in stages
    assert stages.index("complete") > max(i for i, s in enumerate(stages) if s == "read")


def test_a_crash_between_a_vector_and_its_mark_is_reconciled(
    small_kb: KnowledgeBase, stopping: _Stopping, tmp_path: Path
) -> None:
    corpus = _write(tmp_path / "corpus", 2)
    stopping.armed = False
    ingest(small_kb, [corpus])
    collection = small_kb.vectors.name
    ids = sorted(small_kb.catalog.chunk_ids())
    # Vectors written, marks lost (a crash just after the write).
    small_kb.catalog.mark_embedded(collection, ids, embedded=False)
    assert pending_embeddings(small_kb) == len(ids)
    report = ingest(small_kb, [corpus])
    assert report.embedded == 0 and pending_embeddings(small_kb) == 0


def test_an_index_from_before_the_marks_counts_from_the_store(
    small_kb: KnowledgeBase, stopping: _Stopping, tmp_path: Path
) -> None:
    corpus = _write(tmp_path / "corpus", 3)
    pending = _stopped_after_commit(small_kb, corpus, stopping)
    db = small_kb.catalog._db  # a test rewinds the catalog to before the marks existed
    db.execute("DELETE FROM embedded")
    db.execute("DELETE FROM meta WHERE key LIKE 'embedded:%'")
    assert not small_kb.catalog.embedded_known(small_kb.vectors.name)
    assert pending_embeddings(small_kb) == pending


def test_a_document_deleted_and_uploaded_again_is_pending_again(
    small_kb: KnowledgeBase, stopping: _Stopping, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sections = [f"## 第{k}部分\n\n{NOTICE.format(n=k, money=100 + k) * 3}" for k in range(5)]
    (corpus / "notice00.md").write_text("# 补贴汇编\n\n" + "\n\n".join(sections), encoding="utf-8")
    stopping.armed = False
    ingest(small_kb, [corpus])
    chunks = small_kb.catalog.chunk_count()
    assert chunks > 3
    small_kb.remove(["notice00.md"])
    # The same chunks (same ids) come back; their vectors were deleted with the document.
    pending = _stopped_after_commit(small_kb, corpus, stopping)
    assert pending == chunks - 2 == pending_embeddings(small_kb)


def test_kb_stats_shows_the_pending_chunks(
    small_kb: KnowledgeBase, stopping: _Stopping, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _write(tmp_path / "corpus", 3)
    pending = _stopped_after_commit(small_kb, corpus, stopping)
    monkeypatch.setattr(cli, "_open", lambda ctx: KnowledgeBase(small_kb.settings, stopping))
    runner = CliRunner()
    home = ["--home", str(small_kb.settings.home)]
    stats = json.loads(runner.invoke(cli.app, [*home, "kb", "stats", "--json"]).stdout)
    assert stats["pending"] == pending and stats["pending_by_document"] == pending_by_source(small_kb)
    shown = runner.invoke(cli.app, [*home, "kb", "stats"]).stdout
    assert f"向量未完成 {pending} 段" in shown
    embed_pending(small_kb)
    assert "向量未完成" not in runner.invoke(cli.app, [*home, "kb", "stats"]).stdout


def _finished(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.get(f"/api/v1/admin/jobs/{job['id']}", headers=AUTH).json()
    return job


def _half_embedded_server(
    stopping: _Stopping, tmp_path: Path, resume: bool = False
) -> tuple[Settings, KnowledgeBase, Services, int]:
    """The API's services over a knowledge base whose ingest stopped after the commit: its documents
    answer by their words, some of their chunks wait for a vector (`resume`: completed at start)."""
    corpus = _write(tmp_path / "corpus", 3)
    settings = Settings(
        home=tmp_path / "home",
        admin_token=SecretStr(TOKEN),
        tts_engines=["espeak-ng"],
        rate_limit="1000/minute",
        whisper_model_path=tmp_path / "no-whisper",
        embed_batch_size=2,
        resume_embedding=resume,
    )
    kb = KnowledgeBase(settings, stopping)
    pending = _stopped_after_commit(kb, corpus, stopping)
    assistant = Assistant(settings, knowledge_base=kb, sessions=SessionStore(settings.home / "s.sqlite3"))
    services = Services(settings, assistant)
    # The jobs' own knowledge base, with the same stand-in embedder (the real one would write elsewhere).
    services.__dict__["writer_kb"] = KnowledgeBase(settings, stopping)
    return settings, kb, services, pending


def test_the_admin_api_shows_pending_vectors_and_a_reindex_completes_them(
    stopping: _Stopping, tmp_path: Path
) -> None:
    settings, kb, services, pending = _half_embedded_server(stopping, tmp_path)
    try:
        with TestClient(create_app(settings, services)) as client:
            assert services.wait_loaded(120)
            stats = client.get("/api/v1/admin/stats", headers=AUTH).json()
            assert stats["pending"] == pending > 0 and stats["completing"] is False
            assert stats["chunks"] == kb.catalog.chunk_count()
            listed = client.get("/api/v1/admin/documents", headers=AUTH).json()
            assert {d["source"]: d["pending"] for d in listed if d["pending"]} == pending_by_source(kb)
            assert all(d["status"] == "indexed" for d in listed)
            assert client.get("/api/v1/admin/stats").status_code == 401
            # The page's 继续补全 is a re-index: nothing is read again, the missing vectors are added.
            job = _finished(client, client.post("/api/v1/admin/reindex", headers=AUTH).json())
            assert job["state"] == "done" and not job["added"] and not job["updated"]
            assert client.get("/api/v1/admin/stats", headers=AUTH).json()["pending"] == 0
    finally:
        kb.close()


def test_a_server_started_over_pending_vectors_completes_them(stopping: _Stopping, tmp_path: Path) -> None:
    settings, kb, services, pending = _half_embedded_server(stopping, tmp_path, resume=True)
    try:
        with TestClient(create_app(settings, services)) as client:
            assert services.wait_loaded(120) and pending > 0
            jobs = client.get("/api/v1/admin/jobs", headers=AUTH).json()
            assert [job["kind"] for job in jobs] == ["reindex"]
            assert _finished(client, jobs[0])["state"] == "done"
            assert client.get("/api/v1/admin/stats", headers=AUTH).json()["pending"] == 0
        # Nothing pending: the next start submits nothing.
        again = Services(
            settings, Assistant(settings, knowledge_base=kb, sessions=services.assistant.sessions)
        )
        again.__dict__["writer_kb"] = services.writer_kb
        with TestClient(create_app(settings, again)) as client:
            assert again.wait_loaded(120)
            assert len(client.get("/api/v1/admin/jobs", headers=AUTH).json()) == 1
    finally:
        kb.close()


@pytest.mark.slow
def test_the_officials_page_shows_pending_vectors_and_resumes_them(
    stopping: _Stopping, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.live_server import live_server
    from tests.web import CHROMIUM, screenshot_folder

    settings, kb, services, pending = _half_embedded_server(stopping, tmp_path)
    by_source = pending_by_source(kb)
    try:
        with live_server(create_app(settings, services)) as url, sync_playwright() as driver:
            assert services.wait_loaded(120)
            browser = driver.chromium.launch(executable_path=CHROMIUM)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(url + "/admin")
                page.wait_for_selector("body[data-ready=true]")
                page.fill("#token", TOKEN)
                page.click("#sign-in-button")
                state = page.locator("#vector-state")
                expect(state).to_contain_text(f"向量未完成 {pending} 段")
                source, waiting = next(iter(by_source.items()))
                row = page.locator(f'#doc-list li[data-source="{source}"]')
                expect(row).to_contain_text(f"向量未完成 {waiting} 段")
                expect(row.locator(".badge")).to_have_text("已收录")
                page.screenshot(path=screenshot_folder("pending") / "pending-vectors.png", full_page=True)
                page.click("#resume-vectors")
                expect(state).to_be_hidden(timeout=60_000)
                expect(row).not_to_contain_text("向量未完成")
                assert errors == [], errors
            finally:
                browser.close()
    finally:
        kb.close()


def test_an_embedder_failing_midway_keeps_every_batch_embedded_before(tmp_path: Path) -> None:
    """Each batch is written while the next one embeds: a failure on the third batch must still find the
    second written and marked, and nothing marked without its vector."""
    embedder = _Failing(after=2)
    kb = KnowledgeBase(Settings(home=tmp_path / "home", embed_batch_size=2), embedder)
    try:
        corpus = _write(tmp_path / "corpus", 8)
        with pytest.raises(RuntimeError, match="embedder crashed"):
            ingest(kb, [corpus], searchable_first=True)
        stored = kb.vectors.all_ids()
        assert len(stored) == 4  # two batches of two
        assert kb.catalog.embedded_ids(kb.vectors.name) == stored
        # The documents answer by their words; the next pass embeds only what is missing.
        assert kb.search("第5号 耕地地力保护补贴", k=1, mode="lexical")[0].chunk.source == "notice05.md"
        embedder.after = 1_000
        assert embed_pending(kb) == kb.catalog.chunk_count() - 4
        assert pending_embeddings(kb) == 0
    finally:
        kb.close()
