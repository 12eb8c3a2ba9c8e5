"""The knowledge base's own words by their sound, to tell a misheard word from an unknown topic, and
how much of a transcript is in them, to choose among speech recognition's hypotheses.

Whisper writes 录像 as 路向 and 宅基地 as 债基地: words the documents never use, but ones that sound
like words they do. The index's words are grouped by toneless pinyin with front and back nasals alike
(jin ~ jing, as Whisper and southern speakers confuse them) and regrouped whenever the catalog changes.
The wider folding of the pinyin field (zh ~ z, n ~ l, xin ~ xi) is not used here: it makes different
everyday words alike (房子 ~ 防止, 油茶 ~ 有偿), and a word replaced wrongly does more harm than a
misheard one left alone.
"""

from __future__ import annotations

import itertools
import re
import threading

from pypinyin import lazy_pinyin

from knowledge.catalog import Catalog
from knowledge.lexical import lexical_tokens, stopwords, word_tokenizer

_CHINESE_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
_CHINESE_CHARACTER = re.compile(r"[\u4e00-\u9fff]")
_LONGEST_SLIP = 3
_EVERYDAY = 10
"""A word jieba's dictionary counts more often than this is an everyday word, heard as said."""
_BACK_NASAL = re.compile(r"(?<=n)g$")
_INITIAL = re.compile(r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])")


def _syllables(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word))


def _sound(syllables: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_BACK_NASAL.sub("", s) for s in syllables)


def _finals(syllables: tuple[str, ...]) -> tuple[str, ...]:
    """Each syllable without its initial consonant (bi, di, yi and ni all end in i)."""
    return tuple(_INITIAL.sub("", s) for s in _sound(syllables))


_Index = tuple[
    frozenset[str],
    dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]],
    dict[tuple[str, ...], list[tuple[str, tuple[str, ...], int]]],
]


