"""What a vector embeds (issue 21): a chunk's title, section and opening within a token cap; a change of
the cap embeds the knowledge base again, into a collection of its own, without reading any file."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import Embeddings

from benchmarks.ingest_speed import CountingEmbeddings
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunk
from knowledge.embeddings import E5Embeddings
from knowledge.ingest import ingest
from knowledge.vector_text import recipe, token_counter, vector_text
from xiangyin.settings import Settings

PASSAGE = (
    "补贴对象为承包耕地的农户，每亩补贴120元。补贴资金于6月底前通过社保卡发放到户。"
    "如有疑问，请拨打乡农业服务中心电话咨询。逾期未申报的，视为自动放弃当年补贴。"
)


def _chunk(text: str = PASSAGE) -> Chunk:
    return Chunk(
        id="c1",
        source="policy/grain.md",
        ordinal=0,
        text=text,
        title="耕地地力保护补贴通知",
        section="一、补贴标准",
        kind="policy",
    )


class _Recording(CountingEmbeddings):
    """Keeps every text it embeds, and counts tokens as characters."""

    model_id = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return super().embed_documents(texts)

    def count_tokens(self, text: str) -> int:
        return len(text)


def test_without_a_cap_or_under_it_the_whole_chunk_is_embedded() -> None:
    chunk = _chunk()
    assert vector_text(chunk, None) == chunk.embedding_text()
    assert vector_text(chunk, 10_000) == chunk.embedding_text()


def test_a_cap_keeps_title_section_and_the_first_sentences() -> None:
    chunk = _chunk()
    text = vector_text(chunk, 50)
    assert len(text) <= 50
    assert text.startswith("耕地地力保护补贴通知 一、补贴标准\n补贴对象为承包耕地的农户，每亩补贴120元。")
    # Cut at a sentence end rather than inside the next sentence.
    assert text.endswith("。")
    # A cap shorter than the first sentence cuts inside it: the content matters more than the ending.
    assert len(vector_text(chunk, 24)) == 24


def test_the_cap_is_in_the_engines_own_tokens(embeddings: Embeddings) -> None:
    assert isinstance(embeddings, E5Embeddings)
    count = token_counter(embeddings)
    chunk = _chunk(PASSAGE * 3)
    assert count(chunk.embedding_text()) > 64
    text = vector_text(chunk, 64, count)
    assert 40 < count(text) <= 64
    # An embedder that cannot count tokens is capped in characters (never fewer than tokens in Chinese).
    assert token_counter(CountingEmbeddings()) is len


def test_the_recipe_names_the_collection(tmp_path: Path) -> None:
    assert recipe(None) == "" and recipe(64) == "lead64"
    kb = KnowledgeBase(Settings(home=tmp_path / "home"), CountingEmbeddings())
    try:
        assert kb.vector_tokens is None
        assert kb.vectors.name == "xiangyin_counting"
    finally:
        kb.close()
    capped = KnowledgeBase(Settings(home=tmp_path / "home", embed_max_tokens=64), CountingEmbeddings())
    try:
        assert capped.vectors.name == "xiangyin_counting_lead64"
    finally:
        capped.close()


def test_a_new_cap_embeds_again_without_reading_the_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "grain.md").write_text(
        f"# 耕地地力保护补贴通知\n\n## 一、补贴标准\n\n{PASSAGE}\n\n## 二、申报\n\n{PASSAGE}\n",
        encoding="utf-8",
    )
    whole = _Recording()
    kb = KnowledgeBase(Settings(home=tmp_path / "home"), whole)
    try:
        first = ingest(kb, [corpus])
        assert first.embedded == first.chunks > 0
        assert max(map(len, whole.seen)) > 40
    finally:
        kb.close()

    lead = _Recording()
    kb = KnowledgeBase(Settings(home=tmp_path / "home", embed_max_tokens=40), lead)
    try:
        again = ingest(kb, [corpus])
        # The files are unchanged (nothing read), but every chunk gets a vector of the new recipe.
        assert again.unchanged == ["grain.md"] and not again.changed
        assert again.embedded == first.chunks
        assert all(len(text) <= 40 for text in lead.seen)
        assert all(text.startswith("耕地地力保护补贴通知") for text in lead.seen)
        assert kb.vectors.all_ids() == kb.catalog.chunk_ids()
        assert kb.search("每亩补贴多少钱", k=1)
        # And the next ingest of the same recipe embeds nothing.
        assert ingest(kb, [corpus]).embedded == 0
    finally:
        kb.close()
