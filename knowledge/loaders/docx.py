"""Word .docx files: heading styles, paragraphs and tables in body order (python-docx).

A .docx is a zip: its central directory is checked against the limits before anything is unzipped, so a
zip bomb (a small file whose parts unzip to hundreds of MB) is refused in milliseconds. The sizes it
declares can lie; the parser process's memory limit is what stops such a file.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.loaders.base import Block, LoadError, LoadLimits, ParsedDocument, clean_cell

_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.IGNORECASE)
_BODY = "word/document.xml"
_BOMB = "可能已损坏或是压缩炸弹，请检查后重新上传。"
# Small parts (styles, settings) of ordinary files compress far better than 100:1; only a big part with
# such a ratio is suspect.
_RATIO_FROM_BYTES = 1_000_000


def _mb(size: int) -> int:
    return size // 1_000_000


def check_package(path: Path, limits: LoadLimits) -> None:
    """Refuse a zip whose declared contents are over the limits, reading only its central directory."""
    try:
        with zipfile.ZipFile(path) as package:
            entries = package.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise LoadError(f"unreadable Word file: {type(exc).__name__}: {exc}") from exc
    if len(entries) > limits.max_zip_entries:
        raise LoadError(
            f"zip holds {len(entries)} parts, over the limit of {limits.max_zip_entries}",
            f"文件内部包含{len(entries)}个部件，{_BOMB}",
        )
    total = sum(e.file_size for e in entries)
    if total > limits.max_unpacked_bytes:
        raise LoadError(
            f"unzips to {total} bytes, over the limit of {limits.max_unpacked_bytes}",
            f"文件解压后超过{_mb(limits.max_unpacked_bytes)}MB，{_BOMB}",
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _RATIO_FROM_BYTES and ratio > limits.max_zip_ratio:
            raise LoadError(
                f"{entry.filename} unzips to {ratio:.0f} times its size,"
                f" over the limit of {limits.max_zip_ratio}",
                f"文件压缩比例异常，{_BOMB}",
            )
        if entry.filename == _BODY and entry.file_size > limits.max_docx_xml_bytes:
            raise LoadError(
                f"{_BODY} unzips to {entry.file_size} bytes, over the limit of {limits.max_docx_xml_bytes}",
                f"Word文件正文解压后超过{_mb(limits.max_docx_xml_bytes)}MB，请拆成几个文件再上传。",
            )


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


def load_docx(path: Path, limits: LoadLimits) -> ParsedDocument:
    check_package(path, limits)
    try:
        document = docx.Document(str(path))
    except MemoryError:
        raise
    except Exception as exc:  # python-docx raises several unrelated types for a damaged package
        raise LoadError(f"unreadable Word file: {type(exc).__name__}: {exc}") from exc
    blocks: list[Block] = []
    # Resolving a paragraph's style searches the styles part each time (~1 ms): once per style id, or a
    # 500,000-character document takes longer than its time budget.
    style_names: dict[str | None, str] = {}
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style_id = item._p.style
            if style_id not in style_names:
                style_names[style_id] = (item.style.name if item.style is not None else "") or ""
            style = style_names[style_id]
            match = _HEADING_STYLE.match(style)
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
