"""Structure-aware chunking of Chinese documents.

Documents are first cut into *units* that must not be torn apart: a law article (第X条), a Q&A pair,
a numbered item, a paragraph, a table. Units under the same heading path are then packed into chunks of
at most `max_chars`; a Q&A pair is always a chunk of its own, and a unit longer than `max_chars` is cut at
sentence ends (。！？；) or, for tables, between rows (each row is rendered self-describing).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from knowledge.loaders import Block, ParsedDocument
from knowledge.metadata import DocumentMeta
from zhtext.sentences import split_sentences

# Also bumped when a loader reads documents differently (3: plain-text titles that open with a year;
# 4: fragments join a neighbour; 5: a page's own date line is its valid_from).
CHUNKER_VERSION = "5"

_NUM = "一二三四五六七八九十百千零〇两"
# A table row as the chunker writes it (rows below): 表头：值；表头：值.
TABLE_ROW = re.compile(r"^[^：；。]{1,24}：[^；]+(；[^：；]{1,24}：[^；]*)+$")


def row_parts(sentence: str) -> tuple[str, str]:
    """What a sentence says, and what only labels it: a table row's headings (月费（元/月）, 宽带速率) are
    the same in every row, so only its values tell one row from another. Not a row: ("sentence", "")."""
    if not TABLE_ROW.match(sentence):
        return sentence, ""
    fields = [field.split("：", 1) for field in sentence.split("；")]
    return "；".join(f[-1] for f in fields), "；".join(f[0] for f in fields if len(f) == 2)


_PART = re.compile(rf"^第[{_NUM}\d]+编")
_CHAPTER = re.compile(rf"^第[{_NUM}\d]+章")
_SECTION = re.compile(rf"^第[{_NUM}\d]+节")
_ARTICLE = re.compile(rf"^(第[{_NUM}\d]+条)[\s　]*")
_ITEM_1 = re.compile(rf"^[{_NUM}]+[、．.]")
_ITEM_2 = re.compile(rf"^[（(][{_NUM}]+[)）]")
_ITEM_3 = re.compile(r"^\d{1,2}[、．.](?!\d)")
_ITEM_4 = re.compile(r"^([（(]\d{1,2}[)）]|[①②③④⑤⑥⑦⑧⑨⑩])")
_QUESTION = re.compile(r"^(?:\d{1,3}[、．.]\s*)?(?:问|Q|q|问题)\s*\d*\s*[:：]")
_ANSWER = re.compile(r"^(?:答|A|a|回答)\s*\d*\s*[:：]")
_HEADING_MAX = 40

# Heading ranks: markup headings (1-6) outrank textual markers; a smaller rank is a higher level.
_RANK_PART, _RANK_CHAPTER, _RANK_SECTION = 10, 11, 12
_RANK_ITEM = {1: 14, 2: 15}

UnitKind = Literal["text", "article", "qa", "table"]


@dataclass
class _Unit:
    kind: UnitKind
    path: tuple[str, ...]
    lines: list[str] = field(default_factory=list)
    label: str = ""
    caption: str = ""
    """A table's caption, repeated at the top of each piece when the table is split."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage with everything needed to cite it."""

    id: str
    source: str
    ordinal: int
    text: str
    title: str
    section: str
    kind: str
    region: str = ""
    valid_from: str = ""
    valid_to: str = ""
    content_hash: str = ""
    headings: tuple[tuple[int, str], ...] = ()
    """Of a passage read big across sections (`knowledge.passages.merge`): where each member starts in
    `text` and its own title and section, which its sentences stand under; empty for one chunk, or
    when every member shares the passage's heading. Not stored."""

    def heading_at(self, offset: int) -> str:
        """The title and section the text at `offset` stands under."""
        own = f"{self.title} {self.section}"
        return next((h for start, h in reversed(self.headings) if start <= offset), own)

    def embedding_text(self) -> str:
        """Text given to the embedder and the lexical index: where the passage sits, then the passage."""
        head = " ".join(part for part in (self.title, self.section.replace(" > ", " ")) if part)
        return f"{head}\n{self.text}" if head else self.text

    def metadata(self) -> dict[str, str | int]:
        return {
            "source": self.source,
            "ordinal": self.ordinal,
            "title": self.title,
            "section": self.section,
            "kind": self.kind,
            "region": self.region,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "content_hash": self.content_hash,
        }


def render_table(rows: tuple[tuple[str, ...], ...], header: bool = True) -> list[str]:
    """One line per row, each readable alone: `列名：值；列名：值`."""
    if not rows:
        return []
    if not header or len(rows) == 1:
        return ["；".join(cell for cell in row if cell) for row in rows]
    head, body = rows[0], rows[1:]
    lines = []
    for row in body:
        pairs = []
        for i, cell in enumerate(row):
            if not cell:
                continue
            name = head[i] if i < len(head) else ""
            pairs.append(f"{name}：{cell}" if name and name != cell else cell)
        if pairs:
            lines.append("；".join(pairs))
    return lines


def _is_heading_like(text: str) -> bool:
    return len(text) <= _HEADING_MAX and not re.search(r"[。；！？!?;，,]", text)


