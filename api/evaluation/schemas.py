"""The evaluation API's bodies: a case as an official types it, what a tried question returns, a run."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.answer import Answer
from evals.results import CaseScores, Problem, Summary

_TEXT = 2000  # the chat route's limit: a case may hold any question the chat route accepts


class CaseDraft(BaseModel):
    """A question and what a correct answer must contain, as an official types it."""

    # As in case files: a misspelt field is an error, not an expectation silently dropped.
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1, max_length=_TEXT, pattern=r"\S", description="The question, as a villager asks it."
    )
    answer: str | None = Field(default=None, max_length=_TEXT, description="The reference answer.")
    answer_keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20, description="Words a correct answer must contain."
    )
    evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=10, description="Text the right passage contains."
    )
    sources: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=10, description="Documents the answer should come from."
    )
    should_refuse: bool = Field(default=False, description="The documents do not answer it.")
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=10
    )

    @property
    def expects(self) -> bool:
        """Whether there is anything to score the answer against."""
        return bool(
            self.answer or self.answer_keywords or self.evidence or self.sources or self.should_refuse
        )

    def record(self, case_id: str) -> dict[str, object]:
        fields = self.model_dump(exclude_defaults=True)
        if self.answer is not None and not self.answer.strip():
            fields.pop("answer")
        return {"id": case_id, **fields}


class NewCase(CaseDraft):
    id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[\w\u4e00-\u9fff.-]+$",
        description="The case's id; one is made up when it is left out.",
    )


class RankedPassage(BaseModel):
    rank: int
    source: str
    title: str
    section: str
    text: str
    score: float
    relevant: bool | None = Field(description="Matches the expected evidence or sources; null if none given.")


class TryResult(BaseModel):
    """What the assistant said to a tried question, and why."""

    answer: Answer = Field(description="The assistant's answer with its citations and passages (scores).")
    ranking: list[RankedPassage] = Field(description="Retrieval's ranked list (up to 10), with scores.")
    scores: CaseScores | None = Field(description="The harness's measures; null without expectations.")
    passed: bool | None = Field(description="Whether the case would pass; null without expectations.")
    problem: Problem | None = None


RunStateName = Literal["queued", "running", "done", "failed"]


class RunState(BaseModel):
    id: str
    state: RunStateName
    done: int = 0
    total: int = 0
    cases: int = Field(description="Saved cases when the run started.")
    error: str = ""
    created: float
    finished: float | None = None
    summary: Summary | None = Field(default=None, description="The headline numbers, once done.")


class Deleted(BaseModel):
    deleted: str
