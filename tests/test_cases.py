"""Case collections (knowledge/cases.py): a case's story answers questions about its subject only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from assistant.answerability import read_question, states_some
from assistant.pipeline import Assistant
from knowledge.cases import another_case, case_subject, other_cases_last
from knowledge.chunking import Chunk
from knowledge.hybrid import SearchHit
from tests.test_answerability import assistant_over


@pytest.mark.parametrize(
    ("heading", "subject"),
    [
        ("典型案例选编（上） 案例三：柳湾村——215只守护手表守住留守老人", "柳湾村"),
        ('典型案例选编（续编） 案例十二：桃源镇——茶叶低温气象指数保险应对"倒春寒"', "桃源镇"),
        ("典型案例 案例8：龙潭村--防返贫一键申报", "龙潭村"),
        ("青溪县城乡居民医保政策问答（2025年版） 三、门诊报销", None),
    ],
)
def test_a_case_heading_names_its_subject(heading: str, subject: str | None) -> None:
    assert case_subject(heading) == subject


def test_another_case_is_one_the_question_does_not_name() -> None:
    heading = "案例十一：沙洲村——农机合作社让“望天收”变“机器收”"
    assert another_case("请人用机器插秧，有补贴没有？", heading)
    assert not another_case("沙洲村合作社帮人种田，一亩一季收多少钱？", heading)
    assert not another_case("请人用机器插秧，有补贴没有？", "青溪县农机购置补贴实施方案 三、作业补贴")


def _hit(source: str, section: str) -> SearchHit:
    chunk = Chunk(id=source, source=source, ordinal=0, text="……", title="", section=section, kind="text")
    return SearchHit(chunk, 1.0)


def test_other_cases_go_after_the_rest_in_their_order() -> None:
    hits = [
        _hit("case-a", "案例十一：沙洲村——农机合作社"),
        _hit("policy", "三、作业补贴"),
        _hit("case-b", "案例五：白沙村——土地流转"),
        _hit("faq", "六、其他"),
    ]
    ordered = [h.chunk.id for h in other_cases_last(hits, "请人用机器插秧，有补贴没有？")]
    assert ordered == ["policy", "faq", "case-a", "case-b"]
    named = [h.chunk.id for h in other_cases_last(hits, "沙洲村合作社插秧收多少钱？")]
    assert named == ["case-a", "policy", "faq", "case-b"]


def test_a_case_sentence_answers_only_a_question_about_its_subject() -> None:
    context = "典型案例选编 案例十一：沙洲村——农机合作社让“望天收”变“机器收” "
    sentence = "合作社全年完成机械化育插秧作业3200亩，按每亩30元享受作业补贴9.6万元。"
    question = "请人用机器插秧，每亩补贴多少？"
    assert not states_some(read_question(question), question, sentence, context)
    question = "沙洲村合作社插秧，每亩补贴多少？"
    assert states_some(read_question(question), question, sentence, context)


POLICY = """# 青溪县2025年农机作业补贴实施方案

## 三、作业补贴

在我县开展水稻机械化育插秧作业的农户和服务组织，按实际作业面积每亩给予30元作业补贴。
"""

CASES = """# 青溪县典型案例选编

## 案例十一：沙洲村——农机合作社让“望天收”变“机器收”

合作社全年完成机械化育插秧作业3200亩，作业收入96万元，带动农户每亩增收200元。

## 案例十二：桃源镇——茶叶低温气象指数保险应对“倒春寒”

2024年3月倒春寒，保险公司向全镇茶农赔付186万元，每亩赔付最高1200元。
"""


@pytest.fixture
def county(tmp_path: Path, embeddings: Embeddings) -> Iterator[Assistant]:
    with assistant_over(tmp_path, embeddings, {"policy.md": POLICY, "cases.md": CASES}) as assistant:
        yield assistant


def test_a_villagers_question_is_answered_by_the_policy_not_a_case(county: Assistant) -> None:
    policy = county.ask("请人用机器插秧，每亩补贴多少钱？")
    assert not policy.refused and "每亩给予30元作业补贴" in policy.answer, policy.answer
    assert all(c.source == "policy.md" for c in policy.citations)
    case = county.ask("桃源镇的茶叶冻了，保险赔了多少？")
    assert not case.refused and "186万元" in case.answer, case.answer
    # Only a case tells it, and the question names no case: one village's payout is no answer.
    other = county.ask("茶叶冻了，保险一亩最多赔多少？")
    assert other.refused, other.answer
