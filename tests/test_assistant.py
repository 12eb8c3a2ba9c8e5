"""The whole answer pipeline on the real demo knowledge base (real embedder, real Chroma, real SQLite)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import SimpleChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from assistant.events import Finished, Retrieved, Rewritten, TextDelta
from assistant.llm import LLMComposer
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from xiangyin.settings import Settings

HANDOFF = "请咨询桃源村村委会，电话0571-86300000。"


@pytest.fixture
def assistant(demo_kb: KnowledgeBase, tmp_path: Path) -> Iterator[Assistant]:
    settings = demo_kb.settings.model_copy(update={"home": tmp_path, "handoff": HANDOFF})
    yield Assistant(settings, knowledge_base=demo_kb, sessions=SessionStore(tmp_path / "sessions.sqlite3"))


def test_answer_names_its_source_with_exact_numbers(assistant: Assistant) -> None:
    answer = assistant.ask("2025年城乡居民医保个人一年交多少钱？")
    assert answer.kind == "answer" and not answer.refused
    assert "400元" in answer.answer
    assert re.search(r"\[\d\]", answer.answer)
    assert answer.citations and answer.citations[0].source.startswith("policy/medical-insurance")
    assert all(c.quote in {p.text for p in answer.passages} for c in answer.citations)
    assert len(answer.passages) == 5 and len({p.text for p in answer.passages}) == 5
    assert "[" not in answer.speech and "以上内容来自" in answer.speech
    assert {
        "classify",
        "rewrite",
        "retrieve",
        "select",
        "compose",
        "check",
        "total",
    } <= answer.timings_ms.keys()
    assert answer.composer == "extractive"
    again = json.loads(answer.model_dump_json())
    assert again["citations"][0]["number"] == answer.citations[0].number


def test_follow_up_in_a_session_is_understood(assistant: Assistant) -> None:
    first = assistant.ask("新农合一年交多少钱？", session_id="villager-1")
    assert "400元" in first.answer
    follow = assistant.ask("那什么时候交？", session_id="villager-1")
    assert "新农合" in follow.standalone_question
    assert "9月1日" in follow.answer
    other = assistant.ask("那什么时候交？", session_id="villager-2")
    assert other.standalone_question == "那什么时候交？"


@pytest.mark.parametrize(
    "question", ["想去日本看孙子，签证怎么办？", "俺家山上种的油茶，有油茶补贴没？一亩补多少？"]
)
def test_questions_the_documents_do_not_cover_are_refused_with_the_handoff(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert answer.refused and answer.kind == "refusal"
    assert HANDOFF in answer.answer and "没有找到" in answer.answer
    assert answer.citations == []


def test_unknown_topic_words_are_reported(assistant: Assistant) -> None:
    assert "油茶" in assistant.ask("油茶补贴一亩多少钱？").unknown_terms


def test_a_typo_or_an_everyday_word_is_no_unknown_topic(assistant: Assistant) -> None:
    # Judged on the question as mended (宅基第 -> 宅基地), and 花钱 / 咋弄 name no subject.
    typo = assistant.ask("宅基第退了给村里，一平米补多少钱？")
    assert typo.unknown_terms == [] and not typo.refused and "100元至300元" in typo.answer
    assert assistant.ask("俺自己花钱考了个电工中级证，能补多少钱？").unknown_terms == []
    assert assistant.ask("手机上的医保卡咋弄出来？").unknown_terms == []


def test_last_years_payment_is_answered_from_last_years_report(assistant: Assistant) -> None:
    # The demo's newest documents take effect in 2025: 去年 is 2024, whose report says 105元 (2025: 110元).
    answer = assistant.ask("去年的种地补贴一亩是多少钱？")
    assert answer.standalone_question.startswith("2024年")
    assert not answer.refused and "105元" in answer.answer


def test_a_year_the_documents_do_not_cover_is_refused_not_answered_with_another_year(
    assistant: Assistant,
) -> None:
    covered = assistant.ask("2025年居民医保个人缴费多少钱？")
    assert not covered.refused and "400元" in covered.answer
    answer = assistant.ask("2030年居民医保个人缴费多少钱？")
    assert answer.refused and "2030年" in answer.unknown_terms


def test_a_model_number_the_documents_do_not_know_is_refused(assistant: Assistant) -> None:
    assert not assistant.ask("乡音守护W2手表多少钱？").refused
    answer = assistant.ask("乡音守护W3手表多少钱？")
    assert answer.refused and "w3" in answer.unknown_terms


@pytest.mark.parametrize(
    ("message", "kind", "text"),
    [
        ("你好", "greeting", "我是小音"),
        ("谢谢！", "thanks", "不客气"),
        ("", "invalid", "请说出或输入"),
        ("   ", "invalid", "请说出或输入"),
        ("宅" * 10_000, "invalid", "不超过200个字"),
        ("\x00\x13\x7f\xff\x01\x02\x03", "invalid", "没看懂"),
        ("How much is the grain subsidy?", "foreign", "只能用中文"),
        ("zhong liang bu tie", "foreign", "只能用中文"),
    ],
)
def test_small_talk_and_bad_input_get_short_chinese_replies(
    assistant: Assistant, message: str, kind: str, text: str
) -> None:
    answer = assistant.ask(message)
    assert answer.kind == kind
    assert text in answer.answer
    assert answer.passages == [] and "retrieve" not in answer.timings_ms


class _CitingModel(SimpleChatModel):
    """A fake model that answers from the passage holding `fact`, citing it like a good model would."""

    fact: str

    @property
    def _llm_type(self) -> str:
        return "citing-fake"

    def _call(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> str:
        prompt = str(messages[-1].content)
        number = next(m.group(1) for m in re.finditer(r"\[(\d+)\][^\[]*", prompt) if self.fact in m.group(0))
        return f"个人缴费{self.fact}[{number}]。"


def _with_model(assistant: Assistant, model: Any) -> Assistant:
    return Assistant(
        assistant.settings,
        knowledge_base=assistant.kb,
        composer=LLMComposer(model),
        sessions=assistant.sessions,
    )


def test_llm_answer_that_passes_the_check_is_used(assistant: Assistant) -> None:
    answer = _with_model(assistant, _CitingModel(fact="每人每年400元")).ask(
        "2025年居民医保个人缴费标准是多少？"
    )
    assert answer.composer == "llm"
    assert answer.answer.startswith("个人缴费每人每年400元[")


def test_llm_answer_with_an_invented_number_falls_back_to_extractive(assistant: Assistant) -> None:
    model = FakeListChatModel(responses=["个人缴费每人每年450元[1]。"])
    answer = _with_model(assistant, model).ask("2025年居民医保个人缴费标准是多少？")
    assert answer.composer == "extractive (fallback from llm)"
    assert "450" not in answer.answer and "400元" in answer.answer


def test_llm_answer_citing_a_passage_that_was_not_retrieved_falls_back(assistant: Assistant) -> None:
    model = FakeListChatModel(responses=["个人缴费每人每年400元[9]。"])
    answer = _with_model(assistant, model).ask("2025年居民医保个人缴费标准是多少？")
    assert answer.composer.startswith("extractive")
    assert "[9]" not in answer.answer


def test_llm_that_finds_nothing_leads_to_a_refusal(assistant: Assistant) -> None:
    model = FakeListChatModel(responses=["资料中没有相关内容。"])
    answer = _with_model(assistant, model).ask("2025年居民医保个人缴费标准是多少？")
    assert answer.refused and answer.kind == "refusal"


def test_llm_prompt_numbers_the_passages_and_forbids_outside_knowledge(assistant: Assistant) -> None:
    seen: list[str] = []

    class Recording(FakeListChatModel):
        def _call(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
        ) -> str:
            seen.extend(str(m.content) for m in messages)
            return super()._call(messages, stop, run_manager, **kwargs)

    _with_model(assistant, Recording(responses=["资料中没有相关内容。"])).ask("低保标准是多少？")
    system, human = seen
    assert "只能根据" in system and "资料中没有相关内容" in system and "不要执行" in system
    assert human.startswith("资料：\n[1] 《") and human.endswith("问题：低保标准是多少？")


def test_settings_default_composer_is_extractive(tmp_path: Path) -> None:
    assert Settings(home=tmp_path).composer == "extractive"


def test_stream_yields_question_sources_text_then_the_same_answer_as_ask(assistant: Assistant) -> None:
    events = list(assistant.stream("2025年城乡居民医保个人一年交多少钱？", session_id="s-stream"))
    assert isinstance(events[0], Rewritten) and events[0].session_id == "s-stream"
    assert isinstance(events[1], Retrieved) and len(events[1].passages) == 5
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    final = events[-1]
    assert isinstance(final, Finished) and not final.replaced
    assert "".join(deltas) == final.answer.answer and "400元" in final.answer.answer
    assert len(deltas) >= 1 and all(isinstance(e, TextDelta) for e in events[2:-1])
    typed = assistant.ask("2025年城乡居民医保个人一年交多少钱？")
    assert typed.answer == final.answer.answer
    assert {"compose", "check", "total"} <= final.answer.timings_ms.keys()
    # The streamed turn is remembered like an asked one: a follow-up is understood.
    follow = assistant.ask("那什么时候交？", session_id="s-stream")
    assert "9月1日" in follow.answer


@pytest.mark.parametrize(
    "question",
    [
        "2025年城乡居民医保个人一年交多少钱？",  # answered
        "你好",  # small talk: leaves at classify
        "2026年的低保标准是多少？",  # refused by the screen: a year no passage names
        "俺家山上种的油茶，有油茶补贴没？一亩补多少？",  # refused by the check: 油茶 is in no document
    ],
)
def test_ask_and_stream_run_the_same_stages(assistant: Assistant, question: str) -> None:
    """One list of stages: an answer, small talk and refusals (by the screen, by the check) come out
    the same either way, each stage timed under one name."""
    asked = assistant.ask(question)
    streamed = list(assistant.stream(question))[-1]
    assert isinstance(streamed, Finished)
    assert (streamed.answer.kind, streamed.answer.answer) == (asked.kind, asked.answer)
    assert streamed.answer.timings_ms.keys() == asked.timings_ms.keys()
    ran = [name for name in asked.timings_ms if name != "total"]
    assert ran == [s.name for s in assistant.stages if s.timed][: len(ran)]
    if asked.kind == "refusal":
        assert asked.refused and streamed.answer.refused


def test_stream_of_small_talk_sends_the_reply_as_one_piece(assistant: Assistant) -> None:
    events = list(assistant.stream("你好"))
    assert [type(e) for e in events] == [Rewritten, TextDelta, Finished]
    final = events[-1]
    assert isinstance(final, Finished) and final.answer.kind == "greeting"
    assert events[1] == TextDelta(final.answer.answer)


def test_stream_marks_a_generated_answer_replaced_after_a_failed_check(assistant: Assistant) -> None:
    model = FakeListChatModel(responses=["个人缴费每人每年450元[1]。"])
    events = list(_with_model(assistant, model).stream("2025年居民医保个人缴费标准是多少？"))
    final = events[-1]
    assert isinstance(final, Finished) and final.replaced
    assert "450" in "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "400元" in final.answer.answer and final.answer.composer == "extractive (fallback from llm)"


def test_an_answer_stays_on_its_subject(assistant: Assistant) -> None:
    """低保的申请条件 was answered with the 低保 income condition and then two sentences about 宅基地
    applications that shared only the word 申请."""
    answer = assistant.ask("低保的申请条件是什么？")
    assert not answer.refused and "880元" in answer.answer
    assert "宅基地" not in answer.answer and "一户一宅" not in answer.answer
    assert {c.source for c in answer.citations} == {"policy/dibao-relief-2025.txt"}
    # Read big puts the 临时救助 standard (the section before 申请办理程序) into a passage: read around
    # the match, it is not a second answer.
    assert "临时救助" in " ".join(p.text for p in answer.passages)
    assert "10560" not in answer.answer and answer.answer.count("[") == 1


def test_the_assistant_reads_passages_but_judges_refusal_on_the_matched_chunks(
    assistant: Assistant, demo_kb: KnowledgeBase
) -> None:
    """Read big (the default) offers each matched chunk with its neighbours; whether to answer at all is
    decided on the best chunks alone, so it refuses exactly what the chunk-reading assistant refuses."""
    chunks_only = Assistant(
        assistant.settings.model_copy(update={"read_big": False}),
        knowledge_base=demo_kb,
        sessions=SessionStore(assistant.settings.home / "chunks.sqlite3"),
    )
    wide = assistant.ask("宅基地审批要多长时间？")
    narrow = chunks_only.ask("宅基地审批要多长时间？")
    assert sum(len(p.text) for p in wide.passages) > sum(len(p.text) for p in narrow.passages)
    root = Path(__file__).resolve().parent.parent / "evals"
    questions = [
        json.loads(line)["question"]
        for name in ("demo_nearmiss.jsonl", "demo_cases.jsonl")
        for line in (root / name).read_text(encoding="utf-8").splitlines()[:20]
        if line.strip()
    ]
    refused = [(q, assistant.ask(q).refused, chunks_only.ask(q).refused) for q in questions]
    assert [r for r in refused if r[1] != r[2]] == []
    assert any(r[1] for r in refused) and not all(r[1] for r in refused)


def test_a_fact_read_around_the_matched_chunks_answers_when_it_names_every_topic(
    assistant: Assistant,
) -> None:
    """去年的地力补贴是啥时候发到卡上的？ matches the 2024 report's table of standards; the payment dates
    stand in the rows after it (耕地地力保护补贴于2024年6月25日前全部发放到户), outside the chunks refusal
    is judged on. A sentence read around them that names every topic word itself answers."""
    answer = assistant.ask("去年的地力补贴是啥时候发到卡上的？")
    assert not answer.refused, answer.answer
    assert "6月25日" in answer.answer
    assert {c.source for c in answer.citations} == {"policy/grain-subsidy-2024-payment-report.md"}


def test_a_villagers_verb_and_object_is_found_said_apart(assistant: Assistant) -> None:
    """签合同 is a word no document holds, but the documents say it with words between (签订书面流转合同):
    the question is answered, not refused as naming something they do not cover."""
    answer = assistant.ask("地租给别人种，要不要签合同？")
    assert not answer.refused, answer.answer
    assert "书面" in answer.answer and "合同" in answer.answer
    assert "租金" not in answer.answer and "价款" not in answer.answer, "no sum was asked"


def test_a_price_is_read_from_the_table_rows_named_for_it(assistant: Assistant) -> None:
    """村里的宽带多少钱一个月 was answered with the 乡村惠民卡 at 19元, a phone plan whose row says 无宽带;
    the rows named for broadband (单宽带300M 40元, 单宽带500M 60元) are the answer, quoted whole."""
    answer = assistant.ask("村里的宽带多少钱一个月？")
    assert not answer.refused
    assert "单宽带300M" in answer.answer and "40" in answer.answer
    assert "单宽带500M" in answer.answer and "60" in answer.answer
    assert "乡村惠民卡" not in answer.answer


def test_the_newer_edition_of_a_yearly_page_answers(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Two saved web pages, each dated by its own date line, the same FAQ a year apart: the 2024 one
    ranks first, but the 2025 edition changed the 补贴标准 and answers; a sentence both say cites both."""
    docs = tmp_path / "pages"
    docs.mkdir()
    for year, standard, window in (
        ("2024", "105", "3月10日至3月31日到村委会"),
        ("2025", "110", "3月5日至3月25日在小程序"),
    ):
        (docs / f"p{year}.txt").write_text(
            f"{year}年耕地地力保护补贴问答\n日期：{year}-03-01\n"
            "问：耕地地力保护补贴怎么发？\n答：补贴资金通过社会保障卡直接发放到户，不得以现金发放。\n"
            f"问：耕地地力保护补贴标准是多少？\n答：补贴标准：每亩{standard}元。\n"
            f"问：{year}年什么时候申报？\n答：{year}年{window}申报。\n",
            encoding="utf-8",
        )
    ingest(kb, [docs])
    assert {d.source: d.valid_from for d in kb.documents()} == {
        "p2024.txt": "2024-03-01",
        "p2025.txt": "2025-03-01",
    }
    settings = kb.settings.model_copy(update={"home": tmp_path / "assistant"})
    assistant = Assistant(settings, knowledge_base=kb, sessions=SessionStore(tmp_path / "sessions.sqlite3"))
    standard = assistant.ask("耕地地力保护补贴标准是多少？")
    assert standard.answer.startswith("补贴标准：每亩110元"), standard.answer
    assert "105" not in standard.answer
    paid = assistant.ask("耕地地力保护补贴怎么发？")
    assert paid.answer.startswith("补贴资金通过社会保障卡直接发放到户，不得以现金发放[1][2]"), paid.answer
    assert {c.source for c in paid.citations} >= {"p2024.txt", "p2025.txt"}
