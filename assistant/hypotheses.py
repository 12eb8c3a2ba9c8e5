"""Retrieval with every hypothesis of speech recognition (issue 16).

Whisper base loses about one character in five, and its five beam hypotheses get different words right
(宅基地 in one, 审批 in another). Instead of choosing one string and searching with it, every distinct
hypothesis is understood as the assistant understands a spoken question (homophone and sound-alike
repair, the follow-up rewrite, the documents' terms) and searched (dense, BM25 and pinyin), and the
ranked lists are fused, each weighted by the hypothesis' Whisper score plus how much of it is in the
knowledge base's words (a softmax over hypotheses). The reading that best supports the winning passage
becomes the question the composer answers; the other readings are kept for asking back
(`assistant.confirm`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.understanding import Understood
from knowledge.hybrid import SearchHit
from knowledge.lexical import word_tokenizer
from knowledge.phonetic import folded_syllables

Search = Callable[[str], list[SearchHit]]
"""A query in the documents' terms -> its ranked hits (the knowledge base's spoken hybrid search)."""


@dataclass(frozen=True)
class Alternative:
    """One hypothesis of speech recognition, as the rest of the product reads it."""

    text: str
    """The transcript (simplified, corrected, no runaway repetition)."""
    score: float
    """Whisper's log probability per token."""
    slip: bool = False
    """Not heard as such: a hypothesis with a clipped first sound put back (`Understanding.slips`)."""


@dataclass(frozen=True)
class Reading:
    """One way the spoken question can be understood, with its share of belief and what it finds."""

    cleaned: str
    standalone: str
    query: str
    weight: float
    """Softmax share of the hypotheses that read this way (0-1; all readings sum to 1)."""
    hits: tuple[SearchHit, ...]
    support: float = 0.0
    """weight x its own score of the fused best passage: how much it speaks for the chosen answer."""
    slip: bool = False
    """Read only from hypotheses with a clipped first sound put back."""

    @property
    def top(self) -> str | None:
        return self.hits[0].chunk.id if self.hits else None


@dataclass(frozen=True)
class Fused:
    hits: list[SearchHit]
    """The fused ranking, best first."""
    readings: list[Reading]
    """Distinct readings, the one that best supports the fused best passage first."""


def weights(
    alternatives: Sequence[Alternative], prefer: Callable[[str], float], vocabulary: float, temperature: float
) -> list[float]:
    """Softmax over `score + vocabulary * prefer(text)`, divided by `temperature`."""
    if not alternatives:
        return []
    values = [(a.score + vocabulary * prefer(a.text)) / max(temperature, 1e-6) for a in alternatives]
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def fuse_readings(
    alternatives: Sequence[Alternative],
    understand: Callable[[str], Understood],
    search: Search,
    prefer: Callable[[str], float],
    vocabulary: float = 1.0,
    temperature: float = 0.1,
    min_weight: float = 0.02,
    phrase: bool = True,
) -> Fused:
    """Search with every hypothesis of weight `min_weight` or more (hypotheses that read the same are
    searched once, their weights added) and fuse the lists: a passage's score is the weighted sum of
    its fused hybrid score in each reading's list (0 where a list lacks it). `phrase`: each reading
    is then phrased with the words of the passages it found (`phrase_with`)."""
    shares = weights(alternatives, prefer, vocabulary, temperature)
    by_query: dict[str, tuple[Understood, float, bool]] = {}
    for alternative, share in zip(alternatives, shares, strict=True):
        if share < min_weight:
            continue
        understood = understand(alternative.text)
        if not understood.query.strip():
            continue
        seen, total, slip = by_query.get(understood.query, (understood, 0.0, True))
        by_query[understood.query] = (seen, total + share, slip and alternative.slip)
    if not by_query:
        return Fused([], [])
    kept = sum(share for _, share, _ in by_query.values())
    readings = [
        Reading(u.cleaned, u.standalone, u.query, share / kept, tuple(search(u.query)), slip=slip)
        for u, share, slip in by_query.values()
    ]
    scores: dict[str, float] = {}
    best_hit: dict[str, tuple[float, SearchHit]] = {}
    for reading in readings:
        for hit in reading.hits:
            cid = hit.chunk.id
            scores[cid] = scores.get(cid, 0.0) + reading.weight * hit.score
            if cid not in best_hit or reading.weight * hit.score > best_hit[cid][0]:
                best_hit[cid] = (reading.weight * hit.score, hit)
    ranked = sorted(scores, key=lambda cid: scores[cid], reverse=True)
    hits = [_rescored(best_hit[cid][1], scores[cid]) for cid in ranked]
    top = ranked[0] if ranked else None

    def support(reading: Reading) -> float:
        own = {hit.chunk.id: hit.score for hit in reading.hits}
        return reading.weight * own.get(top, 0.0) if top else 0.0

    supported = [replace(r, support=support(r)) for r in readings]
    supported.sort(key=lambda r: (r.support, r.weight), reverse=True)
    if phrase:
        supported = _phrased(supported)
    return Fused(hits, supported)


def _phrased(readings: Sequence[Reading]) -> list[Reading]:
    """Each reading phrased with the passages it found first (`phrase_with`); readings that now say
    the same are one, with their weights and support added, in the order of the first."""
    merged: dict[str, Reading] = {}
    for r in readings:
        texts = [f"{hit.chunk.title}\n{hit.text}" for hit in r.hits[:3]]
        standalone = phrase_with(r.standalone, texts)
        if standalone in merged:
            m = merged[standalone]
            merged[standalone] = replace(
                m, weight=m.weight + r.weight, support=m.support + r.support, slip=m.slip and r.slip
            )
        else:
            merged[standalone] = replace(r, standalone=standalone)
    return list(merged.values())


_CJK = re.compile(r"[\u4e00-\u9fff]+")
_LONGEST = 4


def _sounds(texts: Sequence[str]) -> dict[tuple[str, ...], str]:
    """Every word of 2-4 Chinese characters of `texts` (jieba, the project's dictionary), keyed by its
    folded syllables (the most frequent word where two sound alike): whole words only, since stretches
    across words (年以 of 2025年以来) sound like too much."""
    counts: Counter[str] = Counter()
    tokenizer = word_tokenizer()
    for text in texts:
        counts.update(w for w in tokenizer.cut(text) if 2 <= len(w) <= _LONGEST and _CJK.fullmatch(w))
    sounds: dict[tuple[str, ...], str] = {}
    for stretch, _ in counts.most_common():
        sounds.setdefault(tuple(folded_syllables(stretch)), stretch)
    return sounds


def phrase_with(text: str, passages: Sequence[str]) -> str:
    """`text` with every stretch of 2-4 characters the passages do not hold replaced by a stretch of
    theirs that sounds the same (toneless, folded pinyin): a hypothesis as the documents it found would
    phrase it (重地的补贴金年一幕给多少钱 -> 种地的补贴今年一亩给多少钱). Only what was heard can change, and
    only into the passages' own words."""
    joined = "\n".join(passages)
    sounds = _sounds(passages)
    out: list[str] = []
    i = 0
    while i < len(text):
        for size in range(_LONGEST, 1, -1):
            stretch = text[i : i + size]
            if len(stretch) < size or not _CJK.fullmatch(stretch) or stretch in joined:
                continue
            meant = sounds.get(tuple(folded_syllables(stretch)))
            if meant is not None:
                out.append(meant)
                i += size
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _rescored(hit: SearchHit, score: float) -> SearchHit:
    return replace(hit, score=score)
