"""Asking a spoken question back when unsure (issue 16).

A person who mishears asks back. When a spoken question's understanding is uncertain (the answer would
be refused, its confidence is low, it names words no document uses, or the recognition hypotheses read
it in ways that find different passages), the assistant does not answer or refuse blindly: it offers the
two or three most likely readings, in the documents' terms (您是想问：1. 宅基地审批要多长时间？ 2. …？),
and the villager chooses by tapping (page), by saying 第一个 / 对 / 不是 (voice), or by replying 1 / 2
(WeChat). The chosen reading is answered in the same session. Typed questions are never asked back.

The offer waits in `confirmations.sqlite3` in the data home (shared by workers) for `confirm_ttl_s`; a
message that is not a choice drops it and is answered as a new question.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.answer import Answer, HeardReading
from assistant.config import AssistantSettings
from assistant.hypotheses import Alternative, phrase_with
from assistant.normalize import synonyms
from assistant.pipeline import Assistant
from assistant.sessions import Turn
from assistant.speech import to_speech
from ground.sqlite import open_database, write_transaction

MAX_READINGS = 3
NOT_MEANT = "好的，是我没听清。请您再说一遍，说慢一点，或者打字问我。"
_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "1": 1, "2": 2, "3": 3}
_CHOICE = re.compile(r"^(?:选|是|要)?(?:第)?([一二两三123])(?:个|条|种|号)?(?:吧|啊|呀|的|问题)?$")
_YES = {
    "对",
    "对的",
    "是",
    "是的",
    "嗯",
    "嗯嗯",
    "没错",
    "对对",
    "对对对",
    "就是",
    "是这个",
    "好",
    "好的",
    "对呀",
    "对啊",
}
_NO = {"不是", "不对", "都不是", "都不对", "没有", "错了", "不是的", "不", "不要", "都不"}
_PUNCTUATION = re.compile(r"[\s，。！？、,.!?~～…“”\"'：:]+")

Choice = int | Literal["no"] | None


def parse_choice(text: str, offered: int) -> Choice:
    """1-based reading chosen by a reply (1, 第一个, 对 = the first when only one was offered, 二), "no"
    for 不是, or None when the reply is not an answer to the offer (a new question)."""
    said = _PUNCTUATION.sub("", text)
    if said in _NO:
        return "no"
    if said in _YES:
        return 1 if offered >= 1 else None
    match = _CHOICE.match(said)
    if match:
        n = _ORDINALS[match.group(1)]
        return n if n <= offered else None
    return None


@dataclass(frozen=True)
class Offer:
    question: str
    """What was heard (the transcript)."""
    readings: list[str]
    at: float


class Offers:
    """The readings last offered to each session."""

    def __init__(self, path: Path, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._db = open_database(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS offers (session TEXT PRIMARY KEY, at REAL NOT NULL,"
            " question TEXT NOT NULL, readings TEXT NOT NULL)"
        )

    def close(self) -> None:
        self._db.close()

    def put(self, session: str, question: str, readings: Sequence[str]) -> None:
        with write_transaction(self._db, self._lock) as db:
            db.execute(
                "INSERT OR REPLACE INTO offers VALUES (?, ?, ?, ?)",
                (session, time.time(), question, json.dumps(list(readings), ensure_ascii=False)),
            )

    def get(self, session: str) -> Offer | None:
        with self._lock:
            row = self._db.execute(
                "SELECT question, readings, at FROM offers WHERE session = ? AND at >= ?",
                (session, time.time() - self.ttl_s),
            ).fetchone()
        return Offer(row[0], json.loads(row[1]), row[2]) if row else None

    def drop(self, session: str) -> None:
        with write_transaction(self._db, self._lock) as db:
            db.execute("DELETE FROM offers WHERE session = ? OR at < ?", (session, time.time() - self.ttl_s))


def in_document_terms(text: str) -> str:
    """新农合一年交多少钱 -> 城乡居民医保一年交多少钱: a reading as the documents phrase it."""
    for synonym in synonyms():
        if synonym.term in text and synonym.document_term not in text:
            text = text.replace(synonym.term, synonym.document_term)
    return text


def _as_question(text: str) -> str:
    text = in_document_terms(text.strip()).rstrip("？?。.！!")
    return f"{text}？"


def offered_readings(answer: Answer) -> list[HeardReading]:
    """What to offer, best first, at most three, each about a different document: the readings of the
    hypotheses (each with the document it finds first), then the fused ranking's next documents with
    the best reading. Each is phrased with the words of its document's passages (`phrase_with`), so a
    misheard word the document uses comes back as the document writes it."""
    best = answer.readings[0].question if answer.readings else answer.standalone_question
    candidates = list(answer.readings)
    candidates += [
        HeardReading(question=best, weight=0.0, title=p.title, source=p.source, chunk_id=p.chunk_id)
        for p in answer.passages
    ]
    kept: list[HeardReading] = []
    for reading in candidates:
        source = reading.source
        texts = [f"{p.title}\n{p.text}" for p in answer.passages if p.source == source]
        phrased = _as_question(phrase_with(reading.question, texts))
        same = next((n for n, k in enumerate(kept) if k.source == source), None)
        if same is not None and reading.slip and not kept[same].slip and reading.weight > 0:
            # 必保 and the 低保 put back both find the 低保 notice: offered in the notice's word.
            kept[same] = kept[same].model_copy(update={"question": phrased})
        if not source or same is not None:
            continue
        kept.append(reading.model_copy(update={"question": phrased}))
        if len(kept) == MAX_READINGS:
            break
    return kept


def unsure(answer: Answer, settings: AssistantSettings) -> bool:
    """Whether a spoken question's understanding is uncertain enough to ask back."""
    if answer.kind not in ("answer", "refusal"):
        return False
    readings = answer.readings
    disagree = (
        len(readings) > 1
        and readings[1].weight >= 0.25
        and readings[1].chunk_id != readings[0].chunk_id
        and readings[1].title != readings[0].title
    )
    # A word no document uses that is a documents' word with its first sound clipped (逼保: 低保 or
    # 医保?) decides what is asked about: answering the rest of the question (申请条件) answers
    # another subject's.
    clipped = bool(readings) and not readings[0].slip and any(r.slip for r in readings[1:])
    # Measured on the spoken golden set (benchmarks/spoken_success.py): asking back answered questions
    # of confidence .4-.6 lost more right answers than it saved, and so did unknown words alone.
    return answer.refused or answer.confidence < settings.asr_confirm_below or disagree or clipped


