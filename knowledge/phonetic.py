"""Pinyin keys, so a misheard character (低宝 for 低保, 新萌和 for 新农合) still finds its passage.

Syllables are folded the way Mandarin is commonly misheard and spoken in the countryside: front and back
nasals alike (xin ~ xi ~ xing), flat and retroflex alike (zh ~ z), n ~ l, tones ignored.
"""

from __future__ import annotations

import itertools
import re

from pypinyin import lazy_pinyin

PINYIN_VERSION = "pairs-1"
"""Changes whenever the keys would change, so an ingest re-indexes documents keyed the old way."""

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_RETROFLEX = re.compile(r"^([zcs])h")
_NASAL = re.compile(r"(?<=[aeiouv])(ng|n)$")


def fold(syllable: str) -> str:
    folded = _NASAL.sub("", _RETROFLEX.sub(r"\1", syllable))
    return "l" + folded[1:] if folded.startswith("n") else folded


def folded_syllables(chinese: str) -> list[str]:
    """The folded syllable of each character of a run of Chinese characters."""
    return [fold(p) for p in lazy_pinyin(chinese)]


def pinyin_tokens(text: str) -> list[str]:
    """Syllable pairs within each run of Chinese characters: enough context to tell words apart, and
    one misheard syllable still leaves the neighbouring pairs matching."""
    tokens: list[str] = []
    for run in _CJK_RUN.findall(text):
        tokens.extend(a + b for a, b in itertools.pairwise(folded_syllables(run)))
    return tokens
