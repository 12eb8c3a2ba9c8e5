"""Question normalisation, follow-up rewriting and question types."""

from __future__ import annotations

import pytest

from assistant.followup import is_follow_up, rewrite, topic_terms
from assistant.normalize import (
    asked_words,
    mend_typos,
    normalize_question,
    raised_animal,
    synonym_names,
    synonyms,
)
from assistant.questions import question_types


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("新農合一年交多少錢？", "新农合一年交多少钱? 城乡居民医保"),
        ("咋申请宅基第？", "怎么申请宅基地?"),
        ("低宝一个月多钱", "低保一个月多少钱"),
        ("种粮补贴啥时候发", "种粮补贴什么时候发 耕地地力保护补贴"),
        ("农村合作医疗报销", "农村合作医疗报销 城乡居民医保"),
        ("宅基地审批要多久", "宅基地审批要多久"),
        ("宅基地申请交上去，乡里多少天给批下来？", "宅基地申请交上去,乡里多少天给批下来? 批准 乡镇"),
        ("那要是去省里的大医院呢？", "那要是去省里的大医院呢? 省级"),
        # Rural law in villagers' words; a term is matched inside the question, so none may hide in a
        # longer everyday word (领养 in 领养老金 would have added 收养).
        ("打官司请不起律师咋办", "打官司请不起律师怎么办 法律援助 诉讼"),
        ("领养老金的老人去世了", "领养老金的老人去世了 基础养老金 死亡"),
        # Raising an animal is the documents' 养殖, and their tables name the animal alone.
        ("脱贫户养牛有补助吗？", "脱贫户养牛有补助吗? 养殖 牛"),
        ("养鸡养鸭有补贴吗", "养鸡养鸭有补贴吗 养殖 鸡 鸭"),
    ],
)
def test_normalize_question(question: str, expected: str) -> None:
    assert normalize_question(question) == expected


def test_raising_an_animal_is_named_by_the_animal() -> None:
    assert raised_animal("养牛") == "牛"
    assert "牛" in synonym_names("养牛")
    assert raised_animal("养老") is None  # 养老金 raises nothing
    assert raised_animal("保养") is None


def test_misspelt_document_words_are_mended_and_a_villagers_wording_is_left() -> None:
    assert mend_typos("低宝申请交上去，多久能批下来？") == "低保申请交上去，多久能批下来？"
    assert mend_typos("咋申请宅基第？") == "咋申请宅基地？"  # 咋 is wording, searched as 怎么 only
    assert {s.term for s in synonyms() if s.typo} >= {"低宝", "医报", "补帖"}
    assert all(s.replace for s in synonyms() if s.typo)


def test_synonym_table_is_data_and_well_formed() -> None:
    table = synonyms()
    assert len(table) >= 40
    assert all(entry.term and entry.document_term and entry.term != entry.document_term for entry in table)
    assert [len(e.term) for e in table] == sorted((len(e.term) for e in table), reverse=True)


def test_topic_terms_skip_generic_words() -> None:
    assert topic_terms("新农合一年交多少钱？") == ["新农合"]
    assert topic_terms("宅基地审批要多长时间") == ["宅基地"]
    # Being approved is asked about a subject, never the subject (低保 批下来 is not about 批准建房).
    assert topic_terms("低保申请交上去,多久能批下来? 批准") == ["低保"]
    # Asking what a word means is no subject: no document says 意思, and the question was refused.
    assert topic_terms("静默认证是什么意思？") == ["静默"]
    assert topic_terms("村村响是啥意思？") == ["村村响"]
    # A question word jieba glues into a word (哪些地方, 哪几种) asks, and 一共 or 专门 say how.
    assert topic_terms("人大文学院本科念完的娃，大多去哪些地方上班？") == ["人大", "文学院"]
    assert "哪几种" not in topic_terms("古诗的课都讲哪几种诗？")
    assert topic_terms("有个专门打的电话是多少？") == []
    assert "一共" not in topic_terms("全县老人戴的手表一共喊了多少回救命？")


@pytest.mark.parametrize(
    ("earlier", "question", "standalone"),
    [
        (["新农合一年交多少钱？"], "那报销比例呢？", "新农合报销比例呢？"),
        (["宅基地怎么申请？"], "要多久能批下来？", "宅基地要多久能批下来？"),
        # Only a condition changed: the earlier question's ask is asked again.
        (["高龄津贴每月多少钱？"], "那90岁以上的呢？", "高龄津贴90岁以上的每月多少钱？"),
        (["在县医院住院医保能报多少？"], "那要是去省里的大医院呢？", "住院医保去省里的大医院能报多少？"),
        (["种粮补贴每亩多少钱？", "低保标准是多少？"], "怎么申请？", "低保怎么申请？"),
        (["低保标准是多少？"], "怎么申请低保？", "怎么申请低保？"),
        # A bare count is no topic: a question of nothing but the villager's own situation is a
        # follow-up, however many characters it takes.
        (
            ["俺家是低保户，今年低保标准是多少？"],
            "俺爹都75了，能多给点不？",
            "低保户低保俺爹都75了，能多给点不？",
        ),
        ([], "那报销比例呢？", "那报销比例呢？"),
    ],
)
def test_follow_ups_are_rewritten_to_stand_alone(earlier: list[str], question: str, standalone: str) -> None:
    assert rewrite(question, earlier) == standalone


def test_is_follow_up() -> None:
    assert is_follow_up("那要交多少钱？")
    assert is_follow_up("报销比例呢？")
    assert not is_follow_up("城乡居民医保个人一年交多少钱？")
    assert topic_terms("俺爹都75了，能多给点不？") == []
    # A year still constrains the answer, and a model number still names a thing.
    assert topic_terms("2026年耕地地力补贴") == ["2026", "耕地", "地力", "补贴"]
    assert topic_terms("W3手表多少钱") == ["W3", "手表"]


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("种粮补贴每亩多少钱？", {"amount"}),
        ("住院报销比例是多少", {"amount", "percentage"}),
        ("医保什么时候交", {"date"}),
        ("宅基地怎么申请", {"procedure"}),
        ("低保有问题打什么电话", {"contact"}),
        ("审批要多久", {"duration"}),
    ],
)
def test_question_types(question: str, kinds: set[str]) -> None:
    assert kinds <= question_types(question)


def test_the_words_a_question_asks_are_its_own_not_the_synonym_tables_additions() -> None:
    question = "植保无人机喷洒一亩地多少钱？"
    assert "无人驾驶航空器" in normalize_question(question)
    # A knowledge base without the table's word (a drone service handbook) was not asked for it.
    assert "无人驾驶航空器" not in asked_words(question)
    assert asked_words("低宝申请多久能批下来？") == normalize_question("低宝申请多久能批下来？").split(" ")[0]
