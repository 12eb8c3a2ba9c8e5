"""Which of a question's words that no document holds name a thing the documents do not cover.

种的柑橘能买政策性农业保险不？ names a crop no document mentions: the rice and maize insurance rows answer
another crop, however well they cover the rest of the question. Other unknown words are a villager's
phrasing of what the documents do cover: jieba glues phrases into one word (水冲, 领钱, 替人) and calls
times and counts nouns (日子, 年头, 个数), compounds are made of the documents' words (热线电话: 热线,
电话), a place where something happened or someone goes (在县里工地干活被欠了工钱, 去省城的大医院住院)
and the family member or part of the body a trouble is about (家里男人得了重病, 俺心脏不好) are not what
is asked about, and a villager describing what the documents name (学电脑的那个信息学院) uses words of
their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from knowledge.lexical import pos_tagger, word_tokenizer

_CLAUSE_END = frozenset("，,。？?！!；;：:")

# A character that is a verb, a numeral or measure, or a preposition on its own makes a word jieba glued
# together of a phrase (冲 of 水冲, 领 of 领钱, 替 of 替人) or a time or count (日子, 年头, 个数).
_PHRASE_FLAGS = ("v", "m", "q", "p")


def _alone(ch: str) -> bool:
    """The character on its own is a verb, a numeral or measure, or a preposition."""
    return any(
        pair.flag.startswith(_PHRASE_FLAGS) for pair in pos_tagger().cut(ch, HMM=False) if pair.word == ch
    )


@lru_cache(maxsize=4096)
def verb_and_object(word: str) -> tuple[str, str] | None:
    """A word jieba glued of a verb and the word it takes (签合同: 签, 合同), or None."""
    if len(word) < 3 or not any(
        pair.flag.startswith("v") for pair in pos_tagger().cut(word[0], HMM=False) if pair.word == word[0]
    ):
        return None
    return (word[0], word[1:]) if word_tokenizer().FREQ.get(word[1:], 0) > 0 else None


def said_apart(word: str, text: str) -> bool:
    """A villager's verb and its object glued into one word (签合同) is said by the documents with words
    between (签订书面流转合同)."""
    split = verb_and_object(word)
    if split is None:
        return False
    verb, thing = map(re.escape, split)
    return re.search(f"{verb}[^，。；]{{0,6}}?{thing}", text) is not None


def _phrase(word: str) -> bool:
    """The word is a glued phrase, a time or a count, or a doubled verb (问问), not a thing. Of a longer
    word only a verb and the word it takes (娶媳妇, 签合同) is a phrase: 丧葬费, 补偿款, 保修期 are things
    whatever their characters are alone."""
    if len(word) == 2 and word[0] == word[1]:
        return True
    if len(word) >= 3:
        return _alone(word[0]) and word_tokenizer().FREQ.get(word[1:], 0) > 0
    return any(_alone(ch) for ch in word)


# Words after which a noun says where something happens or where someone goes (在县里工地干活, 去省城的
# 大医院住院, 闺女嫁到外村).
_TO_A_PLACE = frozenset({"在", "去", "到", "回", "往", "从", "嫁到", "搬到", "迁到", "来到", "回到", "转到"})


def _located(question: str) -> set[str]:
    """Nouns standing after 在, 去, 到 … in their clause, before its next verb: where something happens
    or someone goes."""
    located: set[str] = set()
    after_at = False
    for pair in pos_tagger().cut(question, HMM=False):
        if pair.word in _TO_A_PLACE:
            after_at = True
        elif pair.word in _CLAUSE_END or pair.flag.startswith("v"):
            after_at = False
        elif after_at and pair.flag.startswith("n"):
            located.add(pair.word)
    return located


# Who in the family, or which part of the body, a villager's trouble is about (家里男人得了重病, 俺心脏不好):
# whom the documents' rules are for, never a thing they must name.
_KIN_AND_BODY = frozenset(
    {"男人", "女人", "媳妇", "老婆", "老公", "丈夫", "妻子", "闺女", "女儿", "儿子", "老汉", "老伴", "家人"}
    | {"心脏", "身体", "眼睛", "床上"}
)


# 学电脑的那个信息学院, 给县里中学娃的那个圆梦名额: a villager describes what the documents name, and the
# description's words are theirs, not the documents'.
_DESCRIBED = re.compile(r"[^，,。？?！!；;]*?的?那个")


def _described(question: str) -> str:
    """The descriptions in a question: what stands before 那个 in its clause."""
    return " ".join(m.group() for m in _DESCRIBED.finditer(question))


def named_things(
    question: str, unknown: Iterable[str], known: Callable[[list[str]], dict[str, int]]
) -> list[str]:
    """The `unknown` words (lower case, as the question has them) that name a thing: a plain noun
    (jieba's n), not a glued phrase, time or count, not made of words the knowledge base holds (`known`
    gives each token's chunk count), and not where something happens."""
    nouns = {p.word.lower() for p in pos_tagger().cut(question, HMM=False) if p.flag == "n"}
    located = {w.lower() for w in _located(question)}
    described = _described(question).lower()
    things: list[str] = []
    for word in unknown:
        situation = word in located or word in described or word in _KIN_AND_BODY
        if word not in nouns or situation or _phrase(word):
            continue
        parts = [p for p in word_tokenizer().cut_for_search(word) if len(p) >= 2 and p != word]
        if parts and any(n > 0 for n in known(parts).values()):
            continue
        things.append(word)
    return things


# A name jieba's dictionary lacks comes as single characters (孝老卡: 孝, 老, 卡); nouns and adjectives
# only, ending in a noun, so a villager's 俺爹都 or 交多少 is no name.
_RUN_FLAGS = ("n", "a", "b", "j")
_RUN_HEAD = ("n",)


def unseen_names(question: str, passages: str) -> list[str]:
    """Names in the question that jieba reads as a run of three or more single characters and that
    no retrieved passage (`passages`, their text together) holds: the documents do not cover them
    (县里的孝老卡一年能领多少钱？ finds the 医保 notice's 一年最多支付20万元)."""
    found: list[str] = []
    run: list[tuple[str, str]] = []
    for pair in [*pos_tagger().cut(question, HMM=False), None]:
        if pair is not None and len(pair.word) == 1 and pair.flag.startswith(_RUN_FLAGS):
            run.append((pair.word, pair.flag))
            continue
        while run and not run[-1][1].startswith(_RUN_HEAD):
            run.pop()
        name = "".join(word for word, _ in run)
        if len(name) >= 3 and name.lower() not in passages.lower():
            found.append(name)
        run = []
    return found
