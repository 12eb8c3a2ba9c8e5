"""去年 and 前年 read as the years they mean in the knowledge base's calendar (answered end to end in
test_assistant.py)."""

from __future__ import annotations

from datetime import date

from assistant.relative_years import RelativeYears, current_year, resolve


def test_this_year_is_the_documents_latest_never_past_the_clock() -> None:
    assert current_year(["2024-07-01", "2025-11-01", ""], today=date(2026, 1, 5)) == 2025
    # A notice that takes effect next year does not make next year this year.
    assert current_year(["2025-03-01", "2027-01-01"], today=date(2026, 6, 1)) == 2026
    assert current_year(["", "  "], today=date(2026, 6, 1)) is None


def test_relative_years_are_replaced_and_nothing_else() -> None:
    assert resolve("去年的种地补贴一亩是多少钱？", 2025) == "2024年的种地补贴一亩是多少钱？"
    assert resolve("前年和大前年发了几次？", 2025) == "2023年和2022年发了几次？"
    assert resolve("过去年份的标准呢？", 2025) == "过去年份的标准呢？", "过去年… is not 去年"
    assert resolve("去年的补贴", None) == "去年的补贴", "no dated document: left as said"


def test_the_year_is_read_again_when_the_catalog_changes() -> None:
    dates = ["2024-01-01"]
    generation = [1]
    years = RelativeYears(lambda: list(dates), lambda: generation[0])
    assert years.resolve("去年的呢") == "2023年的呢"
    dates.append("2025-02-01")
    assert years.resolve("去年的呢") == "2023年的呢", "unchanged catalog: the cached year"
    generation[0] = 2
    assert years.resolve("去年的呢") == "2024年的呢"
