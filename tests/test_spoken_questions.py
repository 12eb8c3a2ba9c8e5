"""Spoken questions on the real demo knowledge base: a misheard word is judged and repaired by the sound
of the documents' own words, while a topic the documents never mention is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase


@pytest.fixture
def assistant(demo_kb: KnowledgeBase, tmp_path: Path) -> Assistant:
    return Assistant(demo_kb.settings, knowledge_base=demo_kb, sessions=SessionStore(tmp_path / "s.sqlite3"))


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
