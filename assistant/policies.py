"""Which benefit a question asks about: the word before a kind of benefit (高龄补贴, 防贫保险, 临时救助),
or, for a bare kind (养老金发多少, 有补助吗), any benefit of it.

A county's documents hold many subsidies, insurances and loans; a sentence about one (大病保险最多支付
40万元, 稳岗补贴每人每年1200元) answers nothing about another (防贫保险, 创业补贴). So the word that
tells which one is a constraint like a place: it must stand in the sentence's passage, said as the
question says it or sharing a character with the words right before the passage's own benefit word (种地补贴
is the documents' 实际种粮农民一次性补贴; 高龄补贴 is no 交通补助). A bare kind is met by a passage naming a
benefit of it (养老金发多少 is not answered by an 积分超市's 1分相当于1元). A section on the whole programme
(the insurance plan's 理赔程序) is about every benefit its document names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.normalize import synonym_names
from knowledge.lexical import pos_tagger

# Kinds of benefit, each with the words documents use for the same kind.
_KINDS: tuple[tuple[str, ...], ...] = (
    ("补贴", "补助", "津贴", "奖补", "奖励", "补偿", "资助"),
    # 医保 is one insurance, not the kind: 养老保险's contribution levels say nothing of it.
    ("医保", "医疗保险", "医疗保障", "合作医疗"),
    ("保险", "保费", "参保"),
    ("救助", "救济"),
    ("贷款", "贷"),
    ("养老金", "养老保险"),
)
# The words a question names a benefit by (养老保险 before 保险: 城乡居民养老保险 is one benefit); a
# name right before one is part of the benefit's name (惠农补贴), no one it is paid to.
BENEFIT_HEADS = (
    "养老保险",
    "养老金",
    "医保",
    "补贴",
    "补助",
    "津贴",
    "奖补",
    "奖励",
    "补偿",
    "资助",
    "保险",
    "救助",
    "贷款",
)
_MODIFIER_FLAGS = ("n", "b", "vn", "nz", "an", "j")
# Words that say for whom or where, not which benefit (农村养老金 is the county's only pension), nor what
# a yes/no question is about (answerability's subject words: 老人 of 高龄补贴90岁以上的呢).
NOT_WHICH = frozenset(
    {"农村", "城乡", "城镇", "国家", "政府", "村里", "县里", "乡里", "镇里", "老人", "农民", "村民", "个人"}
)
# Characters that never tell one benefit from another (有补贴, 的补助, 能买保险, 上保险).
_FUNCTION_CHARS = frozenset("有的是在了和与及或等个这那能会要可买交办领报上给把被对啥么哪些样")
# ... nor do characters too common to tie two words together (种地 and 耕地 share only 地).
_WEAK_CHARS = _FUNCTION_CHARS | frozenset("行发开时人年大中出上下会为不一生工作事成家业地理用动分主公日月部")
# ... nor do a noun's prefixes and suffixes (稻子 is 水稻, 老母猪 能繁母猪).
_WEAK_CHARS |= frozenset("子儿头老阿小")
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
# 母猪上保险, 给牛买保险, 大棚能上保险吗: the thing insured, before the verb of taking insurance out (and a
# modal before that verb), tells which insurance as 水稻 does in 水稻保险.
_INSURING = frozenset({"上", "买", "投", "参加", "入", "办"})
_MODALS = frozenset({"想", "能", "要", "可以", "可", "得", "也", "都", "还", "去", "就"})
_THING_FLAGS = ("n",)
_CLAUSE = re.compile(r"[，。；：:;,.！？!?、\s]")
_REACH = 8
"""Characters before a benefit word in a passage within which the words naming which one stand."""


@dataclass(frozen=True)
class Benefit:
    """A benefit the question names: the word telling which (`which`, empty for any of the kind) and
    its kind's word (`kind`)."""

    which: str
    kind: str

    @property
    def names(self) -> frozenset[str]:
        """Its name and the synonym table's names for it (种地补贴: 耕地地力保护补贴; 养老金, which a
        question expanded with the documents' words says as 基础养老金)."""
        return synonym_names(self.which + self.kind)

    def said_in(self, text: str) -> bool:
        """The passage names this benefit: by a name of it, or by the word telling which one, or one of
        its uncommon characters, in the words right before a benefit word of its kind in the same clause
        (地力补贴: 耕地地力保护补贴; a page on 返乡创业 whose benefits are 稳岗补贴 names no 创业补贴)."""
        if any(name in text for name in self.names):
            return True
        wanted = self._telling()
        for _word, at in self._mentions(text):
            lead = _CLAUSE.split(text[max(0, at - _REACH) : at])[-1]
            if self.which in lead or wanted & set(lead):
                return True
        return False

    def covered_by(self, document: str, sentence: str, title: str) -> bool:
        """A sentence of a section on the whole programme (四、理赔程序: 农户发生损失后…报案) is about every
        benefit its document covers: the benefit is met when the `title` (the document's, the section's,
        the sentence before) names a programme of its kind, the document names the benefit and the
        sentence names no other benefit of its kind (the title's own, 农业保险 of 政策性农业保险工作方案,
        is none). An FAQ that answers 护理补贴 in one section says nothing of it beside a watch's price."""
        return (
            next(self._mentions(title), None) is not None
            and self.said_in(document)
            and not self._another_in(sentence, title)
        )

    def _another_in(self, sentence: str, title: str) -> bool:
        if not self.which:
            return False  # any benefit of the kind is the asked one
        wanted = self._telling()
        for word, at in self._mentions(sentence):
            which = sentence[max(0, at - 2) : at]
            if (
                _WORD.fullmatch(which)
                and not set(which) & (_FUNCTION_CHARS | wanted)
                and which + word not in title
            ):
                return True  # 大病保险 beside 防贫保险
        return False

    def _telling(self) -> set[str]:
        """The characters that tell this benefit from others of its kind; one of them is enough, the
        documents saying a name otherwise (插秧机补贴 is 农机购置与应用补贴's) and a transcript mishearing
        it (蒙村养老金 for 农村养老金)."""
        return set(self.which) - _WEAK_CHARS

    def _mentions(self, text: str) -> Iterator[tuple[str, int]]:
        """Each word of this benefit's kind in `text`, with where it starts."""
        for word in next(kind for kind in _KINDS if self.kind in kind):
            at = text.find(word)
            while at >= 0:
                yield word, at
                at = text.find(word, at + 1)


