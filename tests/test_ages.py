"""Ages as a constraint: the villager's and the age groups of a rule (assistant/ages.py)."""

from __future__ import annotations

import pytest

from assistant.ages import OLDEST, AgeSpan, age_groups, asked_age, fits_age


@pytest.mark.parametrize(
    ("question", "age"),
    [
        ("俺爹都75了，能多给点不？", AgeSpan(75, 75)),
        ("85岁的老人高龄补贴一个月多少？", AgeSpan(85, 85)),
        ("我七十五岁了，能领多少？", AgeSpan(75, 75)),
        ("六十多岁的老人吃一顿多少钱？", AgeSpan(60, 69)),
        ("80多岁的老人吃一顿多钱？", AgeSpan(80, 89)),
        ("那90岁以上的呢？", AgeSpan(90, OLDEST)),
        ("一百零二岁的老人有什么补贴？", AgeSpan(102, 102)),
        # Asking for an age names none; a count of other things is no age.
        ("那交到多大岁数能领钱？", None),
        ("种了30亩地能补多少？", None),
    ],
)
def test_the_villagers_age_is_read_from_the_question(question: str, age: AgeSpan | None) -> None:
    assert asked_age(question) == age


@pytest.mark.parametrize(
    ("sentence", "groups"),
    [
        ("年龄段：80至89周岁；津贴标准（元/人·月）：60", [AgeSpan(80, 89)]),
        ("80周岁以上老人每餐收费3元（70周岁以上每餐5元）", [AgeSpan(80, OLDEST), AgeSpan(70, OLDEST)]),
        ("参保人员年满60周岁、累计缴费满15年", [AgeSpan(60, OLDEST)]),
        ("70周岁及以上老年人、未成年人，增发10%", [AgeSpan(70, OLDEST)]),
        ("不满16周岁的未成年人", [AgeSpan(0, 15)]),
        ("16周岁以下的未成年人", [AgeSpan(0, 16)]),
        ("每人每月880元", []),
    ],
)
def test_a_sentence_states_its_age_groups(sentence: str, groups: list[AgeSpan]) -> None:
    assert age_groups(sentence) == groups


def test_an_age_fits_a_group_that_takes_it_in() -> None:
    assert fits_age(AgeSpan(75, 75), "70周岁及以上老年人增发10%") is True
    assert fits_age(AgeSpan(75, 75), "80至89周岁每人每月60元") is False
    assert fits_age(AgeSpan(60, 69), "60至69周岁每餐8元，70周岁以上每餐5元") is True
    assert fits_age(AgeSpan(75, 75), "每人每月880元") is None
