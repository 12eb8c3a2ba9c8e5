"""The knowledge base's words by sound: a real catalog (SQLite FTS5) holding a few hand-made chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.catalog import Catalog, DocumentRecord, DocumentUpdate, SqliteCatalog
from knowledge.chunking import Chunk
from knowledge.lexical import lexical_tokens
from knowledge.phonetic import pinyin_tokens
from knowledge.soundalike import SoundAlikes

TEXTS = [
    "申请宅基地需要村民小组讨论，宅基地审批不收费。",
    "看家摄像头的录像保存7天；护理补贴每月100元。",
    "竹林村种植黄精，人居环境整治，不准上山烧纸。",
    "全县建成5G基站120个，不得挤占农户耕地。",
    "卫生院住院报销比例85%，县里统一结算。",
]


def _update(source: str, texts: list[str]) -> DocumentUpdate:
    chunks = [Chunk(f"{source}-{n}", source, n, text, source, "", "policy") for n, text in enumerate(texts)]
    record = DocumentRecord(source, "/docs", "hash", "test", source, "policy", "", "", "", len(chunks), 0)
    return DocumentUpdate(
        record, chunks, [lexical_tokens(t) for t in texts], [pinyin_tokens(t) for t in texts]
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite3")
    catalog.apply([_update("policy.txt", TEXTS)], [])
    return catalog


def test_the_vocabulary_is_the_index_s_words(catalog: Catalog) -> None:
    vocabulary = catalog.vocabulary()
    assert vocabulary["宅基地"] == 1 and vocabulary["录像"] == 1
    assert "房子" not in vocabulary


def test_a_misheard_word_is_mapped_to_the_documents_word_it_sounds_like(catalog: Catalog) -> None:
    alikes = SoundAlikes(catalog)
    assert alikes.closest("债基地") == "宅基地"
    assert alikes.closest("路向") == "录像"
    assert alikes.closest("互利") == "护理"
    assert alikes.closest("卫生愿") == "卫生院"
    # jin ~ jing: 黄金 sounds like both 黄精 and 环境, but closer to 黄精 (one syllable identical).
    assert alikes.of("黄金") == [("黄精", 1), ("环境", 0)]
    assert alikes.closest("黄金") == "黄精"


def test_words_that_sound_alike_but_not_more_one_than_another_are_left_alone(catalog: Catalog) -> None:
    alikes = SoundAlikes(catalog)
    # 机战: 基站 or 挤占? Both sound exactly alike; the word is misheard but which was meant is unknown.
    assert {w for w, _ in alikes.of("机战")} == {"基站", "挤占"}
    assert alikes.closest("机战") is None
    # zh ~ z and a ~ ang are not alike here: 房子 is not 防止, nothing sounds like 油茶.
    assert alikes.of("房子") == [] and alikes.of("油茶") == []
    assert alikes.of("山上") == [("上山", 0)] and alikes.closest("山上") is None
    assert alikes.of("宅基地") == [] and alikes.closest("") is None


def test_repair_replaces_only_words_the_documents_never_use(catalog: Catalog) -> None:
    alikes = SoundAlikes(catalog)
    assert alikes.repair("互利补贴一个月多少") == "护理补贴一个月多少"
    assert alikes.repair("摄像头的路向能存几天") == "摄像头的录像能存几天"
    assert alikes.repair("咱县里一共建了多少个机战") == "咱县里一共建了多少个机战"
    assert alikes.repair("宅基地审批收费吗") == "宅基地审批收费吗"


def test_a_word_is_replaced_only_where_the_documents_use_its_sound_alike(catalog: Catalog) -> None:
    alikes = SoundAlikes(catalog)
    # 黄金 sounds closest to 黄精, which the documents grow (种植黄精); gold bought by the gram is not it.
    assert alikes.repair("竹林村种植黄金有补贴吗") == "竹林村种植黄精有补贴吗"
    assert alikes.repair("黄金多少钱一克") == "黄金多少钱一克"
    # A neighbour the sound-alike makes one of the documents' words with counts too: 医保 + 卡.
    catalog.apply([_update("code.txt", ["看病时出示医保码。"])], [])
    assert alikes.repair("手机上的一包卡咋弄出来") == "手机上的一包卡咋弄出来"
    catalog.apply([_update("card.txt", ["在手机上激活医保卡。"])], [])
    assert alikes.repair("手机上的一包卡咋弄出来") == "手机上的医保卡咋弄出来"


def test_characters_glued_into_no_word_are_mended_unless_the_documents_use_them(catalog: Catalog) -> None:
    alikes = SoundAlikes(catalog)
    catalog.apply([_update("village.txt", ["机器插秧每亩补贴40元。", "乡村老人想用手机。"])], [])
    # 插扬 is no word and 扬 is nowhere in the documents: a mis-heard 插秧, whatever its neighbours.
    assert alikes.repair("插扬有补贴没有") == "插秧有补贴没有"
    # 想存 is no word either, but 想 is the documents' own word: 录像想存 (want to keep) was heard right.
    assert alikes.closest("想存") == "乡村"
    assert alikes.repair("录像想存一个月") == "录像想存一个月"


def test_the_words_follow_the_catalog(catalog: Catalog) -> None:
    alikes = SoundAlikes(catalog)
    assert alikes.closest("插阳") is None
    generation = catalog.generation()
    catalog.apply([_update("rice.txt", ["机器插秧每亩补贴40元。"])], [])
    assert catalog.generation() == generation + 1
    assert alikes.closest("插阳") == "插秧"
    catalog.apply([], ["rice.txt"])
    assert alikes.closest("插阳") is None


def test_known_share_is_how_much_of_a_transcript_is_in_the_documents_words(catalog: Catalog) -> None:
    words = SoundAlikes(catalog)
    # 护理补贴 and 每月 are the documents' words; 互利 (heard for 护理) is not.
    assert words.known_share("护理补贴每月多少") > words.known_share("互利补贴每月多少") > 0
    assert words.known_share("今天天气怎么样") == 0.0
    assert words.known_share("") == 0.0 and words.known_share("W3?") == 0.0


def test_a_clipped_first_sound_is_put_back_as_the_documents_word(tmp_path: Path) -> None:
    catalog = SqliteCatalog(tmp_path / "catalog.sqlite3")
    texts = ["低保申请条件", "低保标准每月880元", "医保缴费380元", "医保报销", "宅基地申请条件"]
    catalog.apply([_update("policy.txt", texts)], [])
    alikes = SoundAlikes(catalog)
    # bi, yi and ni are di or yi with the initial consonant clipped or misheard; the rest must match.
    assert set(alikes.initial_slips("逼保", 2)) == {"低保", "医保"}
    assert set(alikes.initial_slips("一宝", 2)) == {"低保", "医保"}
    assert alikes.initial_slips("逼保", 3) == []  # neither word is in three chunks
    assert alikes.initial_slips("低跑", 2) == []  # the second syllable differs: no clip explains it
    assert alikes.initial_slips("低保", 2) == []  # the documents' own word
    assert alikes.initial_slips("今年", 1) == []  # an everyday word is heard as said
