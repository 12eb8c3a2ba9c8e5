from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document

from knowledge.base import KnowledgeBase
from knowledge.catalog import Filters
from knowledge.hybrid import FusionWeights, HybridRetriever, fuse
from knowledge.lexical import lexical_tokens, query_tokens
from zhtext.normalize import normalize_query


@pytest.mark.parametrize(
    ("question", "source", "snippet"),
    [
        ("种粮补贴每亩给多少钱", "policy/grain.md", "每亩120元"),
        ("低保一个月能领多少", "policy/dibao.txt", "每人每月680元"),
        ("家里4口人宅基地能批多大", "policy/homestead.html", "140平方米"),
        ("买拖拉机补贴多少", "policy/machinery.pdf", "8000元"),
        ("村村响一个月多少钱", "handbook/broadcast.docx", "30元/月"),
        ("县医院住院报销多少", "policy/medical.md", "75%"),
        ("交养老保险有哪几个档次", "policy/pension.txt", "5000元"),
    ],
)
def test_hybrid_finds_the_passage_that_answers(
    shared_kb: KnowledgeBase, question: str, source: str, snippet: str
) -> None:
    hits = shared_kb.search(question, k=3)
    assert hits[0].chunk.source == source
    assert any(snippet in h.text for h in hits)


def test_traditional_and_full_width_questions_are_normalised(shared_kb: KnowledgeBase) -> None:
    assert normalize_query("醫保個人繳費多少錢？２０２５年") == "医保个人缴费多少钱?2025年"
    hits = shared_kb.search("２０２５年醫保個人繳費多少錢", k=3)
    assert hits[0].chunk.source == "policy/medical.md"
    assert "每人每年400元" in hits[0].chunk.text


def test_each_mode_alone_returns_ranked_hits_with_its_own_scores(shared_kb: KnowledgeBase) -> None:
    dense = shared_kb.search("低保标准", k=3, mode="dense")
    lexical = shared_kb.search("低保标准", k=3, mode="lexical")
    hybrid = shared_kb.search("低保标准", k=3)
    assert all(h.dense_score is not None and h.lexical_score is None for h in dense)
    assert all(h.lexical_score is not None and h.dense_score is None for h in lexical)
    assert [h.score for h in dense] == sorted((h.score for h in dense), reverse=True)
    assert hybrid[0].dense_rank is not None and hybrid[0].lexical_rank is not None
    assert lexical[0].chunk.source == "policy/dibao.txt"


def test_kind_filter(shared_kb: KnowledgeBase) -> None:
    hits = shared_kb.search("每月多少钱", k=5, filters=Filters(kind="handbook"))
    assert hits and all(h.chunk.kind == "handbook" for h in hits)


def test_region_filter_keeps_documents_without_region(shared_kb: KnowledgeBase) -> None:
    hits = shared_kb.search("补贴", k=20, filters=Filters(region="江南省青溪县"))
    regions = {h.chunk.region for h in hits}
    assert regions <= {"江南省青溪县", ""} and "江南省青溪县" in regions
    elsewhere = shared_kb.search("补贴", k=20, filters=Filters(region="江北省某县"))
    assert elsewhere and all(h.chunk.region == "" for h in elsewhere)


def test_blank_question_returns_nothing(shared_kb: KnowledgeBase) -> None:
    assert shared_kb.search("   ") == []
    assert shared_kb.search("？？", mode="lexical") == []


def test_langchain_retriever_returns_documents_with_citation_metadata(shared_kb: KnowledgeBase) -> None:
    retriever = shared_kb.as_retriever(k=2)
    assert isinstance(retriever, HybridRetriever)
    documents = retriever.invoke("宅基地审批要多久")
    assert len(documents) == 2
    top = documents[0]
    assert isinstance(top, Document)
    assert "20个工作日" in top.page_content
    assert top.metadata["source"] == "policy/homestead.html"
    assert top.metadata["title"] == "青溪县农村宅基地申请办事指南"
    assert top.metadata["section"] == "三、审批时限"
    assert top.metadata["score"] > 0
    assert top.id == top.metadata["id"]
    filtered = shared_kb.as_retriever(k=3, kind="handbook").invoke("资费")
    assert filtered and all(d.metadata["kind"] == "handbook" for d in filtered)


