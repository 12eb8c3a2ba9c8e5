"""The answer check, for any composer: numbers must come from the cited evidence, citations from the
passages that were actually retrieved, and an answer must not say that the documents do not answer."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import cn2an

from assistant.composing import Draft, Evidence

CITATION = re.compile(r"\[(\d{1,2})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NO_ANSWER = "资料中没有相关内容"
"""What a generative composer is told to say, alone, when the passages do not answer."""
_NOT_COVERED = re.compile(
    rf"{NO_ANSWER}|(资料|文件|材料)[中里上]?(并)?(没有|没|未)(有)?(提到|提及|说明|涉及|相关|写|讲|找到)|无法回答|无法确定"
)


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)
    unsupported_numbers: list[str] = field(default_factory=list)
    unknown_citations: list[int] = field(default_factory=list)
    uncited: bool = False
    says_not_covered: bool = False

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


def says_not_covered(text: str) -> bool:
    """The text says the documents do not answer (资料中没有提到…): a refusal, whatever else it says."""
    return bool(_NOT_COVERED.search(text))


def check(draft: Draft, evidence: Sequence[Evidence]) -> CheckResult:
    result = CheckResult()
    if draft.refused:
        return result
    offered = {item.number: item for item in evidence}
    marks = [int(n) for n in CITATION.findall(draft.text)]
    if not marks:
        result.uncited = True
        result.problems.append("the answer cites no passage")
    unknown = sorted({n for n in marks if n not in offered})
    if unknown:
        result.unknown_citations = unknown
        result.problems.append(f"cites passages that were not retrieved: {unknown}")
    cited_text = "\n".join(offered[n].text for n in set(marks) if n in offered)
    supported = numbers_in(cited_text) | {n for n in _NUMBER.findall(cited_text)}
    unsupported = sorted(numbers_in(draft.text) - supported)
    if unsupported:
        result.unsupported_numbers = unsupported
        result.problems.append(f"numbers not in the cited passages: {unsupported}")
    # An answer that also says the documents do not cover the question contradicts itself: either it
    # is a refusal in disguise or it answers something the passages do not say.
    if says_not_covered(draft.text):
        result.says_not_covered = True
        result.problems.append("the answer says the documents do not cover the question")
    return result
