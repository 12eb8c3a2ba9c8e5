"""The composer interface: numbered evidence in, a drafted answer with [n] citation marks out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.sessions import Turn
from knowledge.hybrid import SearchHit
from zhtext.sentences import split_sentences


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage offered to the composer as passage [number]."""

    number: int
    hit: SearchHit

    @property
    def text(self) -> str:
        return self.hit.chunk.text


@dataclass
class Draft:
    text: str
    """The answer with [n] marks; empty when the composer refuses."""
    cited: list[int] = field(default_factory=list)
    refused: bool = False
    coverage: float = 0.0
    """How much of the question the chosen evidence covers (0-1): the answer-evidence overlap."""
    composer: str = ""
    note: str = ""
    """Why a draft was refused or replaced (for logs and the JSON answer, never shown as an error)."""


class Composer(Protocol):
    """`question` is the standalone (rewritten) question; `history` the earlier turns of the
    conversation, for composers that word follow-ups with it."""

    name: str

    def compose(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft: ...

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()
    ) -> Iterator[str | Draft]:
        """Text pieces as they are produced, then exactly one final Draft (what compose returns)."""
        ...


def stream_by_sentence(draft: Draft) -> Iterator[str | Draft]:
    """`Composer.stream` for composers that produce the whole answer at once: one piece per sentence."""
    yield from split_sentences(draft.text)
    yield draft
