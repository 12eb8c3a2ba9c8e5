"""Homophone repair for spoken questions: Whisper hears 新萌和 for 新农合, 低宝户 for 低保户.

A stretch of the transcript that the knowledge base never mentions is replaced by a domain term of the
same length whose pinyin differs in at most one syllable (and never in the first), so a mis-heard
policy word still finds its documents. Syllables are compared the way Mandarin is commonly misheard and
spoken in the countryside: front and back nasals alike (xin ~ xi ~ xing), flat and retroflex alike
(zh ~ z), n ~ l. The domain terms are the synonym table's words and the documents' own words the caller
supplies.

A correctly heard question must come out unchanged, and a question is mostly words heard right. So the
transcript is cut into dictionary words (jieba with the project's dictionary, without its guesses at
unknown words, which would glue a mis-heard character to its neighbour), and a stretch is repaired only
when it
- starts and ends between words: 低保每个月 is 低保 + 每个月, not a mis-heard 低保户 + 个月;
- holds no word of two or more characters, the dictionary's or the documents', that the term does not
  keep: 养老金现在 was heard right and is not 养老保险在, 打哪个 is not 大喇叭;
- differs from the term inside one of the term's words, mending a word the hearing broke: 多少天 and
  多少钱 are two questions, one whole word swapped for another, not a mis-hearing;
- differs in no grammatical word: 低保的申请条件 is not 低保户申请条件.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from knowledge.lexical import word_tokenizer
from knowledge.phonetic import folded_syllables

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# A grammatical word beside a term is heard right, not a mis-heard syllable of another term:
# 低保的申请条件 must not become 低保户申请条件.
_FUNCTION_CHARS = frozenset(
    "的了吗呢吧啊呀是在有和与或也都就还要能会可去来给把被让我你他她它们这那哪什怎几多"
)


def _words(text: str) -> list[str]:
    """Dictionary words only: jieba's HMM would make 第在 of 宅基第在 and 医报 of 医报断, hiding the
    boundary a repair needs."""
    return list(word_tokenizer().cut(text, HMM=False))


@dataclass(frozen=True)
class _Term:
    text: str
    syllables: tuple[str, ...]
    in_word: tuple[bool, ...]
    """Whether each character belongs to a word of two or more characters of the term (新农合: all;
    多少钱: not 钱)."""

    @classmethod
    def of(cls, text: str) -> _Term:
        in_word = [len(word) > 1 for word in _words(text) for _ in word]
        return cls(text, tuple(folded_syllables(text)), tuple(in_word))


class HomophoneRepair:
    def __init__(self, terms: Iterable[str], is_known: Callable[[str], bool]) -> None:
        """`is_known(text)` says whether the knowledge base contains `text` (then it is left alone)."""
        self._terms: dict[int, list[_Term]] = {}
        for text in dict.fromkeys(terms):
            if 3 <= len(text) <= 8 and _CJK_RUN.fullmatch(text):
                self._terms.setdefault(len(text), []).append(_Term.of(text))
        self._is_known = is_known

    def _match(self, window: str, words: list[str]) -> str | None:
        """The term `window`, made of the dictionary words `words`, is a mis-hearing of, if any."""
        heard = folded_syllables(window)
        for term in self._terms.get(len(window), []):
            if term.text == window or term.syllables[0] != heard[0]:
                continue
            differing = [i for i, (a, b) in enumerate(zip(term.syllables, heard, strict=True)) if a != b]
            if len(differing) > 1:
                continue
            if any(window[i] in _FUNCTION_CHARS or not term.in_word[i] for i in differing):
                continue
            if any(len(word) > 1 and word not in term.text for word in words):
                continue
            if self._breaks_a_known_word(window, term.text):
                continue
            return term.text
        return None

    def _breaks_a_known_word(self, window: str, term: str) -> bool:
        """The documents' own words the dictionary lacks (place names, compounds) are heard right too."""
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
        """Longest terms first; a stretch once repaired is not repaired again by a shorter term. A
        stretch is a sequence of whole words, so no repair ever cuts one."""
        words = _words(run)
        starts = [0, *itertools.accumulate(len(word) for word in words)]
        chars = list(run)
        repaired = [False] * len(chars)
        for size in sorted(self._terms, reverse=True):
            for first, start in enumerate(starts):
                end = start + size
                if end not in starts or any(repaired[start:end]):
                    continue
                window = "".join(chars[start:end])
                term = self._match(window, words[first : starts.index(end)])
                if term is not None and not self._is_known(window):
                    chars[start:end] = term
                    repaired[start:end] = [True] * size
        return "".join(chars)
