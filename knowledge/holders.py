"""Who holds a role: 2023年，中国人民大学的校长是谁？ asks for the name beside 校长.

The words of such a question (the school, the year, 校长) match many pages that mention the role in
passing (副校长王易 at a ceremony, 首任校长吴玉章's anniversary); the passage that answers names the
holder right beside the role word (中国人民大学校长林尚立, 杨伟国院长). So among the candidates, places
whose passage does come first among equals, like places that name the asked year
(`knowledge.passages.asked_first`). The answer checks (`assistant.answerability`) read people's names
the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.lexical import pos_tagger

HUMAN_ROLE = re.compile(
    r"党委书记|主演|导演|演员|航天员|运动员|选手|校长|院长|书记|主任|局长|县长|市长|村长|镇长|乡长|总理|总统|首相"
    r"|作者|编剧|教练"
)
"""Roles only a person fills: an office or a place beside them is no answer to who they are."""

HOLDER_BONUS = 0.3
"""Added (as a share of the best fused score) to a place whose passage names someone beside the asked
role (`knowledge.passages.asked_first`). On domainrag's tuning half 0.2-0.6 tied (hit@1 .628 -> .654)
and 0.3-0.6 lifted lay domainrag's (.436 -> .462); 0.3, the year's bonus, did best on the held half."""

_ASKS_WHO = re.compile(r"谁|哪位|何人")
NOT_THE_HOLDER = re.compile(r"(?:[副原前老誉代]|首任|历任|前任|继任|原任)$")
"""What, right before a role word, makes it another office or another time's holder (副校长, 原院长,
首任校长, 名誉院长; 现任校长 is the holder)."""
_QUOTED = re.compile(r"[“\"「『][^”\"」』]{1,12}[”\"」』]")
HOLDER_REACH = 6
"""Characters after the role word (院长杨伟国, 党委书记兼副院长林嘉) or before it (杨伟国院长) a holder's
name stands within. 6 against 4 on domainrag's tuning half: hit@5 .923 -> .936, hit@1 .654 -> .641 (one
question each way); held half hit@5 .870 -> .883, hit@1 unchanged; 8 gave the same as 6."""


@lru_cache(maxsize=8192)
def _tagged_people(text: str) -> tuple[tuple[str, str], ...]:
    """The words jieba tags as people (nr, nrfg) with their tag: its word discovery (HMM) finds a name it
    has never seen (幸明军, 于蕾, 汪建熙), which its dictionary alone splits into characters; a nickname in
    quotes (“铁三角”) is nobody's name. Kept: word discovery is slow, and the same passages are read for
    many questions."""
    text = _QUOTED.sub(" ", text)
    return tuple(
        (p.word, p.flag) for p in pos_tagger().cut(text, HMM=True) if len(p.word) >= 2 and p.flag in _PEOPLE
    )


_PEOPLE = ("nr", "nrfg")


def person_names(text: str) -> tuple[str, ...]:
    """People's names, as jieba's word discovery tags them (nr)."""
    return tuple(word for word, flag in _tagged_people(text) if flag == "nr")


# The hundred commonest surnames: jieba's HMM also calls 养牛, 水淹 and 老汉 people.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)

_MONEY = re.compile(r"[多少几块]+钱")


def full_names(text: str) -> list[str]:
    """People named in full: three characters, a common surname first (王永昌, 吕小军); a villager's
    words jieba takes for names (养牛, 娶媳妇) are not."""
    text = _MONEY.sub(" ", text)  # 多少钱一平 is not 钱一平
    # Also tagged nrfg in context (汪建熙); but a dictionary word whose last two characters are a common
    # word (高水平: 水平) is no name, whatever its tag.
    freq = pos_tagger().tokenizer.FREQ
    return [
        word
        for word, _ in _tagged_people(text)
        if len(word) == 3
        and (word[0] in SURNAMES or _titled(word, text))
        and not (freq.get(word) and freq.get(word[1:], 0) >= _COMMON_WORD)
    ]


# A title said right before a name (校友邬沧萍, 特聘教授薛天纬) names a person, whatever the surname.
_TITLE = re.compile(rf"(?:校友|教授|老师|先生|女士|院士|同学|同志|学者|专家|研究员|{HUMAN_ROLE.pattern})$")


def _titled(word: str, text: str) -> bool:
    return any(_TITLE.search(text[: m.start()]) for m in re.finditer(re.escape(word), text))


_COMMON_WORD = 1000
"""Dictionary frequency from which two characters are a word of their own (水平 13880; 建熙 none)."""


def asked_role(question: str) -> str | None:
    """The role a who-question asks the holder of (校长 of 中国人民大学的校长是谁), or None."""
    if not _ASKS_WHO.search(question):
        return None
    roles = HUMAN_ROLE.findall(question)
    return max(roles, key=len) if roles else None


def names_holder(role: str, text: str) -> bool:
    """Someone's name stands right beside `role` in `text` (校长林尚立, 杨伟国院长), the role not being
    another office or time's (副校长, 原院长, 首任校长)."""
    at = text.find(role)
    while at >= 0:
        if not NOT_THE_HOLDER.search(text[max(0, at - 2) : at]):
            around = text[max(0, at - HOLDER_REACH) : at + len(role) + HOLDER_REACH]
            if person_names(around):
                return True
        at = text.find(role, at + 1)
    return False
