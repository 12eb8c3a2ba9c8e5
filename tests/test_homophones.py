from __future__ import annotations

from assistant.homophones import HomophoneRepair

TERMS = ["低保户", "新农合", "宅基地", "城乡居民医保", "耕地地力保护补贴", "雨露计划"]


def repair(text: str, known: set[str] | None = None) -> str:
    return HomophoneRepair(TERMS, lambda window: window in (known or set())).repair(text)


def test_mis_heard_policy_words_are_repaired() -> None:
    assert repair("新萌和一年交多少钱") == "新农合一年交多少钱"
    assert repair("西萌和一年交多少钱") == "新农合一年交多少钱"  # xi ~ xin
    assert repair("宅基第在哪里申请") == "宅基地在哪里申请"
    assert repair("宅鸡地怎么申请") == "宅基地怎么申请"
    assert repair("城乡居民医包怎么交") == "城乡居民医保怎么交"
    assert repair("耕地底力保护补贴每亩多少") == "耕地地力保护补贴每亩多少"
    assert repair("雨路计划给多少") == "雨露计划给多少"


def test_ordinary_words_and_known_text_are_left_alone() -> None:
    assert repair("今天天气怎么样") == "今天天气怎么样"
    # Another first syllable, or two syllables off, is not a mis-hearing of the term.
    assert repair("东门和一年交多少钱") == "东门和一年交多少钱"
    assert repair("新闻稿一年交多少钱") == "新闻稿一年交多少钱"
    # A particle after a term is heard right: 低保的 is not a mis-heard 低保户.
    assert repair("低保的申请条件是什么") == "低保的申请条件是什么"
    # A stretch the knowledge base itself contains is a real word there.
    assert repair("新萌和一年交多少钱", known={"新萌和"}) == "新萌和一年交多少钱"


def test_a_word_the_documents_use_is_not_broken_by_a_repair() -> None:
    terms = ["养老保险", "养老金", "多少钱", "雨露计划"]

    def repaired(text: str, known: set[str]) -> str:
        return HomophoneRepair(terms, known.__contains__).repair(text)

    # yang lao jin xian ~ yang lao bao xian, one syllable off: but 养老金 and 现在 are words.
    assert repaired("农村养老金现在发多少", {"养老金"}) == "农村养老金现在发多少"
    assert repaired("农村养老金现在发多少", set()) == "农村养老金现在发多少"
    # A term that keeps the word may still replace the stretch around it.
    assert repaired("养老保显怎么交", {"养老"}) == "养老保险怎么交"
    # A word of the documents that the dictionary lacks (here a place, 雨路) is heard right too.
    assert repaired("雨路计划给多少", set()) == "雨露计划给多少"
    assert repaired("雨路计划给多少", {"雨路"}) == "雨路计划给多少"


def test_a_correctly_heard_question_is_left_alone() -> None:
    terms = [*TERMS, "大喇叭", "多少钱", "养老金"]

    def repaired(text: str) -> str:
        return HomophoneRepair(terms, lambda window: False).repair(text)

    # di bao mei ~ di bao hu, one syllable off; but 每 begins 每个月: the stretch would cut a word.
    assert repaired("低保每个月多少钱？") == "低保每个月多少钱？"
    assert repaired("今年低保标准是多少？") == "今年低保标准是多少？"
    assert repaired("养老保险最低一年交多少钱？") == "养老保险最低一年交多少钱？"
    # Whole words the term does not keep: 打 + 哪个 is no mis-heard 大喇叭, 新农保 no 新农合.
    assert repaired("种粮补贴有问题打哪个电话问？") == "种粮补贴有问题打哪个电话问？"
    assert repaired("新农保的养老金每个月几号前能到账？") == "新农保的养老金每个月几号前能到账？"
    # One whole word for another is another question: 多少天 and 多少款 are not 多少钱.
    assert repaired("乡里多少天给批下来？") == "乡里多少天给批下来？"
    assert repaired("竹林村种黄精，贷了多少款？") == "竹林村种黄精，贷了多少款？"
    # ...while a character of a word of the term that sounds the same is still mended.
    assert repaired("一年交多少前？") == "一年交多少钱？"
