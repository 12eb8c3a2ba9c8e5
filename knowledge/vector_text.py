"""What a chunk's vector embeds: where the passage sits (title, section) and its opening, within a token cap.

The e5 engine's cost follows the tokens it reads (0.20 CPU s for a whole domainrag chunk of 146 tokens,
0.033 s at 32 tokens), so embedding less text per vector is the one lever on its speed. The whole passage
still answers lexically (BM25 reads every word); the dense side loses what the cut leaves out. Measured on
domainrag and the lay-question sets (benchmarks/ingest_speed.py, `--only text`), every cap from 32 to 128
tokens lost more than a point of MRR@10 or of the lay questions' hit@5, so the default embeds the whole
chunk and a cap is a setting for deployments that need speed more.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.embeddings import Embeddings

from knowledge.chunking import Chunk

_SENTENCE_END = re.compile(r"[。！？；!?;\n]")
_KEEP_SHARE = 0.6
"""A cut backs off to the last sentence end only when that keeps this share of the allowed text: a
half-sentence of content is worth more to the vector than a tidy ending."""

TokenCounter = Callable[[str], int]


def token_counter(embeddings: Embeddings) -> TokenCounter:
    """The embedder's own token count when it has one, else characters (never fewer than the tokens
    of a Chinese text, so a cap in characters is only stricter)."""
    count = getattr(embeddings, "count_tokens", None)
    return count if callable(count) else len


def recipe(max_tokens: int | None) -> str:
    """A name for what the vectors embed, part of the vector collection's name: vectors embedded
    another way live in another collection, so changing the cap embeds the knowledge base again."""
    return "" if not max_tokens else f"lead{max_tokens}"


def vector_text(chunk: Chunk, max_tokens: int | None, count: TokenCounter = len) -> str:
    """The text embedded for `chunk`: its title, section and passage (`Chunk.embedding_text`), cut to
    at most `max_tokens` tokens as `count` measures them, at a sentence end where one is near."""
    text = chunk.embedding_text()
    if not max_tokens or count(text) <= max_tokens:
        return text
    # The longest prefix within the cap, by bisection on characters (token counts grow with length).
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    passage_start = len(text) - len(chunk.text)  # the line break after the title is no sentence end
    ends = [m.end() for m in _SENTENCE_END.finditer(cut, passage_start)]
    if ends and ends[-1] >= _KEEP_SHARE * len(cut):
        cut = cut[: ends[-1]]
    return cut.rstrip()
