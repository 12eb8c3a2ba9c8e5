"""How the assistant reads a question, and the one place that makes a transcript answerable.

A typed question is rewritten to stand alone (a follow-up takes its topic from the earlier turns) and
put in the documents' terms. A transcript of speech is repaired on the way, against what the knowledge
base says:
- homophones of policy words (新萌和 -> 新农合: `assistant.homophones`), before the follow-up rewrite;
- words the documents never use that sound like one they do (互利补贴 -> 护理补贴:
  `knowledge.soundalike`), on the standalone question;
- 去年 and 前年 become the years they mean in the documents' calendar (`assistant.relative_years`), for
  typed and spoken questions alike;
- an unknown word that sounds like the documents' words is taken as misheard, not as a topic the
  documents do not cover (`misheard`);
- among Whisper's beam hypotheses, the one most in the documents' words is preferred (`known_share`,
  handed to `voice.recognition.SpeechRecognizer` as its preference).
Whisper's own slips that need no knowledge base (低饱 -> 低保) are mended as it writes, in
`voice/data/corrections.tsv`, so every user of speech recognition sees them mended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from assistant.followup import rewrite
from assistant.homophones import HomophoneRepair
from assistant.intents import classify
from assistant.normalize import mend_typos, normalize_question, synonyms
from assistant.relative_years import RelativeYears
from assistant.sessions import Turn
from knowledge.catalog import Catalog
from knowledge.lexical import pos_tagger, stopwords
from knowledge.soundalike import SoundAlikes

_OPENING = re.compile(r"^(?:[\s，,。.、？?！!：:“”\"']|嗯|啊|呃|那个)*")
"""What may come before a question's first word: spaces, marks and fillers (那个, never 个 of 个人)."""


@dataclass(frozen=True)
class Understood:
    """A question as the assistant understands it."""

    cleaned: str
    """As asked (a transcript with its homophones repaired)."""
    standalone: str
    """Rewritten to stand alone; what the composer answers."""
    query: str
    """The standalone question in the documents' terms; what retrieval searches."""


def earlier_questions(history: Sequence[Turn]) -> list[str]:
    """The standalone questions of a conversation's earlier turns, which a follow-up builds on."""
    return [t.standalone for t in history if t.role == "user" and t.standalone]


class Understanding:
    def __init__(self, catalog: Catalog, max_question_chars: int) -> None:
        self._catalog = catalog
        self._max_question_chars = max_question_chars

    @cached_property
    def relative_years(self) -> RelativeYears:
        catalog = self._catalog
        return RelativeYears(lambda: (d.valid_from for d in catalog.documents()), catalog.generation)

    @cached_property
    def sound_alikes(self) -> SoundAlikes:
        return SoundAlikes(self._catalog)

    @cached_property
    def homophones(self) -> HomophoneRepair:
        terms = [w for s in synonyms() for w in (s.term, s.document_term)]
        catalog = self._catalog
        return HomophoneRepair(terms, lambda text: catalog.token_counts([text])[text] > 0)

    def read(self, cleaned: str, history: Sequence[Turn], spoken: bool) -> Understood:
        """`cleaned`: the question as `assistant.intents.classify` cleaned it; `history`: the
        conversation's earlier turns."""
        if spoken:
            cleaned = self.homophones.repair(cleaned)
        standalone = mend_typos(rewrite(cleaned, earlier_questions(history)))
        if spoken:
            standalone = self.sound_alikes.repair(standalone)
        standalone = self.relative_years.resolve(standalone)
        return Understood(cleaned, standalone, normalize_question(standalone))

    def hypothesis(self, transcript: str, history: Sequence[Turn]) -> Understood:
        """One hypothesis of speech recognition, read as a spoken question."""
        return self.read(classify(transcript, self._max_question_chars).text, history, spoken=True)

    def misheard(self, word: str) -> bool:
        """Whether a word the documents never use sounds like words they do (相李: 县里 or 相邻?)."""
        return bool(self.sound_alikes.of(word))

    def slips(self, transcript: str, min_chunks: int, limit: int = 3) -> list[str]:
        """The transcript as it reads with its opening word, one the documents never use, put back as a
        word of theirs that differs by its first syllable's initial consonant (逼保的申请条件 ->
        低保的申请条件, 医保的申请条件): Whisper's reading of a question whose first sound the talk button
        clipped. Only the opening 2-3 characters, whole tokens the documents do not use and no number
        with its measure, and only after the repairs of `read` (低宝 is 低保)."""
        transcript = self.sound_alikes.repair(self.homophones.repair(transcript))
        opening = _OPENING.match(transcript).end()  # type: ignore[union-attr]
        pieces = [(p.word, p.flag) for p in pos_tagger().cut(transcript[opening:], HMM=False)]
        grammatical = stopwords()
        variants: list[str] = []
        end = opening
        for last, (word, flag) in enumerate(pieces):
            if len(word) > 1 and self.sound_alikes.knows(word):
                break
            end += len(word)
            stretch = transcript[opening:end]
            if len(stretch) > 3:
                break
            words = [w for w, _ in pieces[: last + 1]]
            if len(stretch) < 2 or flag in ("q", "m") or all(w in grammatical for w in words):
                continue
            for meant in self.sound_alikes.initial_slips(stretch, min_chunks):
                variant = transcript[:opening] + meant + transcript[end:]
                if variant not in variants:
                    variants.append(variant)
        return variants[:limit]

    def known_share(self, transcript: str) -> float:
        """How much of a transcript is in the documents' words."""
        return self.sound_alikes.known_share(transcript)
