"""去年 and 前年 said as the documents say them: 2024年, not 'the year before this one'.

Villagers date by the calendar they live in (去年的地力补贴啥时候发的？); notices date by the year
(2024年…于6月25日前全部发放). "This year" is the knowledge base's: the latest year its documents take
effect from, never later than the clock's, so a county whose newest notices are 2025's reads 去年 as 2024
even in January 2026, before the 2026 notices are loaded. A knowledge base with no dated documents
leaves the words as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

# 过去年… is "in past years", not 去年.
_RELATIVE = re.compile(r"(?<!过)(大前年|前年|去年)")
_YEARS_BACK = {"去年": 1, "前年": 2, "大前年": 3}
_YEAR = re.compile(r"^((?:19|20)\d{2})")


def current_year(valid_from: Iterable[str], today: date | None = None) -> int | None:
    """The latest year the documents take effect from (`DocumentRecord.valid_from`, 2025-03-01), at most
    this calendar year; None when no document is dated."""
    this_year = (today or date.today()).year
    years = [int(m.group(1)) for v in valid_from if (m := _YEAR.match(v.strip()))]
    return min(max(years), this_year) if years else None


def resolve(question: str, year: int | None) -> str:
    """The question with 去年, 前年 and 大前年 replaced by the years they mean (2024年)."""
    if year is None:
        return question
    return _RELATIVE.sub(lambda m: f"{year - _YEARS_BACK[m.group(1)]}年", question)


class RelativeYears:
    """`resolve` against a catalog's documents, read again only when the catalog changes."""

    def __init__(self, valid_from: Callable[[], Iterable[str]], generation: Callable[[], int]) -> None:
        self._valid_from = valid_from
        self._generation = generation
        self._cached: tuple[int, int | None] | None = None

    def year(self) -> int | None:
        generation = self._generation()
        if self._cached is None or self._cached[0] != generation:
            self._cached = (generation, current_year(self._valid_from()))
        return self._cached[1]

    def resolve(self, question: str) -> str:
        return resolve(question, self.year()) if _RELATIVE.search(question) else question
