"""Evidence built by hand, for composer and check tests that need no index."""

from __future__ import annotations

from assistant.composing import Evidence
from knowledge.chunking import Chunk
from knowledge.hybrid import SearchHit


def evidence(
    *texts: str, title: str = "青溪县城乡居民医保政策问答", section: str = "一、参保缴费"
) -> list[Evidence]:
    items = []
    for n, text in enumerate(texts, start=1):
        chunk = Chunk(
            id=f"c{n}",
            source=f"policy/doc{n}.md",
            ordinal=0,
            text=text,
            title=title,
            section=section,
            kind="policy",
        )
        items.append(Evidence(n, SearchHit(chunk, score=1.0 / n, dense_score=0.9, lexical_score=5.0)))
    return items
