"""The answer pipeline: classify -> rewrite -> retrieve -> select -> screen -> announce -> compose -> check.

One list of stages over one `_State`, each timed into `Answer.timings_ms`, run by both `ask` and
`stream`: a stage may yield events (the understood question, the passages, pieces of the answer), which
`stream` passes on and `ask` drops. Small talk and unusable input leave at the first stage with a short
reply, a refusal at the stage that decides it; everything else is answered from the retrieved passages.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial

from assistant.answer import Answer, AnswerKind, Citation, HeardReading, Passage
from assistant.answerability import (
    about_something_else,
    answerable,
    conditions,
    holds_phone,
    misses_the_number,
    names_any,
    read_question,
    states_some,
    under_another_condition,
    without_names,
)
from assistant.checking import check
from assistant.composers import make_composer
from assistant.composing import Composer, Draft, Evidence
from assistant.confidence import Signals, model_for
from assistant.config import AssistantSettings
from assistant.events import AnswerEvent, Finished, Retrieved, Rewritten, TextDelta
from assistant.expiry import drop_expired
from assistant.extractive import ExtractiveComposer, sentences_in_context
from assistant.followup import topic_terms
from assistant.hypotheses import Alternative, Reading, fuse_readings
from assistant.intents import classify
from assistant.normalize import asked_words, raised_animal, synonym_names, synonyms
from assistant.policies import NOT_WHICH
from assistant.replies import reply
from assistant.sessions import SessionStorage, Turn, open_session_store
from assistant.speech import to_speech
from assistant.subject import about, subject
from assistant.understanding import Understanding
from assistant.unknown_words import named_things, unseen_names
from knowledge.base import KnowledgeBase
from knowledge.cases import other_cases_last
from knowledge.embeddings import embedder_id
from knowledge.hybrid import SearchHit
from zhtext.normalize import normalize_query

log = logging.getLogger(__name__)


@dataclass
class _State:
    question: str
    session_id: str
    history: list[Turn]
    spoken: bool = False
    """The question came from speech recognition (homophones are repaired)."""
    streaming: bool = False
    """The composer hands its answer on piece by piece (`Assistant.stream`)."""
    cleaned: str = ""
    standalone: str = ""
    query: str = ""
    hits: list[SearchHit] = field(default_factory=list)
    """What the composer reads: the matched chunks, or with read big the places around them."""
    screened: list[SearchHit] = field(default_factory=list)
    """What refusal is judged on: the best matched chunks alone, read big or not."""
    evidence: list[Evidence] = field(default_factory=list)
    draft: Draft | None = None
    unknown_terms: list[str] = field(default_factory=list)
    signals: Signals | None = None
    confidence: float = 0.0
    composer: str = ""
    reply_kind: AnswerKind | str | None = None
    """Set when the question is not answered from the documents (small talk, bad input, refusal)."""
    timings: dict[str, float] = field(default_factory=dict)
    expired_notice: str = ""
    """Said before a refusal when the best match was an expired document (assistant/expiry.py)."""
    # Issue 16: every hypothesis of speech recognition, and how each was read and what it found.
    alternatives: list[Alternative] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)


@dataclass(frozen=True)
class _Stage:
    name: str
    run: Callable[[_State], Iterable[AnswerEvent] | None]
    always: bool = False
    """Runs after an early reply too (the others are skipped once `reply_kind` is set)."""
    timed: bool = True


_YEAR = re.compile(r"(?<!\d)(20\d\d)(?=年)")
# A name in at least this share of the chunks is what the whole knowledge base is about (中国人民大学 in
# 63% of domainrag's; the next most common name of rgb-zh-dev's news, 中国, in 25%).
COLLECTION_SUBJECT_SHARE = 0.5
_CODE = re.compile(r"[a-z].*\d|\d.*[a-z]")
_CONTACT = re.compile(r"咨询|热线|联系|服务电话|办理电话")
# How many passages must hold a word before it is the documents' word rather than one they happen to use.
_DOCUMENTS_WORD = 3
_REPLY_KINDS = ("greeting", "thanks", "goodbye", "identity", "foreign", "refusal")


def _naming_all(
    question: str, hits: Sequence[SearchHit], matched: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """The sentences read around the matched chunks that name every topic word of the question
    themselves (or the documents' word for it), beside the matched chunks' own: the asked fact often
    stands in the matched chunk's next rows (耕地地力保护补贴于2024年6月25日前全部发放到户 after the
    table of standards). Sentences that only share the page would be words to match, not the fact."""
    topics = topic_terms(normalize_query(question))
    if not topics:
        return matched
    seen = {text for text, _, _ in matched}
    around = [
        (p.text, p.context, p.passage)
        for p in sentences_in_context([hit.chunk for hit in hits])
        if p.text not in seen and all(names_any([topic], [p.text]) for topic in topics)
    ]
    return [*matched, *around]


def _passage(hit: SearchHit) -> Passage:
    c = hit.chunk
    return Passage(
        chunk_id=c.id,
        source=c.source,
        title=c.title,
        section=c.section,
        text=c.text,
        score=hit.score,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
        region=c.region,
        valid_from=c.valid_from,
        valid_to=c.valid_to,
    )


def _citation(number: int, item: Evidence) -> Citation:
    c = item.hit.chunk
    return Citation(
        number=number, chunk_id=c.id, source=c.source, title=c.title, section=c.section, quote=c.text
    )


class Assistant:
    def __init__(
        self,
        settings: AssistantSettings,
        knowledge_base: KnowledgeBase | None = None,
        composer: Composer | None = None,
        sessions: SessionStorage | None = None,
    ) -> None:
        self.settings = settings
        self.kb = knowledge_base or KnowledgeBase(settings)
        self.extractive = ExtractiveComposer(
            answerability=settings.answerability,
            given_names=self._collection_names,
            document_text=self.kb.document_text,
        )
        self.composer: Composer = composer or make_composer(settings, self.extractive)
        self.sessions = sessions or open_session_store(settings)
        self.understanding = Understanding(self.kb.catalog, settings.max_question_chars)
        self.stages: tuple[_Stage, ...] = (
            _Stage("classify", self._classify),
            _Stage("rewrite", self._rewrite),
            _Stage("retrieve", self._retrieve),
            _Stage("select", self._select),
            _Stage("screen", self._screen),
            _Stage("announce", self._announce, always=True, timed=False),
            _Stage("compose", self._compose),
            _Stage("check", self._check),
        )

    def close(self) -> None:
        self.sessions.close()
        self.kb.close()

    def _run(self, state: _State) -> Iterator[AnswerEvent]:
        for stage in self.stages:
            if state.reply_kind is not None and not stage.always:
                continue
            started = time.perf_counter()
            yield from stage.run(state) or ()
            if stage.timed:
                state.timings[stage.name] = round((time.perf_counter() - started) * 1000, 2)

    # Stages

    def _classify(self, state: _State) -> None:
        classified = classify(state.question, self.settings.max_question_chars)
        state.cleaned = classified.text
        if classified.intent != "question":
            state.reply_kind = classified.intent

    def _rewrite(self, state: _State) -> None:
        """The question made to stand alone, in the documents' terms; a transcript is repaired first
        (`assistant.understanding`)."""
        understood = self.understanding.read(state.cleaned, state.history, state.spoken)
        state.cleaned, state.standalone, state.query = (
            understood.cleaned,
            understood.standalone,
            understood.query,
        )

    def _retrieve(self, state: _State) -> None:
        # A few extra: near-duplicates (the same notice published twice) are dropped in `select`.
        k = self.settings.answer_passages + 3
        if state.spoken and self.settings.asr_fused_retrieval:
            state.alternatives = self._with_slips(state.alternatives or [Alternative(state.question, 0.0)])
        if state.spoken and len(state.alternatives) > 1 and self.settings.asr_fused_retrieval:
            ranking = self._retrieve_every_hypothesis(state)  # issue 16
        else:
            ranking = self.kb.ranking(state.query, spoken=state.spoken, k=k)
        ranking = other_cases_last(ranking, state.standalone)
        chunks = ranking[:k]
        # Read big: the composer reads (and cites) each matched chunk widened with its neighbours, while
        # refusal is judged on the best chunks alone: the places read big put a passage that names the
        # asked year first, and its neighbours hold more words to match, which is not the asked fact.
        places = self.kb.places(ranking, k, state.query) if self.settings.read_big else chunks
        if self.settings.expired_documents == "exclude":
            chunks, _ = drop_expired(chunks)
            places, state.expired_notice = drop_expired(places)
            if state.expired_notice:  # the question is about an expired document: never its neighbours
                state.reply_kind = "refusal"
        state.hits = [hit.widened() for hit in places]
        state.screened = chunks
        if not state.hits:
            state.reply_kind = "refusal"

    # --- issue 16: retrieval with every hypothesis of speech recognition (assistant/hypotheses.py) ---

    def _retrieve_every_hypothesis(self, state: _State) -> list[SearchHit]:
        """The fused chunk ranking; the reading that best supports the best of it becomes the question."""
        s = self.settings
        depth = max(s.answer_passages + 3, s.asr_fusion_depth)

        def search(query: str) -> list[SearchHit]:
            return self.kb.ranking(query, spoken=True, k=depth)[:depth]

        fused = fuse_readings(
            state.alternatives,
            lambda text: self.understanding.hypothesis(text, state.history),
            search,
            self.understanding.known_share,
            s.asr_vocabulary_weight,
            s.asr_fusion_temperature,
            phrase=s.asr_phrase_readings,
        )
        state.readings = fused.readings
        if fused.readings:
            best = fused.readings[0]
            state.cleaned, state.standalone, state.query = best.cleaned, best.standalone, best.query
        return fused.hits

    def _with_slips(self, alternatives: list[Alternative]) -> list[Alternative]:
        """The hypotheses and, for each, its readings with a clipped first sound put back
        (`Understanding.slips`), believed `asr_slip_penalty` less: searched and offered like the rest."""
        s = self.settings
        if not s.asr_slips:
            return alternatives
        heard = {a.text for a in alternatives}
        slips: list[Alternative] = []
        for alternative in alternatives:
            for text in self.understanding.slips(alternative.text, s.asr_slip_min_chunks):
                if text not in heard:
                    heard.add(text)
                    slips.append(Alternative(text, alternative.score - s.asr_slip_penalty, slip=True))
        return [*alternatives, *slips]

    def _heard_readings(self, state: _State) -> list[HeardReading]:
        return [
            HeardReading(
                question=r.standalone,
                weight=round(r.weight, 4),
                title=r.hits[0].chunk.title if r.hits else "",
                source=r.hits[0].chunk.source if r.hits else "",
                chunk_id=r.top or "",
                slip=r.slip,
            )
            for r in state.readings
        ]

    # --- end of issue 16 ---

    def _select(self, state: _State) -> None:
        """The passages offered as evidence, numbered [1]..[n]: best first, none repeating another,
        about the question's subject; the chunks refusal is judged on are chosen the same way."""
        state.hits = self._with_contact_line(state.standalone, self._offered(state.standalone, state.hits))
        # Without read big both lists are the same chunks: choose once (the subject costs catalog reads).
        read_big = self.settings.read_big
        state.screened = self._offered(state.standalone, state.screened) if read_big else state.hits
        state.evidence = [Evidence(n, hit) for n, hit in enumerate(state.hits, start=1)]

    def _with_contact_line(self, question: str, hits: list[SearchHit]) -> list[SearchHit]:
        """A question asking only for a number to call, whose passages hold none: the contact line of the
        best passages' document about the asked topic (its title names a topic word of the question) is
        offered too. A contact line often closes a document, far from the chunk the question matched
        (种粮补贴有问题打哪个电话问？ matches 农户对补贴…有疑问的, the number is the last line)."""
        if not hits or read_question(question).kinds != {"phone"} or any(holds_phone(h.text) for h in hits):
            return hits
        topics = topic_terms(normalize_query(question))
        for source in dict.fromkeys(hit.chunk.source for hit in hits[:2]):
            lines = [c for c in self.kb.catalog.chunks_of(source) if holds_phone(c.text)]
            if lines and names_any(topics, [lines[0].title]):
                line = next((c for c in lines if _CONTACT.search(c.text)), lines[-1])
                return [*hits, SearchHit(line, min(hit.score for hit in hits) / 2)]
        return hits

    def _offered(self, question: str, hits: Sequence[SearchHit]) -> list[SearchHit]:
        kept: list[SearchHit] = []
        for hit in hits:
            text = hit.chunk.text
            if any(text in other.chunk.text or other.chunk.text in text for other in kept):
                continue
            kept.append(hit)
            if len(kept) == self.settings.answer_passages:
                break
        if self.settings.subject_passages:
            catalog = self.kb.catalog
            term = subject(question, kept, catalog.token_counts, catalog.chunk_count())
            if term is not None:
                kept = about(term, kept)
        return kept

    def _screen(self, state: _State) -> None:
        """Refusals the passages alone decide, before a (possibly slow) composer writes anything."""
        top_dense = max((hit.dense_score or 0.0 for hit in state.screened), default=0.0)
        unknown = self._unknown_terms(asked_words(state.standalone), state.spoken)
        # A year or a model number the passages never mention (2026年, W3) means they are about
        # something else, however well the other words match: never answer 2026 with 2025's figures.
        matched = [hit.chunk for hit in state.screened]
        passages = " ".join(f"{c.title} {c.valid_from} {c.valid_to} {c.text}" for c in matched)
        years = [f"{y}年" for y in dict.fromkeys(_YEAR.findall(state.standalone)) if y not in passages]
        codes = [t for t in unknown if _CODE.search(t)]
        # In a transcript a word no document holds is as likely misheard: asking back sorts it out.
        things = [] if state.spoken else named_things(state.standalone, unknown, self.kb.catalog.token_counts)
        # A name jieba does not know (孝老卡) is no word of the index: it is looked for in the passages.
        unseen = [] if state.spoken else unseen_names(state.standalone, passages)
        state.unknown_terms = [*unknown, *unseen, *years]
        answerable_here, stating = self._stating(state)
        topics = topic_terms(state.standalone)
        text = passages.lower()
        state.signals = Signals(
            dense=top_dense,
            covered=sum(t.lower() in text for t in topics) / len(topics) if topics else 1.0,
            unknown=len(unknown) / len(topics) if topics else 0.0,
            stated_first=1.0 if stating and stating[0] else 0.0,
            stating=sum(stating) / len(stating) if stating else 0.0,
        )
        model = model_for(embedder_id(self.kb.embeddings))
        state.confidence = model.confidence(state.signals)
        threshold = model.threshold if self.settings.min_confidence is None else self.settings.min_confidence
        if self.settings.confidence_refusal:
            unsure = state.confidence < threshold
        else:
            # A passage still waiting for its vector (a document uploaded seconds ago) was never compared
            # with the question: the similarity floor cannot speak for it, the other checks still do.
            unsure = top_dense < self.settings.refusal_min_dense and not self.kb.pending(
                [hit.chunk.id for hit in state.screened]
            )
        named_elsewhere = bool(years or codes or things or unseen)
        weak = named_elsewhere or unsure or (bool(unknown) and not self._covered(state))
        if weak or (self.settings.answerability and not answerable_here):
            state.reply_kind = "refusal"

    def _covered(self, state: _State) -> bool:
        """A question naming something no document mentions (油茶, 签证) is answered only when the matched
        chunks answer most of the rest of it: the sentences read around them would add words to match,
        not the missing subject. (`check` asks the same of the final answer.)"""
        evidence = [Evidence(n, hit) for n, hit in enumerate(state.screened, start=1)]
        draft = self.extractive.compose(state.standalone, evidence)
        return not draft.refused and draft.coverage >= self.settings.refusal_unknown_coverage

    @staticmethod
    def _announce(state: _State) -> Iterator[AnswerEvent]:
        """The question as understood (hypotheses fused, follow-ups rewritten) and, when it is to be
        answered, the passages the answer will come from."""
        yield Rewritten(state.standalone or state.cleaned, state.session_id)
        if state.reply_kind is None:
            yield Retrieved([_passage(hit) for hit in state.hits])

    def _compose(self, state: _State) -> Iterator[AnswerEvent]:
        if state.streaming:
            for piece in self.composer.stream(state.standalone, state.evidence, state.history):
                if isinstance(piece, Draft):
                    state.draft = piece
                else:
                    yield TextDelta(piece)
        else:
            state.draft = self.composer.compose(state.standalone, state.evidence, state.history)
        state.composer = (state.draft.composer if state.draft else "") or self.composer.name

    def _collection_names(self, names: Sequence[str]) -> set[str]:
        """The names most of the knowledge base mentions: what the whole collection is about (a
        university's pages, a county's documents), which a page of it calls 我校 or 本县 rather than
        repeat; no constraint on where an answer comes from."""
        total = self.kb.catalog.chunk_count()
        counts = self.kb.catalog.token_counts([n.lower() for n in names])
        return {n for n in names if total and counts.get(n.lower(), 0) >= COLLECTION_SUBJECT_SHARE * total}

    def _stating(self, state: _State) -> tuple[bool, list[bool]]:
        """Whether the retrieved sentences state what the question asks for, under its constraints
        (every part of it, by some sentence: of the matched chunks, or read around them and naming every
        topic word itself), and for each matched chunk whether one of its sentences does."""
        asked = read_question(state.standalone)
        asked = without_names(asked, self._collection_names(asked.names))
        chunks = [hit.chunk for hit in state.screened]
        # A matched chunk is read in the passage read big around it, as the composer reads it: the page's
        # date line (日期：2023-11-04) often stands in the chunk before.
        read = {member: hit.chunk.text for hit in reversed(state.hits) for member in hit.members}
        placed = list(sentences_in_context(chunks))
        sentences = [(p.text, p.context, read.get(chunks[p.chunk].id, p.passage)) for p in placed]
        document = lru_cache(maxsize=None)(self.kb.document_text)  # each read once per question
        documents = [partial(document, chunks[p.chunk].source) for p in placed]
        per_passage = [False] * len(chunks)
        question = state.standalone
        for p, (text, context, passage), whole in zip(placed, sentences, documents, strict=True):
            if not per_passage[p.chunk] and states_some(asked, question, text, context, passage, whole):
                per_passage[p.chunk] = True
        if answerable(asked, question, sentences, documents):
            return True, per_passage
        around = _naming_all(question, state.hits, sentences)
        return answerable(asked, question, around, documents), per_passage

    def _check(self, state: _State) -> None:
        draft = state.draft
        if draft is None:
            raise RuntimeError(f"composer {self.composer.name} streamed no final Draft")
        result = check(draft, state.evidence)
        if not result.ok and self.composer is not self.extractive:
            log.warning(
                "%s answer failed the check (%s); using the extractive answer",
                draft.composer,
                result.problems,
            )
            failed = draft.composer or self.composer.name
            draft = self.extractive.compose(state.standalone, state.evidence)
            result = check(draft, state.evidence)
            state.composer = f"{self.extractive.name} (fallback from {failed})"
        if not result.ok:
            log.error("answer failed the check: %s", result.problems)
            draft.refused = True
        if not draft.refused and self._beside_the_question(state.standalone, draft, state.evidence):
            draft.refused = True
        state.draft = draft
        # A question naming something no document mentions (油茶, 签证) is answered only when the answer
        # covers most of the rest of it.
        if draft.refused or (state.unknown_terms and draft.coverage < self.settings.refusal_unknown_coverage):
            state.reply_kind = "refusal"

    def _beside_the_question(self, question: str, draft: Draft, evidence: Sequence[Evidence]) -> bool:
        """An answer to 电话多少 without a number for the asked topic, or to 多少钱 / 多久 / 几点 whose
        passages never name what was asked about (answerability.misses_the_number, about_something_else).
        A time is asked in a villager's own words more often than a sum or a number (村里大喇叭几点以后不让响
        for the documents' 云广播, whose 喇叭 stands once in a case story): of its passages only the words
        the documents use are asked."""
        asked, topics = read_question(question), topic_terms(normalize_query(question))
        cited = [item for item in evidence if item.number in draft.cited]
        numbered = [item.hit.chunk.title for item in cited if holds_phone(item.text)]
        passages = [f"{item.hit.chunk.title} {item.hit.chunk.section} {item.text}" for item in cited]
        if asked.kinds == {"amount"}:
            # A bare kind of benefit or a for-whom word (补贴, 农村) says nothing of what a sum is for:
            # the subject's words are asked when the documents use any of them (打药的无人机 is not
            # answered by 耕地地力保护补贴每亩110元).
            generic = {benefit.kind for benefit in asked.benefits if not benefit.which} | NOT_WHICH
            subject = [t for t in topics if t not in generic]
            named = subject if self._known(subject) else topics
        else:
            # Where one goes (乡里, 村里) is no subject either: 宅基地申请交上去，乡里多少天给批下来 is not
            # answered by a 乡镇's deadline for 低保.
            known = self._known(topics)
            named = [t for t in known if t not in NOT_WHICH] or known
        # Any document saying the event is enough: it is the one answer to the changed span.
        events = self._known(list(conditions(question)), at_least=1)
        return (
            misses_the_number(asked, draft.text, topics, numbered)
            or about_something_else(asked, named, passages)
            or under_another_condition(draft.text, events)
        )

    def _known(self, terms: Sequence[str], at_least: int = _DOCUMENTS_WORD) -> list[str]:
        """The terms the documents use (in `at_least` passages or more), or the synonym table gives the
        documents' word for."""
        if not terms:
            return []  # no round trip to the catalog (a query on PostgreSQL) for a question with none
        counts = self.kb.catalog.token_counts([t.lower() for t in terms])
        return [t for t in terms if counts.get(t.lower(), 0) >= at_least or len(synonym_names(t)) > 1]

    def _unknown_terms(self, question: str, spoken: bool = False) -> list[str]:
        """Topic words of the question that no passage of the knowledge base contains. A villager's word
        the synonym table maps (新农保) is not unknown: the table says what the documents call it. In a
        transcript, neither is a word that sounds like words of the documents (相李: 县里 or 相邻?):
        more likely misheard than a topic the documents do not cover. Nor is raising an animal (养牛):
        the documents name the animal."""
        known = {s.term for s in synonyms()}
        terms = [t.lower() for t in topic_terms(question) if t not in known and not raised_animal(t)]
        unknown = [t for t, n in self.kb.catalog.token_counts(terms).items() if n == 0]
        return [t for t in unknown if not self.understanding.misheard(t)] if spoken else unknown

    # Answer

    def _answer(self, state: _State) -> Answer:
        citations: list[Citation] = []
        if state.reply_kind is not None or state.draft is None:
            kind: AnswerKind = state.reply_kind if state.reply_kind in _REPLY_KINDS else "invalid"  # type: ignore[assignment]
            s = self.settings
            replied = state.reply_kind or "refusal"
            text = reply(replied, s.assistant_name, s.handoff, s.max_question_chars, state.spoken)
            if kind == "refusal" and state.expired_notice:
                text = state.expired_notice + text
            speech = to_speech(text)
            composer = ""
        else:
            kind, text, composer = "answer", state.draft.text, state.composer
            evidence = {item.number: item for item in state.evidence}
            citations = [_citation(n, evidence[n]) for n in state.draft.cited]
            speech = to_speech(text, [f"《{c.title}》" for c in citations])
        return Answer(
            question=state.question,
            standalone_question=state.standalone or state.cleaned,
            answer=text,
            speech=speech,
            refused=kind == "refusal",
            kind=kind,
            citations=citations,
            passages=[_passage(hit) for hit in state.hits],
            session_id=state.session_id,
            composer=composer,
            coverage=round(state.draft.coverage, 4) if state.draft else 0.0,
            confidence=round(state.confidence, 4),
            signals=state.signals.as_dict() if state.signals else {},
            unknown_terms=state.unknown_terms,
            timings_ms=state.timings,
            readings=self._heard_readings(state),
        )

    def ask(
        self,
        question: str,
        session_id: str | None = None,
        history: list[Turn] | None = None,
        spoken: bool = False,
        alternatives: Sequence[Alternative | tuple[str, float]] | None = None,
        remember: bool = True,
    ) -> Answer:
        """Answer one message. With a session id the conversation is remembered; `history` overrides it.
        `spoken` marks a transcript of speech, whose mis-heard policy words are repaired first;
        `alternatives` (issue 16) are all its recognition hypotheses, searched together."""
        started = time.perf_counter()
        state = self._start(question, session_id, history, spoken, alternatives)
        for _ in self._run(state):
            pass
        return self._finish(state, started, remember=history is None and remember)

    def stream(
        self,
        question: str,
        session_id: str | None = None,
        history: list[Turn] | None = None,
        spoken: bool = False,
        alternatives: Sequence[Alternative | tuple[str, float]] | None = None,
    ) -> Iterator[AnswerEvent]:
        """`ask`, step by step: the understood question, the passages, the answer text as the composer
        writes it, and the checked `Answer` last (which may replace the streamed text)."""
        started = time.perf_counter()
        state = self._start(question, session_id, history, spoken, alternatives)
        state.streaming = True
        streamed: list[str] = []
        for event in self._run(state):
            if isinstance(event, TextDelta):
                streamed.append(event.text)
            yield event
        answer = self._finish(state, started, remember=history is None)
        if not streamed:
            yield TextDelta(answer.answer)
        yield Finished(answer, replaced=bool(streamed) and "".join(streamed) != answer.answer)

    def _start(
        self,
        question: str,
        session_id: str | None,
        history: list[Turn] | None,
        spoken: bool,
        alternatives: Sequence[Alternative | tuple[str, float]] | None = None,
    ) -> _State:
        session = session_id or uuid.uuid4().hex
        turns = history if history is not None else self.sessions.history(session)
        return _State(
            question=question,
            session_id=session,
            history=turns,
            spoken=spoken,
            alternatives=[a if isinstance(a, Alternative) else Alternative(*a) for a in alternatives or []],
        )

    # Issue 16: `assistant.confirm` answers without remembering, then remembers what it delivers.

    @staticmethod
    def sessions_id() -> str:
        return uuid.uuid4().hex

    def remember(self, answer: Answer) -> None:
        """Store a turn answered with `ask(remember=False)`, as `ask` would have."""
        standalone = answer.standalone_question if answer.kind in ("answer", "refusal") else ""
        self.sessions.append(
            answer.session_id, [Turn("user", answer.question, standalone), Turn("assistant", answer.answer)]
        )

    def _finish(self, state: _State, started: float, remember: bool) -> Answer:
        state.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        answer = self._answer(state)
        if remember:
            user = Turn(
                "user", state.cleaned, state.standalone if state.reply_kind in (None, "refusal") else ""
            )
            self.sessions.append(state.session_id, [user, Turn("assistant", answer.answer)])
        return answer
