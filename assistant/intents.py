"""What kind of message arrived: a question for the documents, small talk, or input we cannot use."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Intent = Literal[
    "question", "greeting", "thanks", "goodbye", "identity", "empty", "too_long", "garbage", "foreign"
]

_TAIL = r"[啊呀吗嘛呢哈啦了吧哦喔噢！!，,。.？?～~…\s]*"
_SMALL_TALK: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        "greeting",
        re.compile(
            rf"^(你好|您好|你们好|大家好|嗨|哈喽|喂|早上好|上午好|中午好|下午好|晚上好|早|在吗|在不在|有人吗){_TAIL}$"
        ),
    ),
    (
        "thanks",
        re.compile(
            rf"^(好的[，,]?)?(谢谢|多谢|感谢|谢了|谢谢你|谢谢您|麻烦你了|辛苦了|明白了|知道了|懂了|好的){_TAIL}$"
        ),
    ),
    ("goodbye", re.compile(rf"^(再见|拜拜|回头见|没事了|没有了|不用了){_TAIL}$")),
    (
        "identity",
        re.compile(
            rf"^(你是谁|你叫什么(名字)?|你是干什么的|你能做什么|你会什么|你有什么用|你是机器人|你是人吗){_TAIL}$"
        ),
    ),
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Classified:
    intent: Intent
    text: str
    """The message with control characters removed and whitespace collapsed."""


def clean(text: str) -> str:
    kept = "".join(ch for ch in text if ch in "\n\t " or unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())


def _looks_like_garbage(text: str) -> bool:
    meaningful = sum(
        1 for ch in text if ch.isalnum() or _CJK.match(ch) or ch in "，。？！、：；,.?!:;%（）() -"
    )
    return meaningful / max(len(text), 1) < 0.6 or "\ufffd" in text


def classify(text: str, max_chars: int) -> Classified:
    raw_control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t\r")
    cleaned = clean(text)
    if not cleaned:
        return Classified("empty", cleaned)
    if raw_control > 2 or _looks_like_garbage(cleaned):
        return Classified("garbage", cleaned)
    if len(cleaned) > max_chars:
        return Classified("too_long", cleaned)
    if not _CJK.search(cleaned):
        return Classified("foreign" if _LATIN_WORD.search(cleaned) else "garbage", cleaned)
    compact = cleaned.replace(" ", "")
    for intent, pattern in _SMALL_TALK:
        if pattern.match(compact):
            return Classified(intent, cleaned)
    return Classified("question", cleaned)
