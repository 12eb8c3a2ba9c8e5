"""Spoken questions on the real demo knowledge base: a misheard word is judged and repaired by the sound
of the documents' own words, a question heard right is answered as asked, and a topic the documents never
mention is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from evals.cases import load_cases
from knowledge.base import KnowledgeBase

GOLDEN = Path(__file__).resolve().parent.parent / "evals" / "demo_cases.jsonl"


@pytest.fixture
def assistant(demo_kb: KnowledgeBase, tmp_path: Path) -> Assistant:
    return Assistant(demo_kb.settings, knowledge_base=demo_kb, sessions=SessionStore(tmp_path / "s.sqlite3"))


def spoken_repair(assistant: Assistant, transcript: str) -> str:
    """Both repairs of a spoken question, in the pipeline's order: homophones, then sound-alikes."""
    return assistant.understanding.read(transcript, [], spoken=True).standalone


def test_a_correctly_heard_question_is_answered_as_asked(assistant: Assistant) -> None:
    # di bao mei ~ di bao hu: it used to become 低保户个月多少钱 and be answered about 大病保险.
    spoken = assistant.ask("低保每个月多少钱？", spoken=True)
    assert spoken.standalone_question == "低保每个月多少钱？"
    assert not spoken.refused and "880元" in spoken.answer


def test_spoken_repair_leaves_every_correctly_worded_golden_question_alone(assistant: Assistant) -> None:
    # The golden set's typos (低宝, 宅基第) and traditional characters are for the repairs to mend.
    questions = [case.question for case in load_cases(GOLDEN) if not {"typo", "traditional"} & set(case.tags)]
    assert len(questions) >= 15
    # Compared with the typed reading: 去年 becomes 2024年 either way, which is no repair.
    typed = {q: assistant.understanding.read(q, [], spoken=False).standalone for q in questions}
    assert {q: repaired for q in questions if (repaired := spoken_repair(assistant, q)) != typed[q]} == {}


def test_misheard_words_are_still_repaired(assistant: Assistant) -> None:
    assert spoken_repair(assistant, "新萌和今年一个人交多少钱？") == "新农合今年一个人交多少钱？"
    assert spoken_repair(assistant, "宅基第申请交上去多少天给批下来？") == "宅基地申请交上去多少天给批下来？"
    assert spoken_repair(assistant, "低宝户过年有没有慰问金？") == "低保户过年有没有慰问金？"
    assert spoken_repair(assistant, "看家摄像头的路向能存几天？") == "看家摄像头的录像能存几天？"
    assert spoken_repair(assistant, "手机上的一包卡咋弄出来？") == "手机上的医保卡咋弄出来？"
    # Whisper base on the offline voice (benchmarks/voice.py): 插扬 is no word, 扬 no word of the documents.
    assert spoken_repair(assistant, "请人用机器插扬,有补贴没有。") == "请人用机器插秧,有补贴没有。"
    assert spoken_repair(assistant, "手机上的衣宝卡咋弄出来") == "手机上的医保卡咋弄出来"


def test_a_misheard_word_is_taken_for_the_documents_word_it_sounds_like(assistant: Assistant) -> None:
    # Whisper heard 护理 (hu li) as 互利 (hu li): typed, it is a topic the documents never mention.
    heard = "俺家老汉是二级残疾，互利补贴一个月给多钱？"
    typed = assistant.ask(heard)
    assert typed.refused and typed.unknown_terms == ["互利"]

    spoken = assistant.ask(heard, spoken=True)
    assert not spoken.refused and spoken.unknown_terms == []
    assert "护理补贴" in spoken.standalone_question
    assert "二级每人每月100元" in spoken.answer


def test_a_topic_the_documents_never_mention_is_refused_when_spoken_too(assistant: Assistant) -> None:
    spoken = assistant.ask("俺家山上种的油茶，有油茶补贴没？", spoken=True)
    assert spoken.refused and spoken.unknown_terms == ["油茶"]
    # It may only have been misheard: the refusal asks to say it again, and still gives the hand-off.
    assert (
        "没有找到" in spoken.answer
        and "请再说一遍" in spoken.answer
        and assistant.settings.handoff in spoken.answer
    )
    assert "请再说一遍" in spoken.speech


def test_a_typed_refusal_does_not_ask_to_say_it_again(assistant: Assistant) -> None:
    typed = assistant.ask("俺家山上种的油茶，有油茶补贴没？")
    assert typed.refused and "没有找到" in typed.answer and "请再说一遍" not in typed.answer
