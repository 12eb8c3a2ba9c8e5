"""Plain text and Markdown, with optional YAML front matter."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from knowledge.loaders.base import Block, LoadError, LoadLimits, ParsedDocument, clean_cell
from knowledge.loaders.encoding import read_text_file

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# A numbered item (1、 2. （三） 第二条) is no title; a headline that opens with its year (2023年…招生问答,
# 2020中法学院…) is one.
_NUMBERED = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+[编章节条]|[一二三四五六七八九十]+、|[（(]|\d{1,2}\s*[、.．)）]|\d+\s)"
)
_DOCUMENT_TITLE = re.compile(r"^关于|(通知|办法|方案|意见|决定|公告|通报|规定|细则|指南|须知|回顾|总结)$")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")
_FRONT_MATTER_HELP = "文件开头的YAML信息（两行---之间的部分）"


class _FrontMatterLoader(yaml.SafeLoader):
    """Front matter is a few plain fields. An alias (*name) is refused: aliases of aliases are how a
    "billion laughs" front matter, a few hundred bytes, turns into gigabytes once its values are written
    out as text."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise LoadError(
                "front matter uses YAML aliases", f"{_FRONT_MATTER_HELP}不能使用*引用，请修改后重新上传。"
            )
        return super().compose_node(parent, index)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.load(match.group(1), Loader=_FrontMatterLoader)
    except yaml.YAMLError as exc:
        raise LoadError(
            f"invalid front matter: {exc}", f"{_FRONT_MATTER_HELP}格式有误，请修改后重新上传。"
        ) from exc
    if not isinstance(data, dict):
        return {}, text
    meta: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        meta[str(key)] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return meta, text[match.end() :]


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    return _EMPHASIS.sub(r"\2", text).strip()


def _table_cells(line: str) -> tuple[str, ...]:
    line = line.strip().strip("|")
    return tuple(clean_cell(_inline(cell)) for cell in line.split("|"))


def parse_markdown(text: str) -> ParsedDocument:
    meta, body = split_front_matter(text)
    blocks: list[Block] = []
    lines = body.splitlines()
    i = 0
    in_code = False
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        i += 1
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not line:
            continue
        if in_code:
            blocks.append(Block("paragraph", line))
            continue
        heading = _HEADING.match(line)
        if heading:
            blocks.append(Block("heading", _inline(heading.group(2)), level=len(heading.group(1))))
            continue
        if line.startswith("|") and i < len(lines) and _TABLE_SEPARATOR.match(lines[i].strip()):
            rows = [_table_cells(line)]
            i += 1
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_table_cells(lines[i]))
                i += 1
            blocks.append(Block("table", rows=tuple(rows)))
            continue
        line = _BULLET.sub("", line)
        if line.startswith(">"):
            line = line.lstrip("> ")
        blocks.append(Block("paragraph", _inline(line)))
    title = meta.get("title") or next((b.text for b in blocks if b.kind == "heading"), None)
    return ParsedDocument(blocks=blocks, title=title, meta=meta)


def parse_plain(text: str) -> ParsedDocument:
    meta, body = split_front_matter(text)
    blocks = [Block("paragraph", line.strip()) for line in body.splitlines() if line.strip()]
    title = meta.get("title")
    # Official notices often open with the issuer ("青溪县民政局 青溪县财政局") and then the title.
    at = next(
        (i for i, b in enumerate(blocks[:3]) if _DOCUMENT_TITLE.search(b.text) and len(b.text) <= 60), 0
    )
    first = blocks[at].text if blocks else ""
    if first and len(first) <= 60 and not re.search(r"[。；！？]$", first) and not _NUMBERED.match(first):
        # The title of a plain-text document is not a passage of its own.
        title = title or first
        blocks = [Block("heading", first, level=1), *blocks[:at], *blocks[at + 1 :]]
    return ParsedDocument(blocks=blocks, title=title, meta=meta)


def load_text(path: Path, limits: LoadLimits) -> ParsedDocument:
    return parse_plain(read_text_file(path, limits))


def load_markdown(path: Path, limits: LoadLimits) -> ParsedDocument:
    return parse_markdown(read_text_file(path, limits))
