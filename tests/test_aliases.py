"""Names the documents define for themselves (knowledge.aliases): mined from the text, searched by
either name, mined again when the knowledge base changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.aliases import Alias, definitions
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest


@pytest.mark.parametrize(
    ("text", "short", "full"),
    [
        (
            "第二条 本办法所称城乡居民基本医疗保险（以下简称居民医保），是指…",
            "居民医保",
            "城乡居民基本医疗保险",
        ),
        ("由县社会保险事业管理中心（以下简称县社保中心）负责经办。", "县社保中心", "县社会保险事业管理中心"),
        ('依托青溪县村级数字乡村平台（以下简称"村级平台"）开展服务。', "村级平台", "村级数字乡村平台"),
        ("新型农村合作医疗（俗称新农合）", "新农合", "新型农村合作医疗"),
        ("在台湾参加当年学科能力测试（以下简称“学测”）", "学测", "学科能力测试"),
        ("2023年度国家自然科学基金委员会（以下简称基金委）", "基金委", "国家自然科学基金委员会"),
    ],
)
def test_a_short_name_and_the_words_it_abbreviates(text: str, short: str, full: str) -> None:
    assert definitions(text) == [Alias(short, (full,)), Alias(full, (short,))]


def test_a_counted_name_stands_for_the_items_of_its_list() -> None:
    assert definitions('第十九条 参保人员患高血压、糖尿病（以下简称"两病"）的，门诊用药…') == [
        Alias("两病", ("高血压", "糖尿病")),
        Alias("高血压", ("两病",)),
        Alias("糖尿病", ("两病",)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "从事农业生产的个人和农业生产经营组织（以下简称购机者）",  # none of its characters before it
        "为武警部队定向培养后备警官（以下简称“国防生”）",
        "《世界互联网发展报告2021》（以下简称《报告》）",  # one of the full name's words abbreviates nothing
        "低保标准为每人每月680元（即年8160元）",  # 即 restates a figure
        "城乡居民医保（以下简称",  # unfinished
    ],
)
def test_what_is_not_a_definition_of_a_name_is_left_out(text: str) -> None:
    assert definitions(text) == []


def load(kb: KnowledgeBase, docs: Path, files: dict[str, str]) -> None:
    """Write `files` (name -> text) into `docs` and ingest the folder."""
    docs.mkdir(exist_ok=True)
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    ingest(kb, [docs])


def test_a_question_by_either_name_finds_the_article_that_uses_the_other(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    medical = (
        "# 青溪县城乡居民医保门诊待遇办法\n\n"
        '第一条 参保人员患高血压、糖尿病（以下简称"两病"）的，按本办法享受门诊用药保障。\n\n'
        "第二条 两病患者在乡镇卫生院门诊购药，政策范围内费用报销60%，每人每年最高报销400元。\n\n"
        "第三条 住院费用按城乡居民医保住院待遇的规定报销，起付线300元。\n"
    )
    pension = "# 养老保险办法\n\n第一条 参保人每年缴费一次，缴费档次分为200元至3000元。\n"
    load(kb, tmp_path / "docs", {"medical.md": medical, "pension.md": pension})
    assert kb.aliases.expand("高血压拿药一年最多报多少？") == "高血压拿药一年最多报多少？ 两病"
    assert kb.aliases.expand("两病怎么报销") == "两病怎么报销 高血压 糖尿病"
    assert kb.aliases.expand("住院怎么报销") == "住院怎么报销"
    hits = kb.search("高血压拿药一年最多报多少？", k=2, read_big=False)
    assert "每人每年最高报销400元" in hits[0].chunk.text

    # Mined again after the documents change: a removed definition no longer expands.
    load(kb, tmp_path / "docs", {"medical.md": "# 办法\n\n第一条 门诊购药报销60%。\n"})
    assert kb.aliases.expand("高血压拿药一年最多报多少？") == "高血压拿药一年最多报多少？"


def test_a_two_character_name_counts_within_a_word_or_on_word_bounds_not_across_two(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    tennis = "网球赛事\n\n中国网球公开赛（简称中网）每年九月在北京举行，中网期间开放公众观赛。\n"
    load(kb, tmp_path / "docs", {"tennis.txt": tennis})
    assert kb.aliases.expand("中网几月举行？") == "中网几月举行？ 中国网球公开赛"
    assert kb.aliases.expand("村里集中网点在哪？") == "村里集中网点在哪？"


def test_an_everyday_word_of_a_counted_list_brings_nothing(kb: KnowledgeBase, tmp_path: Path) -> None:
    files = {
        "plan.txt": "工作要点\n\n坚持把解决好农业、农村、农民（以下简称“三农”）问题作为全县工作的重中之重。\n"
    }
    for n in range(12):
        files[f"village{n}.txt"] = f"第{n}村简介\n\n本村是农村改革试点村，有{n + 3}个村民小组。\n"
    load(kb, tmp_path / "docs", files)
    # 农村 is in 13 of 13 chunks: asking about 农村 is not asking about 三农; 三农 still means all three.
    assert kb.aliases.expand("农村低保怎么申请？") == "农村低保怎么申请？"
    assert kb.aliases.expand("三农问题是什么？") == "三农问题是什么？ 农业 农村 农民"
