"""Word .docx files: heading styles, paragraphs and tables in body order (python-docx)."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.loaders.base import Block, LoadError, ParsedDocument, clean_cell

_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.IGNORECASE)


def _table_rows(table: Table) -> tuple[tuple[str, ...], ...]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # Merged cells come back once per grid column; keep one copy.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(clean_cell(cell.text))
        if any(cells):
            rows.append(tuple(cells))
    return tuple(rows)


def load_docx(path: Path) -> ParsedDocument:
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for a damaged package
        raise LoadError(f"unreadable Word file: {type(exc).__name__}: {exc}") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = item.style.name if item.style is not None else ""
            match = _HEADING_STYLE.match(style or "")
            if match:
                blocks.append(Block("heading", text, level=int(match.group(1))))
            elif style == "Title":
                blocks.append(Block("heading", text, level=1))
            else:
                blocks.append(Block("paragraph", text))
        elif isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                blocks.append(Block("table", rows=rows))
    core_title = (document.core_properties.title or "").strip()
    title = core_title or next((b.text for b in blocks if b.kind == "heading"), None)
    meta = {"title": core_title} if core_title else {}
    return ParsedDocument(blocks=blocks, title=title, meta=meta)