def asked_benefits(question: str) -> tuple[Benefit, ...]:
    """The benefits a question names by which one they are (高龄补贴, 水稻保险), or by their kind alone
    (有补贴吗, 农村养老金: the word for whom is no which)."""
    tokens = [(t.word, t.flag) for t in pos_tagger().cut(question, HMM=False)]
    found: list[Benefit] = []
    for i, (word, _flag) in enumerate(tokens):
        head = next((h for h in BENEFIT_HEADS if word.endswith(h)), None)
        if head is None:
            continue
        which = word[: -len(head)]
        if not which and i > 0:
            before, flag = tokens[i - 1]
            if len(before) >= 2 and flag.startswith(_MODIFIER_FLAGS):
                which = before
            elif len(before) == 1 and i > 1 and len(tokens[i - 2][0]) == 1:
                which = tokens[i - 2][0] + before  # 防贫保险: jieba reads 防 and 贫 apart
        if not _WORD.fullmatch(which) or which in NOT_WHICH or set(which) & _FUNCTION_CHARS or head == "医保":
            which = ""  # 医保 is one insurance: 住院医保, 居民医保 say what for or whose, not which
        if not which and head == "保险":
            which = _insured(tokens[:i])
        benefit = Benefit(which, head)
        if benefit not in found:
            found.append(benefit)
    return tuple(found)


def _insured(before: list[tuple[str, str]]) -> str:
    """The thing a villager insures, said before 上保险 / 买保险 (养的母猪上保险: 母猪; 给牛买保险: 牛, one
    character being a whole word here), or '' when no such verb stands right before the kind."""
    at = len(before) - 1
    while at >= 0 and before[at][0] in _MODALS:
        at -= 1
    if at < 0 or before[at][0] not in _INSURING:
        return ""
    at -= 1
    while at >= 0 and before[at][0] in _MODALS:
        at -= 1
    if at < 0:
        return ""
    word, flag = before[at]
    if (
        not flag.startswith(_THING_FLAGS)
        or not re.fullmatch(r"[\u4e00-\u9fff]+", word)
        or word in NOT_WHICH
        or set(word) & _FUNCTION_CHARS
    ):
        return ""
    return word
