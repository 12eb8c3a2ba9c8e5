"""Lexical tokens for Chinese BM25: jieba search-mode words over normalised text, minus stopwords."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources

import jieba

from knowledge.normalize import fold_width, to_simplified

_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    text = resources.files("knowledge").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    with resources.as_file(resources.files("knowledge").joinpath("data/userdict.txt")) as path:
        tokenizer.load_userdict(str(path))
    return tokenizer


def lexical_tokens(text: str) -> list[str]:
    """Tokens for indexing and querying. Search mode also yields the parts of long words
    (城乡居民医保 -> 城乡, 居民, 医保, 城乡居民), so partial matches still score."""
    normalised = to_simplified(fold_width(text)).lower()
    stop = _stopwords()
    words = (word.strip() for word in _tokenizer().cut_for_search(normalised))
    return [word for word in words if word and word not in stop and _WORDLIKE.search(word)]
