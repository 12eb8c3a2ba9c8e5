from __future__ import annotations

import pytest

from assistant.intents import classify


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("问" * 10_000, "too_long"),
        ("\x00\x01\x02\x03\xff\xfe垃圾\x07", "garbage"),
        ("\ufffd\ufffd\ufffd\ufffd", "garbage"),
        ("@@##$$%%^^&&**", "garbage"),
        ("How much is the grain subsidy?", "foreign"),
        ("zhong liang bu tie duo shao qian", "foreign"),
        ("你好", "greeting"),
        ("您好啊！", "greeting"),
        ("在吗？", "greeting"),
        ("谢谢你", "thanks"),
        ("好的，谢谢！", "thanks"),
        ("再见", "goodbye"),
        ("你是谁？", "identity"),
        ("种粮补贴每亩多少钱？", "question"),
        ("你好，种粮补贴每亩多少钱？", "question"),
        ("5G套餐多少钱", "question"),
    ],
)
def test_classify(text: str, intent: str) -> None:
    assert classify(text, max_chars=200).intent == intent


def test_control_characters_are_cleaned_from_questions() -> None:
    result = classify("低保\u200b标准\t是 多少", max_chars=200)
    assert result.intent == "question"
    assert result.text == "低保标准 是 多少"
