"""Sentences of Chinese text: split after 。！？； (and their ASCII forms), keeping a closing quote or
bracket with the sentence it ends."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)])|(?<=[。！？；!?;][”’」』）)])")


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]
