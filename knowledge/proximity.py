"""Which passages have the question's words side by side.

BM25 scores each word of a question on its own, so a passage that lists 文学院、历史学院 and 院长 of
every school outranks the one line that says 经济学院党委书记、院长 (jieba cuts 经济学院 into 经济 / 学院).
Among the passages the dense and lexical searches found, this ranks those holding pairs of the
question's neighbouring words next to each other, each pair worth the mean BM25 idf of its two words; the
fusion gives the list a small weight (knowledge.hybrid), the ordered-pair feature of sequential dependence
models. Candidates only: no index of word pairs to keep, the same in every catalog engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise


def idf(chunks: int, containing: int) -> float:
    """FTS5's BM25 idf, floored the same way (knowledge.catalog)."""
    return max(math.log((chunks - containing + 0.5) / (containing + 0.5)), 1e-6)


def phrase_ranking(
    pairs: Sequence[tuple[str, str]],
    tokens: Mapping[str, Sequence[str]],
    containing: Mapping[str, int],
    chunks: int,
) -> list[tuple[str, float]]:
    """(chunk id, score) for the chunks of `tokens` (id -> its lexical tokens in order) holding at least
    one of `pairs` side by side, best first; `containing` is each word's chunk count, `chunks` the
    index's size."""
    weight = {
        pair: (idf(chunks, containing.get(pair[0], 0)) + idf(chunks, containing.get(pair[1], 0))) / 2
        for pair in pairs
    }
    ranked = []
    for chunk_id, words in tokens.items():
        adjacent = set(pairwise(words))
        score = sum(value for pair, value in weight.items() if pair in adjacent)
        if score > 0:
            ranked.append((chunk_id, score))
    return sorted(ranked, key=lambda item: item[1], reverse=True)
