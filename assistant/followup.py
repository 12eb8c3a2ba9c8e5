"""Rewriting follow-up questions ("那报销比例呢？") into questions that stand alone, without a language model.

A question is a follow-up when it opens with a linking word (那、那么、还有 …), ends in 呢, or carries no
topic of its own. Its topic then comes from the latest earlier question: the nouns that question had
and this one lacks are put in front ("新农合一年交多少钱？" + "那报销比例呢？" -> "新农合 报销比例呢？").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from assistant.normalize import synonyms
from knowledge.lexical import pos_tagger

_OPENERS = re.compile(
    r"^(那要是|那如果|要是|如果|那么|那要|那得|那就|那|还有|另外|再问一下|再问|顺便问一下|我再问|它|这个|那个|这)"
)
# A follow-up that only changes a condition (那要是去省里的大医院呢, 那90岁以上的呢) asks what the earlier
# question asked; one naming a new thing (那报销比例呢) asks that.
_ONLY_A_CONDITION = re.compile(r"^(?:那要是|那如果|要是|如果)|的呢[？?]?$")
_ASKS_SOMETHING = re.compile(
    r"吗|么|怎|咋|如何|什么|啥|哪|谁|几|多少|多大|多久|多长|何|是否|能否|有没有|(.)不\1"
)
_ASKED_END = re.compile(r"[呢吧啊呀]?[？?]?$")
_TOPIC_FLAGS = ("n", "nz", "nt", "ns", "nr", "vn", "eng", "j", "l")
# A bare count (俺爹都75了, 种了30亩) says something of the villager, not what the question is about; jieba
# tags digits "eng" like model numbers (W3). Years (2025) stay topics: they constrain the answer.
_COUNT = re.compile(r"\d{1,3}")
# A question word jieba glued into a word (哪些地方, 哪几种, 老几) asks; it names no topic.
_ASKING = re.compile(r"哪|啥|什么|多少|怎|咋|几[个种项类样天年月次回门所位条]|老几")
_GENERIC_NOUNS = {
    "钱",
    "事",
    "事情",
    "时候",
    "日子",
    "阵子",
    "地方",
    "东西",
    "人",
    "问题",
    "情况",
    "多少",
    "标准",
    "比例",
    "条件",
    "材料",
    "手续",
    "电话",
    "时间",
    "多长时间",
    "岁数",
    "多久",
    "流程",
    "办法",
    "资料",
    "规定",
    "政策",
    "年",
    "月",
    "天",
    "岁",
    "元",
    "我家",
    "家里",
    # Being approved is what a question asks about a subject (低保 批下来), never the subject: with it a
    # 宅基地 sentence on 批准建房 passed for a further answer to 低保申请多久能批下来.
    "批准",
    "批下来",
    # Everyday verbs a villager phrases a question with (花钱考了个证, 咋弄, 怎么弄 once mended).
    "花钱",
    "怎么弄",
    "咋弄",
    # Adverbs jieba's dictionary tags as nouns (一共 j, 专门 n): how, not what, a question asks.
    "一共",
    "总共",
    "专门",
    # 是什么意思, 啥含义: how a villager asks what a word means, not a subject.
    "意思",
    "啥意思",
    "什么意思",
    "含义",
}


@lru_cache(maxsize=1)
def _domain_words() -> frozenset[str]:
    """Words of the synonym table are topics whatever jieba tags them (it calls 低保 a verb)."""
    return frozenset(w for s in synonyms() if not s.replace for w in (s.term, s.document_term))


def topic_terms(question: str) -> list[str]:
    """Content nouns of a question, in order, without generic words."""
    terms: list[str] = []
    for pair in pos_tagger().cut(question, HMM=False):
        word, flag = pair.word.strip(), pair.flag
        topical = (flag.startswith(_TOPIC_FLAGS) or word in _domain_words()) and not _COUNT.fullmatch(word)
        asking = _ASKING.search(word)
        if len(word) >= 2 and topical and not asking and word not in _GENERIC_NOUNS and word not in terms:
            terms.append(word)
    return terms


def is_follow_up(question: str) -> bool:
    text = question.strip()
    if _OPENERS.match(text):
        return True
    if re.search(r"呢[？?]?$", text) and len(text) <= 20:
        return True
    return len(text) <= 20 and not topic_terms(text)


def rewrite(question: str, earlier_questions: Sequence[str]) -> str:
    """The question made standalone using the latest earlier question (oldest first in the list)."""
    if not earlier_questions or not is_follow_up(question):
        return question
    body = _OPENERS.sub("", question.strip()).lstrip("，, ")
    condition = bool(_ONLY_A_CONDITION.search(question.strip())) and not _ASKS_SOMETHING.search(body)
    for earlier in reversed(earlier_questions):
        terms = topic_terms(earlier)
        missing = [term for term in terms if term not in body]
        if missing:
            asked = _asked_part(earlier, terms) if condition else ""
            said = _ASKED_END.sub("", body) + asked if asked else body
            return "".join(missing) + said
    return question


def _asked_part(question: str, terms: Sequence[str]) -> str:
    """What a question asks, after its last topic word (能报多少？ of 在县医院住院医保能报多少？), or ""
    when it asks nothing there."""
    end = max((question.rfind(term) + len(term) for term in terms), default=0)
    asked = question[end:].lstrip("，,的 ")
    return asked if _ASKS_SOMETHING.search(asked) else ""
