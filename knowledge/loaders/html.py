"""HTML pages: headings, paragraphs, list items and tables in document order."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, Tag

from knowledge.loaders.base import Block, LoadError, LoadLimits, ParsedDocument, clean_cell
from knowledge.loaders.encoding import read_text_file

_BLOCK_TAGS = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "ul",
    "ol",
    "li",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dl",
    "dt",
    "dd",
    "pre",
    "blockquote",
    "br",
]
_SKIP_TAGS = {"script", "style", "noscript", "nav", "footer", "header", "form", "template"}


def _table_rows(table: Tag) -> tuple[tuple[str, ...], ...]:
    rows = []
    for tr in table.find_all("tr"):
        cells = tuple(clean_cell(cell.get_text(" ")) for cell in tr.find_all(["th", "td"]))
        if any(cells):
            rows.append(cells)
    return tuple(rows)


def _walk(node: Tag, blocks: list[Block]) -> None:
    for child in node.children:
        if not isinstance(child, Tag):
            text = clean_cell(str(child))
            if text:
                blocks.append(Block("paragraph", text))
            continue
        name = child.name.lower()
        if name in _SKIP_TAGS:
            continue
        if name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            text = clean_cell(child.get_text(" "))
            if text:
                blocks.append(Block("heading", text, level=int(name[1])))
        elif name == "table":
            rows = _table_rows(child)
            if rows:
                blocks.append(Block("table", rows=rows, header=child.find("th") is not None or len(rows) > 1))
        elif child.find(_BLOCK_TAGS) is None:
            # A leaf block (or inline run): its whole text is one paragraph, inline tags included.
            text = clean_cell(child.get_text(""))
            if text:
                blocks.append(Block("paragraph", text))
        else:
            _walk(child, blocks)


def parse_html(markup: str) -> ParsedDocument:
    soup = BeautifulSoup(markup, "lxml")
    root = soup.body or soup
    if not isinstance(root, Tag):
        raise LoadError("empty HTML document", "网页文件里没有内容。")
    blocks: list[Block] = []
    _walk(root, blocks)
    title_tag = soup.find("title")
    title = clean_cell(title_tag.get_text()) if title_tag else None
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading"), None)
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name, content = tag.get("name"), tag.get("content")
        if isinstance(name, str) and isinstance(content, str) and name.startswith("xiangyin:"):
            meta[name.removeprefix("xiangyin:")] = content
    return ParsedDocument(blocks=blocks, title=title, meta=meta)


def load_html(path: Path, limits: LoadLimits) -> ParsedDocument:
    return parse_html(read_text_file(path, limits))
