"""The live knowledge base as the harness's target: the officials' questions and runs are asked of it."""

from __future__ import annotations

from collections.abc import Sequence

from api.evaluation.schemas import RankedPassage
from api.services import Services
from assistant.pipeline import Assistant
from evals.cases import HistoryTurn
from evals.metrics import relevant
from evals.results import CaseResult
from evals.runner import InProcessTarget, Reply, memory_sessions


class LiveTarget(InProcessTarget):
    """The harness's in-process target over the live knowledge base, one question at a time with the
    villagers' questions (the answering lock), remembering its last reply for the try route."""

    def __init__(self, svc: Services) -> None:
        super().__init__(
            # Sessions of its own, in memory: cases carry their history, and must not mix with villagers'.
            Assistant(svc.assistant.settings, knowledge_base=svc.assistant.kb, sessions=memory_sessions())
        )
        self._lock = svc.answering_lock
        self.last: Reply | None = None

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply:
        with self._lock:
            self.last = super().ask(question, history, spoken)
        return self.last

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        with self._lock:
            return super().sources_loaded(sources)

    def close(self) -> None:
        # Only the sessions are the target's own: the knowledge base is the live one.
        self.assistant.sessions.close()


def ranked(result: CaseResult) -> list[RankedPassage]:
    """The ranking as the try route shows it, each passage marked by the measures' relevance rule."""
    judged = bool(result.case.evidence or result.case.sources)
    return [
        RankedPassage(
            rank=rank,
            source=p.source,
            title=p.title,
            section=p.section,
            text=p.text,
            score=p.score,
            relevant=relevant(result, p.text, p.source) if judged else None,
        )
        for rank, p in enumerate(result.ranking, start=1)
    ]
