"""The answer check, for any composer: numbers must come from the cited evidence, and citations from
the passages that were actually retrieved."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import cn2an

from assistant.composing import Draft, Evidence

CITATION = re.compile(r"\[(\d{1,2})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _arabic(text: str) -> str:
    """Chinese numerals as digits (四百元 -> 400元), so a spelled-out number is checked too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns on every odd mix (一万多); the digits still count
        try:
            return str(cn2an.transform(text, "cn2an"))
        except (ValueError, KeyError):
            return text


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(_arabic(CITATION.sub("", text)))}


def check(draft: Draft, evidence: Sequence[Evidence]) -> CheckResult:
    result = CheckResult()
    if draft.refused:
        return result
    offered = {item.number: item for item in evidence}
    marks = [int(n) for n in CITATION.findall(draft.text)]
    if not marks:
        result.problems.append("the answer cites no passage")
    unknown = sorted({n for n in marks if n not in offered})
    if unknown:
        result.problems.append(f"cites passages that were not retrieved: {unknown}")
    cited_text = "\n".join(offered[n].text for n in set(marks) if n in offered)
    supported = numbers_in(cited_text) | {n for n in _NUMBER.findall(cited_text)}
    unsupported = sorted(numbers_in(draft.text) - supported)
    if unsupported:
        result.problems.append(f"numbers not in the cited passages: {unsupported}")
    return result
