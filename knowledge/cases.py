"""Case collections: a case (案例三：柳湾村——215只守护手表守住留守老人) tells one village's or one person's
story. Its facts (李某某家每月补贴800元, 合作社按每亩30元享受作业补贴) answer questions about that subject
(柳湾村给老人发守护手表，效果咋样？), never a villager's question about the policy itself."""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge.hybrid import SearchHit

CASE_HEADING = re.compile(
    r"案例[一二三四五六七八九十百零\d]+\s*[：:]\s*([^—\-－–\s：:]{2,12}?)\s*(?:——|—|－－|--|–)"
)
"""A case's heading; its group is the case's subject (柳湾村, 桃源镇, 龙潭村)."""


def case_subject(heading: str) -> str | None:
    """The subject of the case a heading (a chunk's title and section) opens, if it is one."""
    match = CASE_HEADING.search(heading)
    return match.group(1) if match else None


def another_case(question: str, heading: str) -> bool:
    """The heading opens a case whose subject the question does not name."""
    subject = case_subject(heading)
    return subject is not None and subject not in question


def other_cases_last(hits: Sequence[SearchHit], question: str) -> list[SearchHit]:
    """The hits with those telling another case's story moved after the rest, each group in its order:
    the policy's own sentence (按实际作业面积每亩给予30元作业补贴) is what refusal and the answer are judged
    on, not a cooperative's 30元 in a case the question never asked about."""
    other = [another_case(question, f"{hit.chunk.title} {hit.chunk.section}") for hit in hits]
    return [hit for hit, o in zip(hits, other, strict=True) if not o] + [
        hit for hit, o in zip(hits, other, strict=True) if o
    ]