def confirmation_text(readings: Sequence[str], titles: Sequence[str] = ()) -> str:
    """您是想问：1. …？（《title》） 2. …？ and how to answer; the title of the document each reading
    finds tells readings apart even when the words were misheard."""
    named = [
        f"{_as_question(r)}（《{t}》）" if t else _as_question(r)
        for r, t in zip(readings, [*titles, *[""] * len(readings)], strict=False)
    ]
    options = " ".join(f"{n}. {r}" for n, r in enumerate(named, start=1))
    if len(readings) == 1:
        return f"您是想问：{options} 是的话请说“对”或回复1，不是请说“不是”。"
    return f"您是想问：{options} 请说“第一个”“第二个”或回复序号；都不是请说“不是”。"


class Confirmer:
    """The assistant with asking back: `ask` is `Assistant.ask` plus the offer and its answer."""

    def __init__(self, assistant: Assistant, settings: AssistantSettings | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings
        self.offers = Offers(self.settings.home / "confirmations.sqlite3", self.settings.confirm_ttl_s)
        self.enabled = self.settings.asr_confirm
        """Ask back at all (off: spoken questions are answered as before, offers still resolved)."""

    def close(self) -> None:
        self.offers.close()

    def resolve(
        self, message: str, session_id: str | None, alternatives: Sequence[tuple[str, float]] | None = None
    ) -> str | Answer | None:
        """A message answering the session's offer: the chosen reading to ask (its document's title
        first), the reply to 不是, or None (no offer, or the message is a new question; the offer is
        dropped either way)."""
        offer = self.offers.get(session_id) if session_id is not None else None
        if offer is None or session_id is None:
            return None
        said = [message, *(text for text, _ in alternatives or ())]
        choice = next((c for c in (parse_choice(s, len(offer.readings)) for s in said) if c), None)
        self.offers.drop(session_id)
        if choice == "no":
            return self._not_meant(message, session_id)
        return offer.readings[choice - 1] if isinstance(choice, int) else None

    def ask(
        self,
        question: str,
        session_id: str | None = None,
        *,
        spoken: bool = False,
        alternatives: Sequence[tuple[str, float]] | None = None,
    ) -> Answer:
        resolved = self.resolve(question, session_id, alternatives)
        if isinstance(resolved, Answer):
            return resolved
        if resolved is not None:
            # The villager said which: answer that reading, searched as heard (pinyin too).
            return self.assistant.ask(resolved, session_id, spoken=True)
        heard = [Alternative(text, score) for text, score in alternatives or ()]
        if not spoken or not self.enabled:
            return self.assistant.ask(question, session_id, spoken=spoken, alternatives=heard or None)
        session = session_id or self.assistant.sessions_id()
        answer = self.assistant.ask(
            question, session, spoken=True, alternatives=heard or None, remember=False
        )
        readings = offered_readings(answer)
        if not readings or not unsure(answer, self.settings):
            self.assistant.remember(answer)
            return answer
        texts = [r.question for r in readings]
        # A chosen reading is asked as it is; one whose words an earlier offer already has is asked with
        # its document's title, so that choosing it does find that document.
        asked = [
            f"{r.title}：{r.question}" if r.question in texts[:n] else r.question
            for n, r in enumerate(readings)
        ]
        self.offers.put(session, question, asked)
        text = confirmation_text(texts, [r.title for r in readings])
        return answer.model_copy(
            update={
                "answer": text,
                "speech": to_speech(text),
                "refused": False,
                "kind": "confirm",
                "citations": [],
                "readings": readings,
            }
        )

    def _not_meant(self, question: str, session_id: str) -> Answer:
        self.assistant.sessions.append(session_id, [Turn("user", question), Turn("assistant", NOT_MEANT)])
        return Answer(
            question=question,
            standalone_question=question,
            answer=NOT_MEANT,
            speech=NOT_MEANT,
            refused=True,
            kind="refusal",
            session_id=session_id,
        )
