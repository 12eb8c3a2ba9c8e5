"""The catalog's contract, the same assertions against SQLite (one machine) and PostgreSQL (several
hosts); the same BM25 from both; and knowledge bases on two hosts sharing one database and one Chroma
server: one ingests, the other finds the documents on its next query, a second writer is refused, and
an ingest stopped halfway leaves the previous documents answering."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings
from typer.testing import CliRunner

from api.server import chroma_server
from knowledge.base import IngestInProgress, KnowledgeBase
from knowledge.catalog import (
    Catalog,
    DocumentRecord,
    DocumentUpdate,
    Filters,
    MetadataOverride,
    RejectedDocument,
    SqliteCatalog,
    copy_catalog,
    open_catalog,
)
from knowledge.catalog_postgres import PostgresCatalog
from knowledge.chunking import Chunk
from knowledge.ingest import IngestCancelled, ingest
from xiangyin import cli
from xiangyin.settings import Settings

Opener = Callable[[], Catalog]


@pytest.fixture(params=["sqlite", "postgres"])
def open_catalog_of_kind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same catalog again each call (a new process's view of it)."""
    opened: list[Catalog] = []

    def opener() -> Catalog:
        catalog: Catalog
        if request.param == "sqlite":
            catalog = SqliteCatalog(tmp_path / "catalog.sqlite3")
        else:
            catalog = PostgresCatalog(request.getfixturevalue("database_url"))
        opened.append(catalog)
        return catalog

    yield opener
    for catalog in opened:
        catalog.close()


def document(source: str, texts: list[str], kind: str = "policy", region: str = "") -> DocumentUpdate:
    """A document whose chunks' tokens are their space-separated words (pinyin keys: the words + "py")."""
    chunks = [
        Chunk(f"{source}#{n}", source, n, text, "标题", "第一章", kind, region, "", "", f"hash{n}")
        for n, text in enumerate(texts)
    ]
    record = DocumentRecord(
        source, "/docs", f"file-{source}", "chunker-1", "标题", kind, region, "", "", len(chunks), 10
    )
    return DocumentUpdate(
        record, chunks, [t.split() for t in texts], [[f"{w}py" for w in t.split()] for t in texts]
    )


CORPUS = [
    document("policy/dibao.txt", ["低保 标准 每人 每月 元", "低保 申请 材料 户口本"]),
    document("handbook/medical.txt", ["医保 报销 比例 住院 低保"], "handbook", "青溪县"),
    document("policy/other.txt", ["医保 医保 缴费 时间 集中"], "policy", "云岭县"),
    document("policy/national.txt", ["养老 保险 缴费 档次"]),
]


def ids(ranked: list[tuple[str, float]]) -> list[str]:
    return [chunk_id for chunk_id, _ in ranked]


def test_documents_chunks_and_generations(open_catalog_of_kind: Opener) -> None:
    catalog = open_catalog_of_kind()
    assert catalog.generation() == 0 and catalog.chunk_count() == 0
    catalog.apply(CORPUS[:2], [])
    catalog.apply(CORPUS[2:], [])
    assert catalog.generation() == 2
    assert [d.source for d in catalog.documents()] == sorted(u.record.source for u in CORPUS)
    record = catalog.document("policy/dibao.txt")
    assert record is not None and record.chunks == 2 and record.ingested_at[:2] == "20"
    assert catalog.chunk_count() == 5
    assert catalog.chunk_ids(["policy/dibao.txt"]) == {"policy/dibao.txt#0", "policy/dibao.txt#1"}
    assert catalog.chunks(["policy/dibao.txt#1", "missing"]) == {"policy/dibao.txt#1": CORPUS[0].chunks[1]}
    assert catalog.chunks_of("policy/dibao.txt") == list(CORPUS[0].chunks)
    assert catalog.chunks_around("policy/dibao.txt", 1, 1) == list(CORPUS[0].chunks)
    assert catalog.indexed_tokens()[0] == ("policy/dibao.txt#0", ["低保", "标准", "每人", "每月", "元"])
    assert catalog.indexed_tokens("chunks_pinyin")[2] == (
        "handbook/medical.txt#0",
        ["医保py", "报销py", "比例py", "住院py", "低保py"],
    )

    # Replacing a document and removing another: one change each, old chunks gone from every index.
    catalog.apply([document("policy/dibao.txt", ["低保 新 标准 每人 每月 元"])], ["policy/national.txt"])
    assert catalog.generation() == 3
    assert catalog.chunk_ids(["policy/dibao.txt"]) == {"policy/dibao.txt#0"}
    assert catalog.document("policy/national.txt") is None
    assert catalog.lexical_search(["养老", "档次"], 5) == []
    assert catalog.lexical_search(["户口本"], 5) == []
    assert catalog.token_counts(["低保", "户口本", "新"]) == {"低保": 2, "户口本": 0, "新": 1}

    # A new view of the same store sees the same state.
    again = open_catalog_of_kind()
    assert again.generation() == 3 and again.chunk_count() == 3


