"""Document-level metadata: kind (policy / handbook / case), region and validity dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from knowledge.loaders import ParsedDocument

KINDS = ("policy", "handbook", "case", "other")

_KIND_WORDS = {
    "policy": {"policy", "policies", "政策", "政策文件", "法规", "regulation", "regulations"},
    "handbook": {"handbook", "handbooks", "manual", "manuals", "guide", "guides", "手册", "产品手册", "指南"},
    "case": {"case", "cases", "案例", "典型案例", "案例集"},
}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_DATE_LINE = re.compile(
    r"^\s*(?:日期|发布日期|发布时间|发文日期|成文日期|印发日期|更新时间)\s*[:：]\s*"
    r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})",
    re.MULTILINE,
)
_DATE_LINE_WITHIN = 3
"""Blocks a web page or notice puts before its body: title, date line, source line."""


@dataclass(frozen=True)
class DocumentMeta:
    source: str
    """Path relative to the ingested folder, with forward slashes."""
    title: str
    kind: str
    region: str = ""
    valid_from: str = ""
    valid_to: str = ""
    """ISO dates (YYYY-MM-DD) or empty."""


def _kind_from_word(word: str) -> str | None:
    lowered = word.strip().lower()
    for kind, words in _KIND_WORDS.items():
        if lowered == kind or lowered in words:
            return kind
    return None


def parse_date(value: str) -> str:
    """Front-matter dates in the forms officials write them -> ISO, or '' when there is no date."""
    value = value.strip()
    match = _DATE.search(value)
    if not match:
        return ""
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return ""


def published(parsed: ParsedDocument) -> str:
    """The date a saved web page or notice gives itself in a labelled line at its top (日期：2022-05-27,
    发布时间：2023年5月31日) -> ISO, or ''. A date further down is an event's, not the document's."""
    for block in parsed.blocks[:_DATE_LINE_WITHIN]:
        if match := _DATE_LINE.search(block.text):
            return parse_date(match.group(1))
    return ""


def document_meta(parsed: ParsedDocument, source: str) -> DocumentMeta:
    meta = parsed.meta
    path = PurePosixPath(source)
    kind = _kind_from_word(meta.get("kind", "")) if meta.get("kind") else None
    if kind is None:
        kind = next((k for part in path.parts[:-1] if (k := _kind_from_word(part))), None)
    title = (meta.get("title") or parsed.title or path.stem).strip()
    return DocumentMeta(
        source=source,
        title=title,
        kind=kind or "other",
        region=meta.get("region", "").strip(),
        # Without front matter a page's own date stands for when it took effect: of two yearly copies
        # the newer one answers (assistant.extractive).
        valid_from=parse_date(meta.get("valid_from", "")) or published(parsed),
        valid_to=parse_date(meta.get("valid_to", "")),
    )
