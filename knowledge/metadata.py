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
        valid_from=parse_date(meta.get("valid_from", "")),
        valid_to=parse_date(meta.get("valid_to", "")),
    )