def test_bm25_ranking_filters_and_the_pinyin_index(open_catalog_of_kind: Opener) -> None:
    catalog = open_catalog_of_kind()
    catalog.apply(CORPUS, [])
    ranked = catalog.lexical_search(["住院", "低保"], 10)
    assert ids(ranked)[0] == "handbook/medical.txt#0"  # the only chunk with the rarer word
    assert set(ids(ranked)) == {"handbook/medical.txt#0", "policy/dibao.txt#0", "policy/dibao.txt#1"}
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)
    assert all(score > 0 for _, score in ranked)
    assert len(catalog.lexical_search(["医保", "低保"], 2)) == 2
    assert catalog.lexical_search([], 5) == [] and catalog.lexical_search(["没有"], 5) == []

    assert ids(catalog.lexical_search(["医保"], 10, Filters(kind="handbook"))) == ["handbook/medical.txt#0"]
    # A region keeps its own documents and the national ones (no region), not another county's.
    in_county = ids(catalog.lexical_search(["医保", "低保", "缴费"], 10, Filters(region="青溪县")))
    assert "policy/other.txt#0" not in in_county
    assert {"handbook/medical.txt#0", "policy/dibao.txt#0", "policy/national.txt#0"} <= set(in_county)
    assert ids(catalog.lexical_search(["医保", "缴费"], 1, Filters(kind="policy", region="云岭县"))) == [
        "policy/other.txt#0"
    ]

    assert ids(catalog.lexical_search(["养老py"], 5, table="chunks_pinyin")) == ["policy/national.txt#0"]
    assert catalog.lexical_search(["养老"], 5, table="chunks_pinyin") == []
    with pytest.raises(ValueError):
        catalog.lexical_search(["养老"], 5, table="documents")

    vocabulary = catalog.vocabulary()
    assert vocabulary["医保"] == 2 and vocabulary["低保"] == 3 and "养老py" not in vocabulary


def test_sqlite_and_postgres_rank_alike(tmp_path: Path, database_url: str) -> None:
    """Postgres scores with FTS5's own bm25(): the same order and the same scores."""
    sqlite, postgres = SqliteCatalog(tmp_path / "catalog.sqlite3"), PostgresCatalog(database_url)
    for catalog in (sqlite, postgres):
        catalog.apply(CORPUS, [])
        catalog.apply([document("policy/more.txt", ["低保 低保 低保 标准 很 长 的 一段 话 说 低保"])], [])
    for query, table in (
        (["医保", "低保", "缴费"], "chunks_fts"),
        (["标准", "低保", "没有"], "chunks_fts"),
        (["低保py", "医保py"], "chunks_pinyin"),
    ):
        expected = sqlite.lexical_search(query, 10, table=table)
        found = postgres.lexical_search(query, 10, table=table)
        assert ids(found) == ids(expected)
        assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-9)
    sqlite.close()


