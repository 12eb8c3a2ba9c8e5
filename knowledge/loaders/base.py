"""What every loader produces: a document as an ordered list of typed blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "table"]


class LoadError(Exception):
    """A file that cannot be read as a document (corrupt, encrypted, unsupported). The ingest skips it."""


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


def clean_cell(text: str) -> str:
    return " ".join(text.split())
