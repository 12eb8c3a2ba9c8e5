"""Identical chunks are embedded once (issue 21), within an ingest and across documents already stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.ingest_speed import CountingEmbeddings
from knowledge.base import KnowledgeBase
from knowledge.ingest import IngestCancelled, embed_hash, embed_pending, ingest, pending_embeddings
from xiangyin.settings import Settings

NOTICE = """# 关于发放2025年耕地地力保护补贴的通知

各村民小组：

一、补贴对象为承包耕地的农户，每亩补贴120元。

二、补贴资金于2025年6月底前通过社保卡一次性发放到户。

三、如有疑问，请拨打乡农业服务中心电话0571-12345678咨询。
"""


def _write(folder: Path, name: str, text: str = NOTICE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def counting() -> CountingEmbeddings:
    return CountingEmbeddings()


@pytest.fixture
def fast_kb(tmp_path: Path, counting: CountingEmbeddings) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(Settings(home=tmp_path / "home"), counting)
    yield kb
    kb.close()


def _vectors(kb: KnowledgeBase, ids: list[str]) -> dict[str, list[float]]:
    got = kb.vectors._collection.get(ids=ids, include=["embeddings"])  # a test looks inside
    embeddings = got["embeddings"]
    assert embeddings is not None
    return {i: [float(x) for x in v] for i, v in zip(got["ids"], embeddings, strict=True)}


def test_the_same_notice_twice_in_one_ingest_is_embedded_once(
    fast_kb: KnowledgeBase, counting: CountingEmbeddings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    _write(corpus / "county", "notice.md")
    _write(corpus / "township", "notice.md")
    report = ingest(fast_kb, [corpus])
    per_copy = fast_kb.catalog.document("county/notice.md")
    assert per_copy is not None and per_copy.chunks > 0
    assert report.chunks == 2 * per_copy.chunks
    assert report.embedded == counting.texts == per_copy.chunks
    assert report.shared == per_copy.chunks
    # Every chunk has its own vector (filters and citations need its own metadata), equal to its twin's.
    assert fast_kb.vectors.all_ids() == fast_kb.catalog.chunk_ids()
    first = fast_kb.catalog.chunks_of("county/notice.md")
    second = fast_kb.catalog.chunks_of("township/notice.md")
    vectors = _vectors(fast_kb, [c.id for c in first + second])
    for a, b in zip(first, second, strict=True):
        assert a.id != b.id
        assert vectors[a.id] == pytest.approx(vectors[b.id])
    # Chunks, not read-big places, which leave out a passage repeating a better one.
    hits = fast_kb.search("耕地地力保护补贴每亩多少钱", k=4, read_big=False)
    assert {h.chunk.source for h in hits} == {"county/notice.md", "township/notice.md"}


def test_a_text_already_in_the_store_is_not_embedded_again(
    fast_kb: KnowledgeBase, counting: CountingEmbeddings, tmp_path: Path
) -> None:
    _write(tmp_path / "first", "notice.md")
    ingest(fast_kb, [tmp_path / "first"])
    counting.texts = 0
    # The same notice uploaded again, from another folder, under another name.
    _write(tmp_path / "second" / "2025", "copy.md")
    report = ingest(fast_kb, [tmp_path / "second"])
    copy = fast_kb.catalog.document("2025/copy.md")
    assert copy is not None and copy.chunks > 0
    assert report.embedded == counting.texts == 0
    assert report.shared == copy.chunks
    assert fast_kb.vectors.all_ids() == fast_kb.catalog.chunk_ids()
    # A text edited since is embedded.
    _write(tmp_path / "second" / "2025", "copy.md", NOTICE.replace("120元", "150元"))
    report = ingest(fast_kb, [tmp_path / "second"])
    assert report.embedded == counting.texts > 0


def test_sharing_can_be_switched_off(counting: CountingEmbeddings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _write(corpus / "a", "notice.md")
    _write(corpus / "b", "notice.md")
    kb = KnowledgeBase(Settings(home=tmp_path / "home", embed_dedup=False), counting)
    try:
        report = ingest(kb, [corpus])
        assert report.shared == 0
        assert report.embedded == counting.texts == report.chunks
    finally:
        kb.close()


def test_texts_equal_up_to_whitespace_share_a_key() -> None:
    assert embed_hash("标题\n 第一条  补贴每亩120元。 ") == embed_hash("标题 第一条 补贴每亩120元。")
    assert embed_hash("补贴每亩120元") != embed_hash("补贴每亩150元")


class _Stopping(CountingEmbeddings):
    """Asks the ingest to stop after its first batch of embeddings."""

    def __init__(self) -> None:
        super().__init__()
        self.stop = False

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.stop = True
        return super().embed_documents(texts)


def _numbered(folder: Path, documents: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        (folder / f"notice{n:02d}.md").write_text(
            NOTICE.replace("120元", f"{100 + n}元").replace("# 关于", f"# 第{n}号 关于"), encoding="utf-8"
        )


def test_searchable_first_answers_before_embedding_and_resumes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _numbered(corpus, 6)
    embedder = _Stopping()
    kb = KnowledgeBase(Settings(home=tmp_path / "home", embed_batch_size=2), embedder)
    try:
        report = ingest(kb, [corpus], searchable_first=True, cancelled=lambda: embedder.stop)
        # Committed, and searchable lexically, although the embedding was stopped after one batch.
        assert len(kb.documents()) == 6
        assert 0 < report.pending < report.chunks
        assert pending_embeddings(kb) == report.pending
        assert report.searchable_s <= report.seconds
        hit = kb.search("第3号 耕地地力保护补贴", k=1, mode="lexical")[0]
        assert hit.chunk.source == "notice03.md"
        assert kb.search("耕地地力保护补贴", k=3)  # hybrid fuses the few vectors there are
        # A background pass (or the next ingest) completes the vectors.
        assert embed_pending(kb) == report.pending
        assert pending_embeddings(kb) == 0
        assert kb.vectors.all_ids() == kb.catalog.chunk_ids()
        assert ingest(kb, [corpus]).embedded == 0
    finally:
        kb.close()


def test_all_at_once_nothing_is_committed_before_the_vectors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _numbered(corpus, 4)
    embedder = _Stopping()
    kb = KnowledgeBase(Settings(home=tmp_path / "home", embed_batch_size=2), embedder)
    try:
        with pytest.raises(IngestCancelled):
            ingest(kb, [corpus], cancelled=lambda: embedder.stop, searchable_first=False)
        assert kb.documents() == []
    finally:
        kb.close()