def test_refusals_overrides_and_embedded_marks(open_catalog_of_kind: Opener) -> None:
    catalog = open_catalog_of_kind()
    catalog.apply(CORPUS, [])
    refused = RejectedDocument(
        "policy/bad.pdf", "/docs", "h1", "recipe", "corrupt", "文件已损坏，请重新上传。"
    )
    catalog.apply([], [], [refused])
    assert catalog.generation() == 1  # a refusal changes nothing a query sees
    catalog.apply(
        [], [], [RejectedDocument("policy/bad.pdf", "/docs", "h2", "recipe", "too big", "文件太大。")]
    )
    [record] = catalog.rejected_documents()
    assert (record.file_hash, record.message, catalog.rejected_count()) == ("h2", "文件太大。", 1)
    assert record.rejected_at
    assert catalog.forget_rejected("policy/bad.pdf") and not catalog.forget_rejected("policy/bad.pdf")
    catalog.apply([], [], [refused], forgotten=["policy/bad.pdf"])
    catalog.apply([], [], [], forgotten=["policy/bad.pdf"])
    assert catalog.rejected_documents() == []

    catalog.set_override(MetadataOverride("policy/dibao.txt", region="青溪县"))
    catalog.set_override(MetadataOverride("policy/dibao.txt", kind="case", region=""))
    override = catalog.override("policy/dibao.txt")
    assert override is not None and override.fields() == {"kind": "case", "region": ""}
    assert list(catalog.overrides()) == ["policy/dibao.txt"]
    catalog.set_override(MetadataOverride("policy/dibao.txt"))  # nothing set: removed
    assert catalog.override("policy/dibao.txt") is None and not catalog.clear_override("policy/dibao.txt")

    assert not catalog.embedded_known("e5") and catalog.embedded_collections() == []
    catalog.mark_embedded("e5", [])
    assert catalog.embedded_known("e5") and catalog.embedded_collections() == ["e5"]
    catalog.mark_embedded("e5", ["policy/dibao.txt#0", "policy/dibao.txt#1", "policy/other.txt#0"])
    catalog.mark_embedded("e5", ["policy/dibao.txt#0"])  # marking twice is harmless
    catalog.mark_embedded("e5", ["policy/dibao.txt#1"], embedded=False)
    assert catalog.embedded_ids("e5") == {"policy/dibao.txt#0", "policy/other.txt#0"}
    assert catalog.pending_by_source("e5") == {
        "policy/dibao.txt": 1,
        "handbook/medical.txt": 1,
        "policy/national.txt": 1,
    }
    catalog.set_meta("note", "一")
    catalog.set_meta("note", "二")
    assert catalog.get_meta("note") == "二" and catalog.get_meta("missing") is None


def test_a_change_that_fails_halfway_leaves_the_previous_state(open_catalog_of_kind: Opener) -> None:
    catalog = open_catalog_of_kind()
    catalog.apply(CORPUS, [])
    before = (catalog.generation(), catalog.chunk_ids(), catalog.lexical_search(["低保"], 10))
    broken = document("policy/dibao.txt", ["低保 改了", "第二块"])
    broken = DocumentUpdate(broken.record, broken.chunks, broken.tokens[:1], broken.pinyin)  # fails mid-way
    with pytest.raises(ValueError):
        catalog.apply([document("policy/new.txt", ["新 文件 低保"]), broken], ["policy/national.txt"])
    after = open_catalog_of_kind()
    assert (after.generation(), after.chunk_ids(), after.lexical_search(["低保"], 10)) == before
    assert after.document("policy/new.txt") is None and after.document("policy/national.txt") is not None


def test_one_writer_at_a_time(open_catalog_of_kind: Opener) -> None:
    first, second = open_catalog_of_kind(), open_catalog_of_kind()
    with first.writer_lock() as taken:
        assert taken
        with second.writer_lock() as also:
            assert not also
    with second.writer_lock() as taken:
        assert taken


