"""Chinese text normalisation before speech synthesis: numbers read the way a villager says them.

120元 -> 一百二十元, 1.5万元 -> 一点五万元, 85% -> 百分之八十五, 2024年3月15日 -> 二零二四年三月十五日,
3至5人 -> 三至五人, 0571-86201234 -> 零五七一，八六二零一二三四 (digit by digit), 10:30 -> 十点三十分.
Identifiers are read digit by digit too: 身份证号110101199003074512, 11010119900307451X (X as 叉),
6222 0212 3456 7890.

Any text goes in (the speech route reads what a client sends): control characters are dropped and no
number can make the normalisation fail.
"""

from __future__ import annotations

import re
import unicodedata

import cn2an

_DIGITS = "零一二三四五六七八九"
_SPOKEN_DIGITS = str.maketrans("0123456789", _DIGITS)
# A quantity of ten digits or more (a billion and up) is written with 亿 in Chinese text; such a run of
# digits is an identifier (ID card, bank card, account or order number), and cn2an stops at 16 digits.
_LONGEST_QUANTITY = 9
# The check character X of an ID card number is said 叉 (some voices drop Latin letters altogether).
_ID_CARD = re.compile(r"(?<![\d.])(\d{17})[Xx](?![A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(\d{3,4})-(\d{7,8})(?!\d)|(?<!\d)(1\d{10})(?!\d)")
# Bank cards and account numbers are printed in groups: 6222 0212 3456 7890 123, 6222-0212-3456-7890.
_GROUPED = re.compile(r"(?<![\d.])\d{3,6}(?:[ -]\d{3,6}){2,}(?![\d.])")
# Service numbers (110, 12345, 96110) are read digit by digit only where they are dialled.
_SHORT_NUMBER = re.compile(r"(打|拨|拨打|电话|热线|致电|号码)([:：是为]?\s*)(\d{3,5})(?!\d)")
_YEAR = re.compile(r"(\d{4})年")
# 2024-03-15, 2024/3/15, 2024.03.15: a date, not the range 2024 to 3.
_DATE = re.compile(r"(?<![\d.])(\d{4})([-/.])(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])(?![\d.])")
# Every pattern that starts with digits starts at the first digit of a run: a long run of digits then
# costs one attempt, not one per digit.
_PERCENT = re.compile(r"(?<!\d)(\d+(?:\.\d+)?)\s*%")
_TIME = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)")
_RANGE = re.compile(r"(?<!\d)(\d+(?:\.\d+)?)\s*[-~～—]\s*(\d+(?:\.\d+)?)")
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
    return text.translate(_SPOKEN_DIGITS)


def number(value: str) -> str:
    """A quantity in words: 120 -> 一百二十, 1.5 -> 一点五; an identifier-long one digit by digit."""
    whole, _, fraction = value.partition(".")
    spoken = digits(whole) if len(whole) > _LONGEST_QUANTITY else str(cn2an.an2cn(whole, "low"))
    return f"{spoken}点{digits(fraction)}" if fraction else spoken


def speakable(text: str) -> str:
    """Without control, format and unassigned characters (NUL, zero-width spaces, lone surrogates), which
    no engine can speak and some cannot even receive; line breaks and tabs become spaces. Digits of any
    script become ASCII digits."""
    kept = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif ch.isdecimal():
            kept.append(str(unicodedata.decimal(ch)))
        elif not unicodedata.category(ch).startswith("C"):
            kept.append(ch)
    return "".join(kept)


def _phone(match: re.Match[str]) -> str:
    area, local, mobile = match.groups()
    return digits(mobile) if mobile else f"{digits(area)}，{digits(local)}"


def _grouped(match: re.Match[str]) -> str:
    groups = re.split(r"[ -]", match.group(0))
    if sum(len(group) for group in groups) <= _LONGEST_QUANTITY:
        return match.group(0)
    return "，".join(digits(group) for group in groups)


def normalize_for_speech(text: str) -> str:
    text = speakable(text)
    for symbol, word in _ABBREVIATIONS.items():
        text = text.replace(symbol, word)
    text = _ID_CARD.sub(lambda m: f"{digits(m.group(1))}叉", text)
    text = _DATE.sub(lambda m: f"{m.group(1)}年{int(m.group(3))}月{int(m.group(4))}日", text)
    text = _PHONE.sub(_phone, text)
    text = _GROUPED.sub(_grouped, text)
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
