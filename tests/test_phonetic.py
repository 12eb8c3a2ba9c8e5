from __future__ import annotations

from knowledge.base import KnowledgeBase
from knowledge.phonetic import fold, pinyin_tokens


def test_syllables_fold_as_mandarin_is_misheard() -> None:
    assert fold("xin") == fold("xing") == fold("xi") == "xi"
    assert fold("zhang") == fold("zan") == "za"
    assert fold("nong") == "lo"
    assert pinyin_tokens("新农合") == ["xilo", "lohe"]
    assert pinyin_tokens("低宝 2025年") == pinyin_tokens("低保") == ["dibao"]


def test_a_misheard_spoken_question_still_finds_its_passage(shared_kb: KnowledgeBase) -> None:
    # 低宝 / 咦个月 as Whisper might write them: the words are wrong, the sounds are right.
    question = "低宝咦个月能领多少"
    by_sound = shared_kb.phonetic_search(question, 5)
    dibao = {c.id for c in shared_kb.catalog.chunks_of("policy/dibao.txt")}
    assert by_sound[0][0] in dibao

    def rank(hits: list[str]) -> int:
        return next(n for n, chunk_id in enumerate(hits) if chunk_id in dibao)

    typed = [h.chunk.id for h in shared_kb.search(question, k=10)]
    spoken = [h.chunk.id for h in shared_kb.search(question, k=10, spoken=True)]
    assert rank(spoken) <= rank(typed)
    assert shared_kb.catalog.lexical_search(["不存在的词"], 5, table="chunks_pinyin") == []


def test_pinyin_index_follows_the_catalog(shared_kb: KnowledgeBase) -> None:
    rows = shared_kb.catalog._db.execute("SELECT count(*) FROM chunks_pinyin").fetchone()[0]
    assert rows == shared_kb.catalog.chunk_count()
