"""The shared-index mode: a real `chroma run` server started by the test, used by two workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from api.server import chroma_server
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from xiangyin.settings import Settings


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with chroma_server(tmp_path / "chroma-server") as url:
        yield url


@pytest.mark.slow
def test_two_workers_share_one_index_through_the_chroma_server(
    chroma_url: str, corpus: Path, tmp_path: Path, embeddings: Embeddings
) -> None:
    settings = Settings(home=tmp_path / "home", chroma_url=chroma_url)
    writer = KnowledgeBase(settings, embeddings)
    reader = KnowledgeBase(settings, embeddings)
    try:
        report = ingest(writer, [corpus])
        assert report.embedded == report.chunks > 0
        assert not (settings.index_dir / "chroma").exists()  # vectors live in the server, not locally
        stats = reader.stats()
        assert stats.vectors == stats.chunks == report.chunks
        assert stats.store == chroma_url
        hits = reader.search("低保一个月能领多少", k=3)
        assert hits[0].chunk.source == "policy/dibao.txt"
        assert hits[0].dense_score is not None

        (corpus / "policy" / "dibao.txt").unlink()
        assert ingest(writer, [corpus]).removed == ["policy/dibao.txt"]
        assert all(h.chunk.source != "policy/dibao.txt" for h in reader.search("低保一个月能领多少", k=5))
        assert reader.vectors.all_ids() == reader.catalog.chunk_ids()
    finally:
        writer.close()
        reader.close()
