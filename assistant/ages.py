"""Ages as a constraint: the villager's (俺爹都75了, 六十多岁的老人) and the age groups a sentence is about
(70周岁及以上, 80至89周岁, 年满60周岁, 不满16周岁).

A question carrying an age is answered by the rule for that age group: 75 is in 70周岁及以上, not in
80至89周岁, and a sentence about 70岁以上 answers nobody's 六十多岁.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import cn2an

OLDEST = 150

_NUMERAL = r"\d{1,3}|[一二两三四五六七八九十百零]{1,5}"


def _number(text: str) -> int | None:
    """An age in digits or Chinese numerals (七十五, 六十, 一百零二)."""
    if text.isdigit():
        return int(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return int(cn2an.cn2an(text, "smart"))
    except ValueError:
        return None


@dataclass(frozen=True)
class AgeSpan:
    """Ages from `low` to `high`, both included."""

    low: int
    high: int

    def overlaps(self, other: AgeSpan) -> bool:
        return self.low <= other.high and other.low <= self.high


# The villager's age: 75岁, 六十多岁, 80岁以上, 都75了 (an age only with the words that make it one).
_ASKED = re.compile(
    rf"(?P<n>{_NUMERAL})(?P<more>多)?周?岁(?P<up>及?以上|往上)?"
    rf"|(?:都|已经|今年|快|满|刚|已)(?P<m>\d{{2,3}}|[一二三四五六七八九十]{{2,4}})(?P<more2>多)?了"
)
# The age groups of a rule.
_RANGE = re.compile(rf"(?P<a>{_NUMERAL})(?:周?岁)?(?:至|到|-|—|～|~)(?P<b>{_NUMERAL})周?岁")
_FROM = re.compile(
    rf"(?:(?:年满|满|年龄在)(?P<a>{_NUMERAL})周?岁(?:及|或)?(?:以上)?"
    rf"|(?P<b>{_NUMERAL})周?岁(?:及|或|含)?以上)"
)
_UNDER = re.compile(rf"(?:(?:不满|未满)(?P<a>{_NUMERAL})周?岁|(?P<b>{_NUMERAL})周?岁(?:及|或|含)?以下)")


def asked_age(question: str) -> AgeSpan | None:
    """The age a question is asked for, if it names one (多大岁数 asks for an age, naming none)."""
    match = _ASKED.search(question)
    if match is None:
        return None
    value = _number(match.group("n") or match.group("m"))
    if value is None or not 1 <= value <= OLDEST:
        return None
    if match.group("up"):
        return AgeSpan(value, OLDEST)
    if match.group("more") or match.group("more2"):
        # 六十多岁 is in the sixties; 80多 in the eighties.
        return AgeSpan(value, value + 9) if value % 10 == 0 else AgeSpan(value, value)
    return AgeSpan(value, value)


def age_groups(text: str) -> list[AgeSpan]:
    """The age groups a sentence states, in order of appearance."""
    found: list[tuple[int, AgeSpan]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, span: AgeSpan | None) -> None:
        if span is not None and not any(start < e and s < end for s, e in taken):
            taken.append((start, end))
            found.append((start, span))

    for m in _RANGE.finditer(text):
        low, high = _number(m.group("a")), _number(m.group("b"))
        add(m.start(), m.end(), AgeSpan(low, high) if low is not None and high is not None else None)
    for m in _UNDER.finditer(text):
        value = _number(m.group("a") or m.group("b"))
        bare = m.group("a") is not None  # 不满16周岁 leaves 16 out; 16周岁以下 keeps it
        add(m.start(), m.end(), AgeSpan(0, value - 1 if bare else value) if value is not None else None)
    for m in _FROM.finditer(text):
        value = _number(m.group("a") or m.group("b"))
        add(m.start(), m.end(), AgeSpan(value, OLDEST) if value is not None else None)
    return [span for _, span in sorted(found, key=lambda item: item[0])]


def fits_age(age: AgeSpan, text: str) -> bool | None:
    """Whether a sentence's age groups include the asked age: None when it names no age group."""
    groups = age_groups(text)
    if not groups:
        return None
    return any(group.overlaps(age) for group in groups)
