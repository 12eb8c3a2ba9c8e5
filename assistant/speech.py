"""The answer written to be spoken: no citation marks, brackets or URLs; short sentences; the source named."""

from __future__ import annotations

import re

from assistant.checking import CITATION

_URL = re.compile(r"https?://\S+|www\.\S+")
_BRACKETS = re.compile(r"[【】\[\]《》<>「」『』]")
_TABLE_PAIR = re.compile(r"([^：；。，]{1,24})：([^；。]+)")


def _spoken_sentence(sentence: str) -> str:
    if "；" in sentence and sentence.count("：") >= 2:
        # A table row "医院级别：县级医院；起付线：500元" reads "医院级别是县级医院，起付线是500元".
        return "，".join(f"{name}是{value}" for name, value in _TABLE_PAIR.findall(sentence))
    return sentence


def to_speech(answer: str, source_titles: list[str] | None = None) -> str:
    text = _URL.sub("", CITATION.sub("", answer))
    sentences = [s for s in re.split(r"(?<=[。！？!?])", text) if s.strip()]
    spoken = []
    for sentence in sentences:
        body = sentence.rstrip("。！？!?")
        end = sentence[len(body) :] or "。"
        spoken.append(
            _spoken_sentence(body).replace("；", "。").replace("（", "，").replace("）", "，") + end
        )
    result = "".join(spoken)
    if source_titles:
        result += f"以上内容来自{'和'.join(dict.fromkeys(source_titles))}。"
    result = _BRACKETS.sub("", result)
    return re.sub(r"，{2,}", "，", result).replace("，。", "。")
