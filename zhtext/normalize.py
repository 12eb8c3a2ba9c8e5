"""Character normalisation shared by indexing, querying and transcripts, so all see the same characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def fold_width(text: str) -> str:
    """Full-width letters, digits and ASCII punctuation -> half-width (ＡＢＣ１２３ -> ABC123)."""
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=8192)
def normalize_query(text: str) -> str:
    """What a question looks like before retrieval: simplified, half-width, single-spaced. Kept: the
    answer checks normalise the same retrieved sentences for every question."""
    return _SPACES.sub(" ", to_simplified(fold_width(text))).strip()
