"""Evidence built by hand, for composer and check tests that need no index."""

from __future__ import annotations

from assistant.composing import Evidence
from knowledge.chunking import Chunk
from knowledge.hybrid import SearchHit


def passage(
    n: int,
    text: str,
    title: str = "青溪县城乡居民医保政策问答",
    section: str = "一、参保缴费",
    valid_from: str = "",
) -> Evidence:
    """The `n`th retrieved passage (scored 1/n), from a document of its own."""
    chunk = Chunk(
        id=f"c{n}",
        source=f"policy/doc{n}.md",
        ordinal=0,
        text=text,
        title=title,
        section=section,
        kind="policy",
        valid_from=valid_from,
    )
    return Evidence(n, SearchHit(chunk, score=1.0 / n, dense_score=0.9, lexical_score=5.0))


def evidence(
    *texts: str, title: str = "青溪县城乡居民医保政策问答", section: str = "一、参保缴费"
) -> list[Evidence]:
    return [passage(n, text, title, section) for n, text in enumerate(texts, start=1)]
