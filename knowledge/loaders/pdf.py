"""PDF files: text outside tables re-flowed into paragraphs, tables kept as rows (pdfplumber)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pdfplumber

from knowledge.loaders.base import Block, LoadError, LoadLimits, ParsedDocument, clean_cell

_SENTENCE_END = re.compile(r"[。！？；：:!?;]$")
# A line that starts a new paragraph even when the previous one did not end a sentence.
_STARTS_ITEM = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+[章节条编款]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．]|问[:：]|答[:：])"
)


def _reflow(lines: list[str]) -> list[str]:
    """PDF text arrives hard-wrapped; join lines back into paragraphs."""
    paragraphs: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if paragraphs and not _SENTENCE_END.search(paragraphs[-1]) and not _STARTS_ITEM.match(line):
            joiner = " " if paragraphs[-1][-1:].isascii() and line[:1].isascii() else ""
            paragraphs[-1] += joiner + line
        else:
            paragraphs.append(line)
    return paragraphs


def _page_blocks(page: Any) -> list[Block]:
    tables = page.find_tables()
    bboxes = [t.bbox for t in tables]

    def outside_tables(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        x, top = obj["x0"], obj["top"]
        return not any(x0 <= x <= x1 and t0 <= top <= t1 for x0, t0, x1, t1 in bboxes)

    # Text and tables in reading order: lines are grouped into runs separated by the tables between them.
    items: list[tuple[float, list[str] | tuple[tuple[str, ...], ...]]] = []
    runs: dict[int, tuple[float, list[str]]] = {}
    for line in page.filter(outside_tables).extract_text_lines():
        top = float(line["top"])
        run = sum(1 for t in tables if t.bbox[1] < top)
        runs.setdefault(run, (top, []))[1].append(line["text"])
    items.extend(runs.values())
    for table in tables:
        rows = tuple(tuple(clean_cell(cell or "") for cell in row) for row in table.extract() if any(row))
        if rows:
            items.append((float(table.bbox[1]), rows))
    blocks: list[Block] = []
    for _, item in sorted(items, key=lambda entry: entry[0]):
        if isinstance(item, list):
            blocks.extend(Block("paragraph", p) for p in _reflow(item))
        else:
            blocks.append(Block("table", rows=item))
    return blocks


def load_pdf(path: Path, limits: LoadLimits) -> ParsedDocument:
    blocks: list[Block] = []
    meta: dict[str, str] = {}
    try:
        with pdfplumber.open(path) as pdf:
            pages = len(pdf.pages)
            if pages > limits.max_pdf_pages:
                raise LoadError(
                    f"{pages} pages, over the limit of {limits.max_pdf_pages}",
                    f"PDF超过{limits.max_pdf_pages}页，请拆成几个文件再上传。",
                )
            info = pdf.metadata or {}
            title = info.get("Title")
            if isinstance(title, str) and title.strip():
                meta["title"] = title.strip()
            for page in pdf.pages:
                blocks.extend(_page_blocks(page))
                page.close()  # its parsed layout (megabytes a page) is not needed again
    except (LoadError, MemoryError):
        raise
    except Exception as exc:  # pdfminer raises many unrelated types for corrupt files
        raise LoadError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    if not any(b.text or b.rows for b in blocks):
        raise LoadError(
            "PDF has no extractable text (scanned image?)",
            "PDF里没有可以读取的文字（可能是扫描件），请上传文字版。",
        )
    return ParsedDocument(blocks=blocks, title=meta.get("title"), meta=meta)
