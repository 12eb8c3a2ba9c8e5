"""Names the documents define for themselves, mined from the knowledge base, to search by either name.

A policy names a thing once in full and then by its short name: 城乡居民基本医疗保险（以下简称居民医保）,
高血压、糖尿病（以下简称"两病"）, 新型农村合作医疗（俗称新农合）. Later articles say only 居民医保 or 两病,
while a villager says 高血压; a question with one name finds the passages that use the other when the
search also has it. The pairs are read from the chunks that hold 简称, 俗称, 又称, 下称 or 也称 and kept
until the catalog changes.

A definition is kept only when the full name can be told exactly, which leaves out more than it takes
(简称"国防生" after 定向培养后备警官 names no words of its own): the short name's characters appear in
order in the words before it, starting at the word that holds its first one (县社会保险事业管理中心 ->
县社保中心), or it counts a list (两病: the last two items of 高血压、糖尿病).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from knowledge.catalog import Catalog
from knowledge.lexical import word_tokenizer

MARKERS = ("简称", "俗称", "又称", "下称", "也称")
"""The lexical tokens of the chunks a definition can be in."""

_DEFINITION = re.compile(
    r"(?P<before>[^，。；：！？!?,;:\s（）()]{2,40})[（(](?:以下简称|以下称|下称|简称|俗称|又称|也称)[:：]?"
    r"[“\"「『]?(?P<name>[^）)“”\"」』，。、；\s]{2,10})[”\"」』]?[）)]"
)
_QUOTES = re.compile(r"[“”\"「」『』《》]")
_COUNT = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_ITEM_BREAK = re.compile(r"[、和与及]")
_LONGEST_NAME = 24
_LEADING_PARTICLES = "由在对向经为将把被与和及的"
"""Words jieba joins to a name's first character (由县 of 由县社会保险事业管理中心)."""
_COMMON_CHUNKS, _COMMON_SHARE = 10, 0.03
"""A defined name's item in more chunks than both (农村 of 三农) is an everyday word: it brings nothing."""
_MOST_CHUNKS = 2_000
"""Chunks read for definitions; a knowledge base defines far fewer names than this."""


@dataclass(frozen=True)
class Alias:
    """One way the documents name a thing (`said`) and what else they call it (`also`)."""

    said: str
    also: tuple[str, ...]


def _full_name(before: str, name: str) -> str | None:
    """The fewest last words of `before` that `name` abbreviates: they start with the word holding the
    name's first character and hold every character of the name in order. A name that is one of their
    words (《报告》 of 《世界互联网发展报告2021》) abbreviates nothing."""
    words = list(word_tokenizer().cut(before))
    for start in range(len(words) - 1, -1, -1):
        full = "".join(words[start:])
        if len(full) > _LONGEST_NAME:
            return None
        if name[0] not in words[start]:
            continue
        rest = iter(full[full.index(name[0]) :])
        if all(ch in rest for ch in name):
            full = full.lstrip(_LEADING_PARTICLES)
            return None if full == name or name in word_tokenizer().cut(full) else full
    return None


def _counted_items(before: str, name: str) -> list[str] | None:
    """高血压、糖尿病 for 两病: the list's last N items, N the number the short name opens with."""
    count = _COUNT.get(name[0])
    if count is None:
        return None
    items = [item for item in _ITEM_BREAK.split(before) if item]
    if len(items) < count:
        return None
    last = items[-count:]
    # The first counted item runs on from the text before the list; keep its last word only.
    last[0] = list(word_tokenizer().cut(last[0]))[-1]
    if name in last or any(len(item) < 2 or len(item) > 12 for item in last):
        return None
    return last


def definitions(text: str) -> list[Alias]:
    """The names `text` defines, each way round: the short name brings the full one (or the counted
    items), and the full name (or each item) brings the short one."""
    found: list[Alias] = []
    for match in _DEFINITION.finditer(text):
        before, name = _QUOTES.sub("", match.group("before")), _QUOTES.sub("", match.group("name"))
        if len(name) < 2:
            continue
        items = _counted_items(before, name)
        if items:
            found.append(Alias(name, tuple(items)))
            found.extend(Alias(item, (name,)) for item in items)
            continue
        full = _full_name(before, name)
        if full:
            found.extend((Alias(name, (full,)), Alias(full, (name,))))
    return found


class DocumentAliases:
    """The knowledge base's defined names, mined again whenever the catalog changes."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._generation = -1
        self._aliases: dict[str, tuple[str, ...]] = {}

    def table(self) -> dict[str, tuple[str, ...]]:
        """Each name a document defines -> the other names of the same thing."""
        with self._lock:
            generation = self._catalog.generation()
            if generation != self._generation:
                ids = [chunk_id for chunk_id, _ in self._catalog.lexical_search(MARKERS, _MOST_CHUNKS)]
                aliases: dict[str, tuple[str, ...]] = {}
                for chunk in sorted(self._catalog.chunks(ids).values(), key=lambda c: (c.source, c.ordinal)):
                    for alias in definitions(chunk.text):
                        known = aliases.get(alias.said, ())
                        aliases[alias.said] = known + tuple(a for a in alias.also if a not in known)
                # 农业、农村、农民（以下简称"三农"）: a question saying 农村 is not asking about 三农.
                counts = self._catalog.token_counts(aliases)
                common = max(_COMMON_CHUNKS, _COMMON_SHARE * self._catalog.chunk_count())
                aliases = {said: also for said, also in aliases.items() if counts.get(said, 0) <= common}
                self._aliases, self._generation = aliases, generation
            return self._aliases

    def expand(self, query: str) -> str:
        """`query` with the other names of every defined name it holds appended (the thesaurus's way:
        after a space, each its own clause), unless the query holds them already. A two-character name
        (中网, 三农) counts within one of jieba's words or on their bounds, not across two (集中网点: 集中 /
        网点)."""
        spans: list[tuple[int, int]] | None = None
        added: list[str] = []
        for said, also in self.table().items():
            if said not in query:
                continue
            if len(said) <= 2:
                spans = _word_spans(query) if spans is None else spans
                if not any(_whole(at, at + len(said), spans) for at in _places(query, said)):
                    continue
            added.extend(a for a in also if a not in query and a not in added)
        return " ".join([query, *added]) if added else query


def _word_spans(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for word in word_tokenizer().cut(text):
        spans.append((at, at + len(word)))
        at += len(word)
    return spans


def _whole(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether text[start:end] lies within one word, or starts and ends on words' bounds."""
    starts = {a for a, _ in spans}
    ends = {b for _, b in spans}
    return (start in starts and end in ends) or any(a <= start and end <= b for a, b in spans)


def _places(text: str, part: str) -> list[int]:
    return [at for at in range(len(text)) if text.startswith(part, at)]
