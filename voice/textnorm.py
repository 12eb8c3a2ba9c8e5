"""Chinese text normalisation before speech synthesis: numbers read the way a villager says them.

120元 -> 一百二十元, 1.5万元 -> 一点五万元, 85% -> 百分之八十五, 2024年3月15日 -> 二零二四年三月十五日,
3至5人 -> 三至五人, 0571-86201234 -> 零五七一，八六二零一二三四 (digit by digit), 10:30 -> 十点三十分.
"""

from __future__ import annotations

import re

import cn2an

_DIGITS = "零一二三四五六七八九"
_PHONE = re.compile(r"(?<!\d)(\d{3,4})-(\d{7,8})(?!\d)|(?<!\d)(1\d{10})(?!\d)")
# Service numbers (110, 12345, 96110) are read digit by digit only where they are dialled.
_SHORT_NUMBER = re.compile(r"(打|拨|拨打|电话|热线|致电|号码)([:：是为]?\s*)(\d{3,5})(?!\d)")
_YEAR = re.compile(r"(\d{4})年")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_TIME = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)")
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*[-~～—]\s*(\d+(?:\.\d+)?)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SYMBOLS = {"㎡": "平方米", "m²": "平方米", "km": "公里", "kg": "公斤", "GB": "G", "Mbps": "兆", "M": "兆"}
_ABBREVIATIONS = {
    "APP": "应用",
    "App": "应用",
    "app": "应用",
    "QX-": "QX ",
    "5G": "五G",
    "4G": "四G",
    "SOS": "S O S",
}


def digits(text: str) -> str:
    return "".join(_DIGITS[int(ch)] if ch.isdigit() else ch for ch in text)


def number(value: str) -> str:
    """A quantity in words: 120 -> 一百二十, 1.5 -> 一点五."""
    return str(cn2an.an2cn(value, "low"))


def _phone(match: re.Match[str]) -> str:
    area, local, mobile = match.groups()
    return digits(mobile) if mobile else f"{digits(area)}，{digits(local)}"


def normalize_for_speech(text: str) -> str:
    for symbol, word in _ABBREVIATIONS.items():
        text = text.replace(symbol, word)
    text = _PHONE.sub(_phone, text)
    text = _SHORT_NUMBER.sub(lambda m: f"{m.group(1)}{m.group(2)}{digits(m.group(3))}", text)
    text = _YEAR.sub(lambda m: f"{digits(m.group(1))}年", text)
    text = _PERCENT.sub(lambda m: f"百分之{number(m.group(1))}", text)
    text = _TIME.sub(
        lambda m: f"{number(m.group(1))}点" + (f"{number(m.group(2))}分" if m.group(2) != "00" else ""), text
    )
    text = _RANGE.sub(lambda m: f"{number(m.group(1))}至{number(m.group(2))}", text)
    text = _NUMBER.sub(lambda m: number(m.group(0)), text)
    for symbol, word in _SYMBOLS.items():
        text = re.sub(rf"(?<=[零一二三四五六七八九十百千万亿点两]){re.escape(symbol)}", word, text)
    return text