def _item_level(text: str) -> int:
    for level, pattern in ((1, _ITEM_1), (2, _ITEM_2), (3, _ITEM_3), (4, _ITEM_4)):
        if pattern.match(text):
            return level
    return 0


class _UnitBuilder:
    """Turns blocks into units while tracking the heading path."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.filled: list[bool] = []
        """Per heading on the stack: has any unit been emitted under it?"""
        self.units: list[_Unit] = []
        self.current: _Unit | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.stack)

    def push_heading(self, rank: int, title: str) -> None:
        self.close()
        while self.stack and self.stack[-1][0] >= rank:
            self._pop()
        self.stack.append((rank, title))
        self.filled.append(False)

    def _pop(self) -> None:
        _, title = self.stack.pop()
        if not self.filled.pop():
            # A heading with nothing under it (a one-line item such as "一、申报流程") is content itself.
            self._emit(_Unit("text", self.path, [title]))

    def _emit(self, unit: _Unit) -> None:
        self.units.append(unit)
        self.filled = [True] * len(self.filled)

    def finish(self) -> list[_Unit]:
        self.close()
        while self.stack:
            self._pop()
        return self.units

    def close(self) -> None:
        if self.current is not None and self.current.lines:
            self._emit(self.current)
        self.current = None

    def start(self, kind: UnitKind, line: str, label: str = "", path: tuple[str, ...] | None = None) -> None:
        self.close()
        self.current = _Unit(kind, self.path if path is None else path, [line], label)

    def append(self, line: str) -> None:
        if self.current is None:
            self.current = _Unit("text", self.path, [])
        self.current.lines.append(line)

    def paragraph(self, text: str) -> None:
        current = self.current
        in_article = current is not None and current.kind == "article"
        in_qa = current is not None and current.kind == "qa"
        if _QUESTION.match(text):
            self.start("qa", text)
            return
        if _ANSWER.match(text) and in_qa:
            self.append(text)
            return
        if _PART.match(text) and _is_heading_like(text):
            self.push_heading(_RANK_PART, text)
            return
        if _CHAPTER.match(text) and _is_heading_like(text):
            self.push_heading(_RANK_CHAPTER, text)
            return
        if _SECTION.match(text) and _is_heading_like(text):
            self.push_heading(_RANK_SECTION, text)
            return
        article = _ARTICLE.match(text)
        if article:
            label = article.group(1)
            self.start("article", text, label=label, path=(*self.path, label))
            return
        level = _item_level(text)
        ends_answer = in_qa and level == 1 and _is_heading_like(text)
        if (in_article or in_qa) and not ends_answer:
            # Items and paragraphs inside an article or an answer belong to it.
            self.append(text)
            return
        if level in (1, 2) and _is_heading_like(text):
            self.push_heading(_RANK_ITEM[level], text)
            return
        if level or current is None or current.kind != "text":
            # A numbered item starts a unit of its own; plain paragraphs run on in the current one.
            self.start("text", text)
        else:
            self.append(text)

    def heading(self, block: Block) -> None:
        if _QUESTION.match(block.text):
            self.start("qa", block.text)
            return
        self.push_heading(block.level, block.text)

    def table(self, block: Block) -> None:
        caption: list[str] = []
        current = self.current
        # A short line right before a table is its caption ("表1 …"); keep them together.
        if current is not None and current.kind == "text" and len(current.lines[-1]) <= _HEADING_MAX:
            caption = [current.lines.pop()]
        rows = render_table(block.rows, block.header)
        if current is not None and current.kind in ("article", "qa"):
            current.lines.extend(caption + rows)
            return
        self.close()
        if rows:
            self._emit(_Unit("table", self.path, caption + rows, caption=caption[0] if caption else ""))


def build_units(blocks: list[Block]) -> list[_Unit]:
    builder = _UnitBuilder()
    top_headings = [b for b in blocks if b.kind == "heading" and b.level == 1]
    if blocks and len(top_headings) == 1 and blocks[0] is top_headings[0]:
        # A lone top heading that opens the document is its title, not a section of every chunk.
        blocks = blocks[1:]
    for block in blocks:
        if block.kind == "heading":
            builder.heading(block)
        elif block.kind == "table":
            builder.table(block)
        elif block.text.strip():
            builder.paragraph(block.text.strip())
    return builder.finish()


def _split_long(unit: _Unit, max_chars: int) -> list[list[str]]:
    """Pieces (lists of lines) of at most `max_chars`, cut between lines, then between sentences."""
    pieces: list[list[str]] = []
    size = 0
    atoms: list[str] = []
    for line in unit.lines:
        if len(line) <= max_chars:
            atoms.append(line)
            continue
        for sentence in split_sentences(line):
            # A sentence longer than the limit is cut at the limit: rare, and better than an unbounded chunk.
            atoms.extend(sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars))
    header = unit.caption
    for atom in atoms:
        if pieces and size + len(atom) + 1 <= max_chars:
            pieces[-1].append(atom)
            size += len(atom) + 1
        else:
            start = [header] if header and atom != header and pieces else []
            pieces.append([*start, atom])
            size = sum(len(a) + 1 for a in pieces[-1])
    return pieces


def _label_range(labels: list[str]) -> str:
    labels = [label for label in labels if label]
    if not labels:
        return ""
    return labels[0] if len(labels) == 1 else f"{labels[0]}至{labels[-1]}"


@dataclass
class _Draft:
    path: tuple[str, ...]
    lines: list[str]
    labels: list[str]
    alone: bool

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def _pack(units: list[_Unit], max_chars: int, min_chars: int) -> list[_Draft]:
    drafts: list[_Draft] = []
    for unit in units:
        base = unit.path[:-1] if unit.kind == "article" else unit.path
        pieces = [unit.lines] if len(unit.text) <= max_chars else _split_long(unit, max_chars)
        for piece in pieces:
            draft = _Draft(base, list(piece), [unit.label], alone=unit.kind == "qa")
            last = drafts[-1] if drafts else None
            fits = last is not None and last.size + draft.size <= max_chars
            if (
                last is not None
                and fits
                and not last.alone
                and not draft.alone
                and last.path == draft.path
                and len(pieces) == 1
                # Whole articles stand alone (precise citations) unless both are too short to be useful alone.
                and ((not draft.labels[0] and not last.labels[0]) or max(last.size, draft.size) < min_chars)
            ):
                last.lines.extend(draft.lines)
                last.labels.extend(draft.labels)
            else:
                drafts.append(draft)
    return drafts


# A passage this short ("日期：2022-05-27", "青政发〔2024〕15号", "第五条", a stray "。") says nothing alone;
# indexed by itself its vector lies near every question's and it takes a dense candidate's place.
_FRAGMENT_CHARS = 24
_CONTINUATION = re.compile(r"^[。，、；：！？）)」』”’]")


def _is_fragment(draft: _Draft) -> bool:
    # A Q&A pair, however short, and an article with a body (第二十条 本办法自公布之日起施行。) are precise
    # citations on their own.
    body = sum(len(line) for line in draft.lines) - sum(len(label) for label in draft.labels)
    return draft.size < _FRAGMENT_CHARS and not draft.alone and (not any(draft.labels) or body <= 2)


def _absorb_fragments(drafts: list[_Draft], max_chars: int) -> list[_Draft]:
    """Fragments join the passage they open (a date line, a document number, a lone heading) or, when they
    continue a sentence or close the document, the one before; never across a top-level section. A chunk
    may run over `max_chars` by a fragment's length."""
    limit = max_chars + _FRAGMENT_CHARS

    def join(first: _Draft, second: _Draft, into: _Draft) -> _Draft | None:
        # The two share a top-level section, or (forward) the fragment's section holds the next passage's:
        # a preface with no section opens the whole document.
        opens = into is second and second.path[: len(first.path)] == first.path
        if not (opens or first.path[:1] == second.path[:1]) or first.size + second.size > limit:
            return None
        return _Draft(into.path, first.lines + second.lines, first.labels + second.labels, into.alone)

    out: list[_Draft] = []
    pending: _Draft | None = None
    for draft in drafts:
        if pending is not None:
            forward = join(pending, draft, into=draft)
            backward = None if forward or not out else join(out[-1], pending, into=out[-1])
            if forward:
                draft = forward
            elif backward:
                out[-1] = backward
            else:
                out.append(pending)
            pending = None
        if not _is_fragment(draft):
            out.append(draft)
            continue
        backward = join(out[-1], draft, into=out[-1]) if out and _CONTINUATION.match(draft.lines[0]) else None
        if backward:
            out[-1] = backward
        else:
            pending = draft
    if pending is not None:
        backward = join(out[-1], pending, into=out[-1]) if out else None
        if backward:
            out[-1] = backward
        else:
            out.append(pending)
    return out


