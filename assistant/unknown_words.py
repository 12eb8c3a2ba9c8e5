"""Which of a question's words that no document holds name a thing the documents do not cover.

种的柑橘能买政策性农业保险不？ names a crop no document mentions: the rice and maize insurance rows answer
another crop, however well they cover the rest of the question. Other unknown words are a villager's
phrasing of what the documents do cover: jieba glues verbs into one word (水冲, 领钱), compounds are made of
the documents' words (热线电话: 热线, 电话), and a place where something happened (在县里工地干活被欠了工钱)
is not what is asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from knowledge.lexical import pos_tagger, word_tokenizer

_CLAUSE_END = frozenset("，,。？?！!；;：:")


def _has_verb(word: str) -> bool:
    """A character of the word is a verb on its own (冲 of 水冲, 领 of 领钱, 收 of 营收)."""
    return any(
        pair.flag.startswith("v")
        for ch in word
        for pair in pos_tagger().cut(ch, HMM=False)
        if pair.word == ch
    )


def _located(question: str) -> set[str]:
    """Nouns standing after 在 in their clause: where something happens (在县里工地干活)."""
    located: set[str] = set()
    after_at = False
    for pair in pos_tagger().cut(question, HMM=False):
        if pair.word in _CLAUSE_END or pair.flag.startswith("v"):
            after_at = False
        elif pair.word == "在":
            after_at = True
        elif after_at and pair.flag.startswith("n"):
            located.add(pair.word)
    return located


def named_things(
    question: str, unknown: Iterable[str], known: Callable[[list[str]], dict[str, int]]
) -> list[str]:
    """The `unknown` words (lower case, as the question has them) that name a thing: a plain noun
    (jieba's n), with no verb character, not made of words the knowledge base holds (`known` gives each
    token's chunk count), and not where something happens."""
    nouns = {p.word.lower() for p in pos_tagger().cut(question, HMM=False) if p.flag == "n"}
    located = {w.lower() for w in _located(question)}
    things: list[str] = []
    for word in unknown:
        if word not in nouns or word in located or _has_verb(word):
            continue
        parts = [p for p in word_tokenizer().cut_for_search(word) if len(p) >= 2 and p != word]
        if parts and any(n > 0 for n in known(parts).values()):
            continue
        things.append(word)
    return things
