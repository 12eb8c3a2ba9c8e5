"""The assistant's result types, as the API, WeChat and the evaluation harness receive them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AnswerKind = Literal[
    "answer", "refusal", "greeting", "thanks", "goodbye", "identity", "invalid", "foreign", "confirm"
]
"""`confirm` (issue 16): a spoken question asked back, its readings in `Answer.readings`."""


class Citation(BaseModel):
    number: int = Field(description="The [n] mark used in the answer text.")
    chunk_id: str
    source: str = Field(description="Document path relative to the ingested folder.")
    title: str
    section: str
    quote: str = Field(description="The passage text the answer was taken from.")


class Passage(BaseModel):
    """A retrieved passage, with its retrieval scores."""

    chunk_id: str
    source: str
    title: str
    section: str
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    region: str = ""
    valid_from: str = ""
    valid_to: str = ""


class HeardReading(BaseModel):
    """One way a spoken question can be understood (issue 16: every recognition hypothesis is searched)."""

    question: str = Field(description="The reading, in the documents' terms.")
    weight: float = Field(description="Share of the recognition hypotheses behind it (0-1).")
    title: str = Field(default="", description="Title of the passage it finds first.")
    source: str = Field(default="", description="Document of the passage it finds first.")
    chunk_id: str = ""
    slip: bool = Field(
        default=False,
        description="Not heard as such: a word of the documents put back where the first sound was clipped.",
    )


class Answer(BaseModel):
    question: str
    standalone_question: str = Field(description="The question rewritten to stand alone (follow-ups).")
    answer: str = Field(description="Display text with [n] citation marks.")
    speech: str = Field(
        description="The same answer written to be spoken: no marks, no URLs, short sentences."
    )
    refused: bool
    kind: AnswerKind
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    session_id: str
    composer: str = ""
    coverage: float = Field(default=0.0, description="How much of the question the evidence covers (0-1).")
    confidence: float = Field(
        default=0.0,
        description="How sure the assistant is that the passages answer the question (0-1); below"
        " XIANGYIN_MIN_CONFIDENCE (by default the threshold fitted with the model) it refuses.",
    )
    signals: dict[str, float] = Field(
        default_factory=dict, description="What the confidence was computed from (assistant/confidence.py)."
    )
    unknown_terms: list[str] = Field(
        default_factory=list, description="Topic words of the question that no document mentions."
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    readings: list[HeardReading] = Field(
        default_factory=list,
        description="Spoken questions: the ways it could be understood, the one answered first (issue 16).",
    )