def _section(draft: _Draft) -> str:
    labels = _label_range(draft.labels)
    return " > ".join([*draft.path, labels] if labels else draft.path)


def chunk_document(
    parsed: ParsedDocument, meta: DocumentMeta, max_chars: int = 420, min_chars: int = 80
) -> list[Chunk]:
    units = build_units(parsed.blocks)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for draft in _absorb_fragments(_pack(units, max_chars, min_chars), max_chars):
        text = "\n".join(draft.lines).strip()
        if not text:
            continue
        section = _section(draft)
        content_hash = hashlib.sha256(text.encode()).hexdigest()
        identity = "\x1f".join(
            (meta.source, meta.title, section, meta.kind, meta.region, meta.valid_from, meta.valid_to, text)
        )
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        # The same passage twice in one document (a repeated notice line) still needs two ids.
        seen[digest] = seen.get(digest, -1) + 1
        chunk_id = digest if seen[digest] == 0 else f"{digest}-{seen[digest]}"
        chunks.append(
            Chunk(
                id=chunk_id,
                source=meta.source,
                ordinal=len(chunks),
                text=text,
                title=meta.title,
                section=section,
                kind=meta.kind,
                region=meta.region,
                valid_from=meta.valid_from,
                valid_to=meta.valid_to,
                content_hash=content_hash,
            )
        )
    return chunks
