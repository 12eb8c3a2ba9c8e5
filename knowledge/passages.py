"""Retrieve small, read big: a matched chunk is widened with its neighbours into one passage.

Chunks stay small for matching (an article, a Q&A pair, a few sentences: BM25 and the embedder both rank
them better than whole sections, see the README's retrieval section), but the fact a question needs
often sits next to the sentence that matched: the year in a notice's date line, the article after the
one that names the topic, the table row under the heading. So each hit is widened with the chunks
before and after it in the same document, up to a character budget, into one passage of consecutive
chunks: still an exact piece of the document to cite. A chunk already inside an earlier, better ranked
passage is not returned again, nor is a passage that nearly repeats one (a page published twice), so
the k passages cover k different places.

`KnowledgeBase.search` returns them (the `read_big` setting, on by default), and the assistant reads
and cites them; its refusal checks still judge the matched chunks alone, which on the demo golden set
keeps refusal precision and recall where they were with chunks (.80 / .80).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from knowledge.chunking import Chunk
from knowledge.holders import HOLDER_BONUS, names_holder

PASSAGE_CHARS = 750
"""Default budget of a passage: the 750 characters of the Langchain-Chatchat splitter we compare with
(benchmarks/retrieval.py). 600 and 750 tied on domainrag; 750 won on the demo set (tuning halves)."""

DUPLICATE_SHARE = 0.8
"""Share of shared 4-character pieces that makes two passages one. On domainrag (a web crawl full of
re-published pages) dropping near-duplicates raised hit@5 from .86 to .90 on the tuning half; .8 and .9
tied there, .6 was worse; the demo set has no such duplicates and did not move."""

YEAR_BONUS = 0.3
"""Added (as a share of the best fused score) to a place whose passage or title holds a year the
question names. Tuned on domainrag's tuning half (0, .05, .1, .2, .3 tried; .2 and .3 best, MRR@10 .717
-> .736); no effect on the demo sets, whose villagers rarely name a year."""

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")

_RADIUS = 8
"""Most neighbours looked at on each side: eight chunks of 90 characters or more fill the budget; a run of
tinier ones (one-line headings) ends the passage a little short, which costs one indexed read less."""

Neighbours = Callable[[Chunk, int], Sequence[Chunk]]
"""(chunk, radius) -> the chunks of its document around it, in order, itself included."""


def widen(core: Chunk, neighbours: Sequence[Chunk], budget: int, taken: set[str]) -> list[Chunk]:
    """The run of consecutive chunks around `core`, next and previous in turn, within `budget`
    characters; chunks in `taken` (already returned in a better passage) stop the run on that side."""
    at = next(i for i, c in enumerate(neighbours) if c.id == core.id)
    low = high = at
    size = len(core.text)
    growing = True
    while growing:
        growing = False
        # The next chunk first: a heading or a question is followed by what answers it more often
        # than it is preceded by it.
        for step in (1, -1):
            i = (high if step == 1 else low) + step
            if 0 <= i < len(neighbours) and neighbours[i].id not in taken:
                extra = len(neighbours[i].text) + 1
                if size + extra <= budget:
                    size += extra
                    low, high = min(low, i), max(high, i)
                    growing = True
    return list(neighbours[low : high + 1])


def merge(core: Chunk, members: Sequence[Chunk]) -> Chunk:
    """One passage of consecutive chunks. It keeps the matched chunk's id, title and section (where the
    match is); its text is the members' texts in document order, and where they stand under different
    sections each member's own heading is kept (`Chunk.headings`): a camera Q&A read around a broadcast
    one is not about the broadcast."""
    if len(members) == 1:
        return core
    text = "\n".join(member.text for member in members)
    starts = [0]
    for member in members[:-1]:
        starts.append(starts[-1] + len(member.text) + 1)
    headings = tuple((start, f"{m.title} {m.section}") for start, m in zip(starts, members, strict=True))
    one_heading = len({heading for _, heading in headings}) == 1
    return replace(
        core,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        headings=() if one_heading else headings,
    )


def _shingles(text: str, n: int = 4) -> frozenset[str]:
    return frozenset(text[i : i + n] for i in range(max(1, len(text) - n + 1)))


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """Most of the smaller text's 4-character pieces are in the other: the same notice published twice,
    or one page's text inside another's."""
    return len(a & b) >= DUPLICATE_SHARE * min(len(a), len(b))


def read_big(
    ranked: Sequence[Chunk], k: int, budget: int, neighbours: Neighbours
) -> list[tuple[Chunk, Chunk, tuple[str, ...]]]:
    """(passage, matched chunk, member ids) for the best `k` places, from chunks ranked best first. A
    passage that nearly repeats a better one is left out: it tells the reader nothing new and would push
    a different place out of the k."""
    taken: set[str] = set()
    seen: list[frozenset[str]] = []
    out: list[tuple[Chunk, Chunk, tuple[str, ...]]] = []
    for core in ranked:
        if core.id in taken:
            continue
        members = widen(core, neighbours(core, _RADIUS), budget, taken) if budget > 0 else [core]
        taken.update(member.id for member in members)
        passage = merge(core, members)
        pieces = _shingles(passage.text)
        if any(near_duplicate(pieces, other) for other in seen):
            continue
        seen.append(pieces)
        out.append((passage, core, tuple(member.id for member in members)))
        if len(out) == k:
            break
    return out


def years_in(text: str) -> set[str]:
    """Four-digit years (1900-2099) a question names: 2018年, 2018级, 2018-2019."""
    return set(_YEAR.findall(text))


def asked_first(
    ranked: Sequence[tuple[Chunk, float]],
    years: set[str],
    role: str | None,
    budget: int,
    neighbours: Neighbours,
) -> list[Chunk]:
    """The chunks re-ranked so that those whose passage would name one of the question's years, or
    the holder of the role it asks about (`knowledge.holders`), come first among equals: a question
    about 2016 is about the 2016 notice, not the 2013 one that matches its other words as well. The
    year is often only in the page's title or date line, so the passage around the chunk is looked at,
    not the chunk alone."""
    if not (years or role) or not ranked:
        return [chunk for chunk, _ in ranked]
    top = max(score for _, score in ranked)
    rescored = []
    for chunk, score in ranked:
        around = widen(chunk, neighbours(chunk, _RADIUS), budget, set()) if budget > 0 else [chunk]
        text = "".join(c.text for c in around)
        if years and any(y in f"{chunk.title}{text}" for y in years):
            score += YEAR_BONUS * top
        if role and names_holder(role, text):
            score += HOLDER_BONUS * top
        rescored.append((score, chunk))
    rescored.sort(key=lambda item: item[0], reverse=True)
    return [chunk for _, chunk in rescored]
