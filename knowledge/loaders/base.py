"""What every loader produces: a document as an ordered list of typed blocks."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "table"]

UNREADABLE = "文件损坏，无法读取。"


class LoadError(Exception):
    """A file that cannot be read as a document (corrupt, encrypted, unsupported, over a budget). The
    ingest skips it. `reason` is for the logs; `message` tells the officials, in Chinese, what to do."""

    def __init__(self, reason: str, message: str = UNREADABLE) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class LoadLimits:
    """How much one file may make a loader read, unpack and keep; over a limit it is refused, so a
    damaged or hostile file costs seconds, not the server's memory."""

    max_document_chars: int
    """Text of the parsed document (blocks and table cells)."""
    max_decoded_chars: int
    """A text, Markdown or HTML file after decoding, markup included."""
    max_unpacked_bytes: int
    """A zip-based file's (.docx) parts, all together, as its central directory declares them."""
    max_docx_xml_bytes: int
    """word/document.xml unzipped."""
    max_zip_ratio: int
    """Unzipped/zipped size of one part over 1 MB."""
    max_zip_entries: int
    max_pdf_pages: int


_NONE = sys.maxsize
NO_LIMITS = LoadLimits(
    max_document_chars=_NONE,
    max_decoded_chars=_NONE,
    max_unpacked_bytes=_NONE,
    max_docx_xml_bytes=_NONE,
    max_zip_ratio=_NONE,
    max_zip_entries=_NONE,
    max_pdf_pages=_NONE,
)
"""For files the caller trusts (tests, the packaged demo); the ingest passes the settings' limits."""


def zh_count(n: int) -> str:
    """A count as officials write it: 500000 -> 50万."""
    return f"{n // 10_000}万" if n >= 10_000 and n % 10_000 == 0 else str(n)


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str = ""
    level: int = 0
    """Heading level, 1 = top (Markdown `#`, Word "Heading 1", HTML h1)."""
    rows: tuple[tuple[str, ...], ...] = ()
    """Table cells, row by row; the first row is the header when `header` is true."""
    header: bool = True


@dataclass
class ParsedDocument:
    blocks: list[Block]
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    """Front matter (title, kind, region, valid_from, valid_to, issuer ...) as strings."""

    def chars(self) -> int:
        return sum(len(b.text) + sum(len(cell) for row in b.rows for cell in row) for b in self.blocks)


def clean_cell(text: str) -> str:
    return " ".join(text.split())
