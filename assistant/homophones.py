"""Homophone repair for spoken questions: Whisper hears 新萌和 for 新农合, 低宝 for 低保.

A stretch of the transcript that the knowledge base never mentions is replaced by a domain term of the
same length whose pinyin differs in at most one syllable (and never in the first), so a mis-heard
policy word still finds its documents. A stretch holding a word the documents use is left alone unless
the term keeps that word: 养老金现在 was heard right and is not 养老保险在, 验收几天 is not 养老金天.
Syllables are compared the way Mandarin is commonly misheard and spoken in the countryside: front and
back nasals alike (xin ~ xi ~ xing), flat and retroflex alike (zh ~ z), n ~ l. The domain terms are the
synonym table's words and the documents' own words the caller supplies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from knowledge.phonetic import folded_syllables

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# A grammatical word beside a term is heard right, not a mis-heard syllable of another term:
# 低保的申请条件 must not become 低保户申请条件.
_FUNCTION_CHARS = frozenset(
    "的了吗呢吧啊呀是在有和与或也都就还要能会可去来给把被让我你他她它们这那哪什怎几多"
)


@dataclass(frozen=True)
class _Term:
    text: str
    syllables: tuple[str, ...]


class HomophoneRepair:
    def __init__(self, terms: Iterable[str], is_known: Callable[[str], bool]) -> None:
        """`is_known(text)` says whether the knowledge base contains `text` (then it is left alone)."""
        self._terms: dict[int, list[_Term]] = {}
        for text in dict.fromkeys(terms):
            if 3 <= len(text) <= 8 and _CJK_RUN.fullmatch(text):
                self._terms.setdefault(len(text), []).append(_Term(text, tuple(folded_syllables(text))))
        self._is_known = is_known

    def _match(self, window: str) -> str | None:
        heard = folded_syllables(window)
        for term in self._terms.get(len(window), []):
            if term.text == window or term.syllables[0] != heard[0]:
                continue
            differing = [i for i, (a, b) in enumerate(zip(term.syllables, heard, strict=True)) if a != b]
            if len(differing) > 1 or any(window[i] in _FUNCTION_CHARS for i in differing):
                continue
            if self._breaks_a_known_word(window, term.text):
                continue
            return term.text
        return None

    def _breaks_a_known_word(self, window: str, term: str) -> bool:
        inner = (
            window[i:j]
            for i in range(len(window))
            for j in range(i + 2, len(window) + 1)
            if j - i < len(window)
        )
        return any(word not in term and self._is_known(word) for word in inner)

    def repair(self, text: str) -> str:
        return _CJK_RUN.sub(lambda run: self._repair_run(run.group()), text)

    def _repair_run(self, run: str) -> str:
        """Longest terms first; a stretch once repaired is not repaired again by a shorter term."""
        chars = list(run)
        repaired = [False] * len(chars)
        for size in sorted(self._terms, reverse=True):
            for start in range(len(chars) - size + 1):
                if any(repaired[start : start + size]):
                    continue
                window = "".join(chars[start : start + size])
                term = self._match(window)
                if term is not None and not self._is_known(window):
                    chars[start : start + size] = term
                    repaired[start : start + size] = [True] * size
        return "".join(chars)