_HOLD_THE_LOCK = """
import sys, time
from knowledge.catalog_postgres import PostgresCatalog
with PostgresCatalog(sys.argv[1]).writer_lock() as taken:
    print(taken, flush=True)
    time.sleep(600)
"""


def test_a_writer_that_dies_frees_the_lock(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_LOCK, database_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        catalog = PostgresCatalog(database_url)
        with catalog.writer_lock() as taken:
            assert not taken
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:  # the server notices the dropped connection within moments
        with catalog.writer_lock() as taken:
            if taken:
                break
        assert time.monotonic() < deadline, "the dead writer's lock was never released"
        time.sleep(0.1)


def test_the_factory_picks_postgres_by_database_url(tmp_path: Path, database_url: str) -> None:
    embedded = open_catalog(Settings(home=tmp_path / "home"))
    shared = open_catalog(Settings(home=tmp_path / "home", database_url=database_url))
    assert isinstance(embedded, SqliteCatalog) and isinstance(shared, PostgresCatalog)
    assert embedded.path == tmp_path / "home" / "index" / "catalog.sqlite3"
    embedded.close()


def test_copying_a_data_home_catalog_into_postgres(tmp_path: Path, database_url: str) -> None:
    source = SqliteCatalog(tmp_path / "catalog.sqlite3")
    source.apply(CORPUS, [])
    source.set_override(MetadataOverride("policy/dibao.txt", region="青溪县"))
    source.mark_embedded("e5", ["policy/dibao.txt#0"])
    target = PostgresCatalog(database_url)
    assert copy_catalog(source, target) == 5
    assert target.documents() == [
        DocumentRecord(**{**d.__dict__, "ingested_at": t.ingested_at})
        for d, t in zip(source.documents(), target.documents(), strict=True)
    ]
    assert sorted(target.indexed_tokens("chunks_pinyin")) == sorted(source.indexed_tokens("chunks_pinyin"))
    assert target.overrides().keys() == {"policy/dibao.txt"}
    assert target.embedded_ids("e5") == {"policy/dibao.txt#0"}
    assert ids(target.lexical_search(["住院", "低保"], 5)) == ids(source.lexical_search(["住院", "低保"], 5))
    source.close()


# Two hosts: knowledge bases with data homes of their own, one database, one Chroma server.


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with chroma_server(tmp_path / "chroma-server") as url:
        yield url


@pytest.fixture
def hosts(
    tmp_path: Path, database_url: str, chroma_url: str, embeddings: Embeddings
) -> Iterator[tuple[KnowledgeBase, KnowledgeBase]]:
    # Another application_name gives each host a pool (connections) of its own, as two processes have.
    a, b = (
        KnowledgeBase(
            Settings(
                home=tmp_path / f"home-{name}",
                database_url=f"{database_url}?application_name=host-{name}",
                chroma_url=chroma_url,
            ),
            embeddings,
        )
        for name in "ab"
    )
    yield a, b
    a.close()
    b.close()


@pytest.mark.slow
def test_a_document_ingested_on_one_host_is_found_by_the_other(
    hosts: tuple[KnowledgeBase, KnowledgeBase], corpus: Path, tmp_path: Path
) -> None:
    a, b = hosts
    assert b.search("低保一个月能领多少", k=3) == []  # b is up before anything is ingested
    b_words = b.catalog.vocabulary()
    report = ingest(a, [corpus])
    assert report.chunks > 0
    hits = b.search("低保一个月能领多少", k=3)
    assert hits[0].chunk.source == "policy/dibao.txt" and hits[0].dense_score is not None
    assert b.stats().chunks == b.stats().vectors == report.chunks
    assert b.catalog.generation() == a.catalog.generation() > 0
    assert len(b.catalog.vocabulary()) > len(b_words)

    # A later document, added through a: b's next query finds it, lexically and by meaning.
    (corpus / "policy" / "notice.txt").write_text(
        "停水通知\n本周六上午8点至12点桃源村停水检修，请村民提前储水。", encoding="utf-8"
    )
    assert ingest(a, [corpus]).added == ["policy/notice.txt"]
    assert b.search("桃源村什么时候停水", k=1)[0].chunk.source == "policy/notice.txt"
    assert b.search("桃源村停水", k=1, mode="lexical")[0].chunk.source == "policy/notice.txt"
    assert b.catalog.token_counts(["桃源村"]) == {"桃源村": 1}

    # No data-home files hold the catalog: each host's home has no SQLite catalog at all.
    assert not (tmp_path / "home-a" / "index" / "catalog.sqlite3").exists()
    assert not (tmp_path / "home-b" / "index" / "catalog.sqlite3").exists()


@pytest.mark.slow
def test_a_second_writer_on_another_host_is_refused(
    hosts: tuple[KnowledgeBase, KnowledgeBase], corpus: Path
) -> None:
    a, b = hosts
    with a.writer():
        with pytest.raises(IngestInProgress):
            ingest(b, [corpus])
        with pytest.raises(IngestInProgress):
            b.remove(["policy/dibao.txt"])
    assert ingest(b, [corpus]).chunks > 0  # free again once a is done


@pytest.mark.slow
def test_an_ingest_stopped_halfway_leaves_the_previous_documents_answering(
    hosts: tuple[KnowledgeBase, KnowledgeBase], corpus: Path
) -> None:
    a, b = hosts
    ingest(a, [corpus])
    before = b.catalog.chunk_ids()
    grain = corpus / "policy" / "grain.md"
    grain.write_text(grain.read_text(encoding="utf-8").replace("每亩120元", "每亩150元"), encoding="utf-8")
    (corpus / "policy" / "dibao.txt").unlink()
    batches: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "embed" and done:
            batches.append(done)

    # Stopped after its first batch of vectors, before the catalog's commit.
    with pytest.raises(IngestCancelled):
        ingest(a, [corpus], progress=progress, cancelled=lambda: bool(batches), searchable_first=False)
    assert batches
    assert b.catalog.chunk_ids() == before
    assert "每亩120元" in b.search("耕地地力保护补贴每亩多少钱", k=1)[0].chunk.text
    assert b.search("低保一个月能领多少", k=1)[0].chunk.source == "policy/dibao.txt"
    with b.writer():
        pass  # the stopped writer let go of the lock

    report = ingest(b, [corpus])  # the other host finishes the work
    assert report.updated == ["policy/grain.md"] and report.removed == ["policy/dibao.txt"]
    assert "每亩150元" in a.search("耕地地力保护补贴每亩多少钱", k=1)[0].chunk.text


def test_a_township_knowledge_base_is_shared_with_several_hosts_without_embedding_again(
    tmp_path: Path, database_url: str, chroma_url: str, corpus: Path, embeddings: Embeddings
) -> None:
    """`xiangyin kb share`: one machine's data home copied into PostgreSQL and a Chroma server."""
    home = tmp_path / "township"
    township = KnowledgeBase(Settings(home=home), embeddings)
    report = ingest(township, [corpus])
    township.close()
    result = CliRunner().invoke(
        cli.app,
        ["--home", str(home), "kb", "share", "--database-url", database_url, "--chroma-url", chroma_url],
    )
    assert result.exit_code == 0, result.output
    assert f"已复制 {report.chunks} 段、{report.chunks} 个向量" in result.output
    assert "xiangyin@" not in result.output  # no credentials echoed
    host = KnowledgeBase(
        Settings(home=tmp_path / "host", database_url=database_url, chroma_url=chroma_url), embeddings
    )
    try:
        assert host.stats().chunks == host.stats().vectors == report.chunks
        hit = host.search("低保一个月能领多少", k=1)[0]
        assert hit.chunk.source == "policy/dibao.txt" and hit.dense_score is not None
        assert ingest(host, [corpus]).embedded == 0  # the same documents: nothing to embed
    finally:
        host.close()
