"""What `Assistant.stream` yields while it answers: the API turns each into a Server-Sent Event."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer import Answer, Passage


@dataclass(frozen=True)
class Rewritten:
    """The question as the assistant understood it (follow-ups rewritten to stand alone)."""

    standalone_question: str
    session_id: str


@dataclass(frozen=True)
class Retrieved:
    passages: list[Passage]


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer text as the composer produces it (may carry [n] marks)."""

    text: str


@dataclass(frozen=True)
class Finished:
    answer: Answer
    replaced: bool
    """The checked answer differs from the streamed text (a generated answer failed the check, or
    the evidence was too weak): clients must show `answer.answer` instead of what they received."""


AnswerEvent = Rewritten | Retrieved | TextDelta | Finished