def test_rrf_fusion_rewards_agreement_and_respects_weights() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    lexical = [("c", 9.0), ("a", 5.0), ("d", 1.0)]
    fused = dict(fuse(dense, lexical, FusionWeights("rrf", 1.0, 1.0, k=60)))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert max(fused, key=lambda key: fused[key]) == "a"
    lexical_heavy = fuse(dense, lexical, FusionWeights("rrf", dense=0.1, lexical=1.0, k=60))
    assert lexical_heavy[0][0] == "c"


def test_score_fusion_scales_each_list_to_unit_range() -> None:
    dense = [("a", 0.90), ("b", 0.85), ("c", 0.80)]
    lexical = [("c", 12.0), ("a", 7.0), ("d", 2.0)]
    fused = dict(fuse(dense, lexical, FusionWeights("score", dense=0.2, lexical=0.8)))
    assert fused["c"] == pytest.approx(0.8)
    assert fused["a"] == pytest.approx(0.2 + 0.8 * 0.5)
    assert fused["b"] == pytest.approx(0.2 * 0.5)
    assert fused["d"] == pytest.approx(0.0)
    assert [cid for cid, _ in fuse(dense, lexical, FusionWeights("score", 0.2, 0.8))][:2] == ["c", "a"]
    # A list of one (or of equal scores) counts fully rather than vanishing.
    assert dict(fuse([], [("x", 3.0)], FusionWeights("score"))) == {"x": pytest.approx(0.5)}


def test_lexical_tokens_use_the_domain_dictionary_and_drop_question_words() -> None:
    tokens = lexical_tokens("新农合一年交多少钱？")
    assert "新农合" in tokens
    assert lexical_tokens("城乡居民基本医疗保险")[:2] == ["城乡居民", "基本"]
    assert "多少" not in tokens and "？" not in tokens


def test_a_lexical_query_leaves_out_the_words_that_only_ask() -> None:
    # Documents keep 谁 (谁主管、谁审核 is indexed as written); a question's 谁 or 第几 finds nothing.
    assert "谁" in lexical_tokens("谁主管、谁审核")
    assert query_tokens("2023年法学院的院长是谁？") == ["2023", "年", "法学院", "院长"]
    assert query_tokens("排名第几？何时举行？") == ["排名", "举行"]


def test_dense_search_returns_the_nearest_vectors_not_an_approximation(tmp_path: Path) -> None:
    # Sentence vectors crowd around a common direction, and pages re-published many times are runs of
    # identical vectors: on 1,000 such vectors Chroma's default HNSW breadth (100) missed some of the
    # 10 nearest for 2-4 questions in 20. The store searches wide enough to return exactly the nearest,
    # also on a collection made with a narrower breadth before.
    from langchain_core.embeddings import FakeEmbeddings

    from knowledge.chunking import Chunk
    from knowledge.vectors import VectorStore, make_client

    rng = np.random.default_rng(7)
    mean = rng.normal(size=384) * 3
    notices = mean + rng.normal(size=(10, 384))
    vectors = np.vstack([np.repeat(notices, 40, axis=0), mean + rng.normal(size=(600, 384))])
    chunks = [Chunk(f"c{i}", f"p{i}.txt", 0, f"第{i}段", "标题", "", "other") for i in range(len(vectors))]
    client = make_client(None, tmp_path / "chroma")
    assert VectorStore(client, "older", FakeEmbeddings(size=384), search_ef=20).search_ef == 20
    store = VectorStore(client, "older", FakeEmbeddings(size=384))
    assert store.search_ef == 400
    store.add(chunks, vectors.tolist())
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for _ in range(20):
        query = mean + rng.normal(size=384)
        nearest = sorted(unit @ (query / np.linalg.norm(query)), reverse=True)[:10]
        found = store.search(query.tolist(), 10)
        # Copies tie, so ids among them may come in another order; the similarities may not.
        assert [score for _, score in found] == pytest.approx(nearest, abs=1e-5)
