"""The question's subject, as the best passage names it, and the passages about it.

A question about 2022's 医保 contribution finds the 医保 notice first; when that notice has no 2022
figure, the answer must not come from the next passage that happens to hold a 2022 figure (a crime
report). The subject is the most specific of the question's topic words (the one fewest chunks of the
knowledge base use) that the best passage's heading names: its title and section, or its text when
its document has no title of its own. Passages that do not name it (as the question says it or as the
synonym table words it) answer another question and are not offered as evidence. Taking the subject
from the best passage keeps a villager's own word (娃娃) from becoming the subject when the documents
say it otherwise (子女): the best passage decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import PurePath

from assistant.followup import topic_terms
from assistant.normalize import synonym_names
from knowledge.hybrid import SearchHit

COMMON_SHARE = 0.2
"""A topic word in more than this share of the chunks (村, 农户) names no subject."""


@lru_cache(maxsize=1024)
def _said_as(term: str) -> frozenset[str]:
    """The term and the words the synonym table pairs it with, as the passages are compared (lower case)."""
    return frozenset(n.lower() for n in synonym_names(term) if len(n) >= 2)


def _heading(hit: SearchHit) -> str:
    """What the passage says it is about: its title and section; for a document without a title of its
    own (named after its file, as a bare news page is) its text."""
    chunk = hit.matched or hit.chunk
    if not chunk.title or chunk.title == PurePath(chunk.source).stem:
        return _text(hit)
    return f"{chunk.title} {chunk.section}".lower()


def _text(hit: SearchHit) -> str:
    chunk = hit.matched or hit.chunk
    return f"{chunk.title} {chunk.section} {hit.chunk.text}".lower()


def subject(
    question: str,
    hits: Sequence[SearchHit],
    chunk_counts: Callable[[Iterable[str]], dict[str, int]],
    chunks: int,
) -> str | None:
    """The question's most specific topic word that the best passage's heading names, or None."""
    if not hits or chunks <= 0:
        return None
    # What the best passage is about is in its title and section; a word met in its text may be an
    # aside (种地农民 in the 种粮补贴 notice's eligibility clause, not its subject).
    best = _heading(hits[0])
    # A number (300 of 票房达到300亿) is a constraint the answerability check reads, not a subject.
    terms = [t for t in topic_terms(question) if not any(ch.isdigit() for ch in t)]
    named = [t for t in terms if any(n in best for n in _said_as(t))]
    if not named:
        return None
    counts = chunk_counts([t.lower() for t in named])
    usable = [(counts.get(t.lower(), 0), -len(t), t) for t in named if counts.get(t.lower(), 0) > 0]
    usable = [u for u in usable if u[0] <= COMMON_SHARE * chunks]
    return min(usable)[2] if usable else None


def about(term: str, hits: Sequence[SearchHit]) -> list[SearchHit]:
    """The hits that name `term` (the first always does)."""
    names = _said_as(term)
    return [hit for hit in hits if any(n in _text(hit) for n in names)]
