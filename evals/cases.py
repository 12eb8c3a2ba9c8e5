"""Golden cases: what villagers ask and what a correct answer must contain (JSONL, one case a line)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from assistant.sessions import Turn


class HistoryTurn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str


class Case(BaseModel):
    id: str
    question: str
    answer: str | None = None
    answer_keywords: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    should_refuse: bool = False
    tags: list[str] = Field(default_factory=list)
    history: list[HistoryTurn] = Field(default_factory=list)

    def turns(self) -> list[Turn]:
        """The earlier conversation as session turns (earlier user questions taken as standalone)."""
        return [Turn(t.role, t.content, t.content if t.role == "user" else "") for t in self.history]  # type: ignore[arg-type]


class CaseFileError(ValueError):
    """A case file that cannot be read; the message names the line."""


def load_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = Case.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise CaseFileError(f"{path}:{number}: {exc}") from exc
        if case.id in seen:
            raise CaseFileError(f"{path}:{number}: duplicate id {case.id}")
        seen.add(case.id)
        cases.append(case)
    return cases