class SoundAlikes:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._generation = -1
        self._vocabulary: frozenset[str] = frozenset()
        self._by_sound: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}
        self._by_finals: dict[tuple[str, ...], list[tuple[str, tuple[str, ...], int]]] = {}

    def _index(self) -> _Index:
        with self._lock:
            generation = self._catalog.generation()
            if generation != self._generation:
                counts = self._catalog.vocabulary()
                by_sound: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}
                by_finals: dict[tuple[str, ...], list[tuple[str, tuple[str, ...], int]]] = {}
                for word in sorted(counts, key=lambda w: -counts[w]):
                    if _CHINESE_WORD.fullmatch(word):
                        syllables = _syllables(word)
                        by_sound.setdefault(_sound(syllables), []).append((word, syllables))
                        if len(word) <= _LONGEST_SLIP:
                            entry = (word, syllables, counts[word])
                            by_finals.setdefault(_finals(syllables), []).append(entry)
                self._vocabulary, self._by_sound, self._by_finals = frozenset(counts), by_sound, by_finals
                self._generation = generation
            return self._vocabulary, self._by_sound, self._by_finals

    def of(self, word: str) -> list[tuple[str, int]]:
        """Other words of the knowledge base that sound like `word`, each with how many of its
        syllables are identical (tones aside), closest first, then most frequent first."""
        if not _CHINESE_WORD.fullmatch(word):
            return []
        heard = _syllables(word)
        alike = [
            (text, sum(a == b for a, b in zip(syllables, heard, strict=True)))
            for text, syllables in self._index()[1].get(_sound(heard), [])
            if text != word
        ]
        return sorted(alike, key=lambda pair: -pair[1])

    def closest(self, word: str) -> str | None:
        """The one word of the knowledge base `word` sounds closest to (黄金 -> 黄精 rather than 环境),
        differing in one nasal at most (山上 is not 上山); None when no word or several are as close."""
        alike = self.of(word)
        if not alike or alike[0][1] < len(word) - 1 or (len(alike) > 1 and alike[0][1] == alike[1][1]):
            return None
        return alike[0][0]

    def knows(self, word: str) -> bool:
        """Whether the knowledge base uses `word` as a token."""
        return word in self._index()[0]

    def initial_slips(self, stretch: str, min_chunks: int) -> list[str]:
        """Words of the knowledge base, used in `min_chunks` chunks or more, that `stretch` would be had
        its first syllable kept its initial consonant: 逼保, 一宝 and 你保 for 低保, as Whisper writes a
        question whose first sound the talk button clipped; a word that sounds exactly like one of its
        words counts too (一宝: 医保, or 低保 clipped). Most used first; none for a word the knowledge
        base uses or for a word of everyday Chinese (今年 is no slip of 经县)."""
        vocabulary, _, by_finals = self._index()
        if (
            stretch in vocabulary
            or not _CHINESE_WORD.fullmatch(stretch)
            or len(stretch) > _LONGEST_SLIP
            or word_tokenizer().FREQ.get(stretch, 0) > _EVERYDAY
        ):
            return []
        heard = _sound(_syllables(stretch))
        slips = [
            (word, chunks)
            for word, syllables, chunks in by_finals.get(_finals(heard), [])
            if chunks >= min_chunks and _sound(syllables)[1:] == heard[1:]
        ]
        return [word for word, _ in sorted(slips, key=lambda pair: -pair[1])]

    def known_share(self, text: str) -> float:
        """The share of the Chinese characters of `text` that lie in words of two or more characters the
        knowledge base uses: 手机上的医保卡 scores higher than 手机上的一包卡."""
        vocabulary = self._index()[0]
        characters = len(_CHINESE_CHARACTER.findall(text))
        known = sum(len(w) for w in lexical_tokens(text) if w in vocabulary and _CHINESE_WORD.fullmatch(w))
        return known / characters if characters else 0.0

    def repair(self, text: str) -> str:
        """Each word of `text` the knowledge base never uses, replaced by the one word of the knowledge
        base it sounds closest to, where that is what was most likely said: the word is no word at all
        and the repair keeps every piece of it the documents use (插扬 -> 插秧), or the documents use the
        sound-alike beside the same neighbour (互利补贴 -> 护理补贴). A real word in other company was
        heard right: 城里 sounds like the documents' 成立, but 成立厂子 is nowhere."""
        vocabulary = self._index()[0]
        words = lexical_tokens(text)
        for n, word in enumerate(words):
            if word in vocabulary:
                continue
            meant = self.closest(word)
            if meant is None:
                continue
            before = words[n - 1] if n else None
            after = words[n + 1] if n + 1 < len(words) else None
            if _mends_a_non_word(word, meant, vocabulary) or self._used_beside(meant, before, after):
                text = text.replace(word, meant)
        return text

    def _used_beside(self, word: str, before: str | None, after: str | None) -> bool:
        """Whether a chunk has `word` right after `before` or right before `after`, as two tokens or as
        one (医保 + 卡: the documents' 医保卡)."""
        phrases = []
        if before:
            phrases += [f"{before} {word}", before + word]
        if after:
            phrases += [f"{word} {after}", word + after]
        return any(count > 0 for count in self._catalog.token_counts(phrases).values())


def _mends_a_non_word(word: str, meant: str, vocabulary: frozenset[str]) -> bool:
    """Whether `word` is no dictionary word, only characters jieba glued together for want of a better
    guess (插扬: 插 + 扬), and becoming `meant` changes none of its pieces that the documents use or that
    are grammatical words: 想存 (想 + 存, both heard right) is not the documents' 乡村, since 想 is their
    word too."""
    pieces = list(word_tokenizer().cut(word, HMM=False))
    if len(pieces) == 1:
        return False
    grammatical = stopwords()
    starts = itertools.accumulate((len(piece) for piece in pieces[:-1]), initial=0)
    return not any(
        meant[start : start + len(piece)] != piece and (piece in vocabulary or piece in grammatical)
        for piece, start in zip(pieces, starts, strict=True)
    )
