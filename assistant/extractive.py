"""The extractive composer: answers with the evidence's own sentences, so every number is verbatim.

Sentences are scored by how much of the question they cover (words and character pairs, the
passage's title and section counting at half weight), by whether they carry what the question type
asks for (an amount, a date, a phone number ...), and by their passage's retrieval rank. The best one
to three are kept, in document order, trimmed of list markers and cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import NamedTuple

from assistant.ages import asked_age, fits_age
from assistant.answerability import PREFERRED_KINDS, Asked, bigrams, read_question, states_some, without_names
from assistant.composing import Draft, Evidence, stream_by_sentence
from assistant.followup import rewrite, topic_terms
from assistant.normalize import normalize_question
from assistant.questions import SENTENCE_SIGNALS, question_types
from assistant.sessions import Turn
from assistant.unknown_words import said_apart
from knowledge.chunking import TABLE_ROW, Chunk, row_parts
from knowledge.lexical import lexical_tokens
from zhtext.sentences import split_sentences

_QUESTION_LINE = re.compile(r"^(?:\d{1,3}[、．.]\s*)?(?:问|Q|问题)\s*\d*\s*[:：]")
_ANSWER_PREFIX = re.compile(r"^(?:答|A|回答)\s*\d*\s*[:：]\s*")
_MARKER = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+条\s*|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d{1,2}[.、．](?!\d)\s*|[①②③④⑤⑥⑦⑧⑨⑩])"
)
# Preambles and scope clauses of official documents: on topic by their words, never an answer.
_BOILERPLATE = re.compile(
    r"^(为了?|为进一步|为贯彻|为加快|为做好|根据).{0,120}(制定|印发|结合)|本(办法|方案|细则|规定|通知)(所称|由|自|适用)"
)
# A web page's furniture (更新时间：2014-01-23, 点击数：20757): read as context, never quoted as an answer.
_PAGE_FURNITURE = re.compile(
    r"^(?:更新时间|发布时间|发布日期|日期|时间|点击数|点击量|点击|浏览次数|浏览量|阅读量|阅读|来源|作者|编辑|责任编辑|供稿|审核)\s*[:：]"
)
# An encyclopaedia page's reference marks (…当选[32]): nothing to a villager, and read back as our own
# citation marks they would cite passages that were never retrieved.
_REFERENCE_MARK = re.compile(r"\[\d{1,3}\]|［\d{1,3}］")
_MAX_CHARS = 160
_RUN_IN_HEADING = re.compile(
    r"^(?:第[一二三四五六七八九十百零〇\d]+[章节条]\s*|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）])"
    r"\s*[\u4e00-\u9fff]{2,10}[。：:]?$"
)


@dataclass(frozen=True)
class _Sentence:
    passage: int
    """Index of the evidence item."""
    position: int
    text: str


def _sentences(text: str) -> Iterator[tuple[str, bool]]:
    """Each sentence of a passage with whether it is a run-in heading (（二）申请条件。), which labels the
    sentence after it and answers nothing itself."""
    for raw in text.splitlines():
        line = raw.strip()
        if (
            not line
            or line.endswith(("？", "?"))
            or _QUESTION_LINE.match(line)
            or _PAGE_FURNITURE.match(line)
        ):
            continue
        line = _ANSWER_PREFIX.sub("", line)
        if TABLE_ROW.match(line):
            yield line, False
            continue
        for sentence in split_sentences(line):
            if sentence.strip():
                yield sentence.strip(), bool(_RUN_IN_HEADING.match(sentence.strip()))


def sentences_of(text: str) -> Iterator[str]:
    """Answer-bearing sentences of a passage: table rows whole, Q&A answers without their question,
    no run-in headings."""
    return (sentence for sentence, heading in _sentences(text) if not heading)


def display(sentence: str) -> str:
    return _REFERENCE_MARK.sub("", _MARKER.sub("", sentence)).strip()


def _weight(token: str) -> float:
    return 2.0 if any(ch.isdigit() for ch in token) else float(min(len(token), 4))


@dataclass(frozen=True)
class _Scored:
    total: float
    relevance: float
    """The score without the passage's retrieval rank."""
    coverage: float
    sentence: _Sentence


@dataclass(frozen=True)
class SentenceWeights:
    """How a sentence's score is made (tuned on the demo golden set, benchmarks/answers.py)."""

    coverage: float = 0.3
    pairs: float = 0.1
    signal: float = 0.2
    prior: float = 0.4
    """The passage's retrieval score relative to the best passage."""


def _penalty(sentence: str) -> float:
    """Sentences a villager should not be read: long ones, preambles, and headings ending in a colon."""
    text = display(sentence)
    # A table row is quoted whole however long: its fields are read one by one.
    long = not TABLE_ROW.match(text)
    penalty = 0.3 if long and len(text) > 140 else 0.15 if long and len(text) > 90 else 0.0
    if _BOILERPLATE.search(text):
        penalty += 0.3
    if len(text) < 8 or text.endswith(("：", ":")):
        penalty += 0.2
    return penalty


def _words(text: str, wanted: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    """The text's tokens, and those of `wanted` standing inside a longer word (宽带 in 单宽带300M) or said
    apart (签合同 in 签订书面合同)."""
    return set(_tokens(text)) | {t for t in wanted if len(t) >= 2 and (t in text or said_apart(t, text))}


@lru_cache(maxsize=8192)
def _tokens(text: str) -> frozenset[str]:
    """A sentence's tokens, kept: the same passages answer many questions, and cutting their sentences
    again was a third of an answer's time."""
    return frozenset(lexical_tokens(text))


def _coverage(q_tokens: set[str], q_weight: float, tokens: set[str], context: set[str]) -> float:
    words = sum(_weight(t) for t in q_tokens & tokens)
    around = sum(_weight(t) for t in (q_tokens & context) - tokens)
    return min(1.0, (words + 0.5 * around) / q_weight)


def question_coverage(question: str, text: str, context: str = "") -> float:
    """How much of the question (weighted words) the text answers; words only in its title or section
    (`context`) count half."""
    q_tokens = set(lexical_tokens(question))
    q_weight = sum(_weight(t) for t in q_tokens) or 1.0
    return _coverage(q_tokens, q_weight, set(lexical_tokens(text)), set(lexical_tokens(context)))


class ExtractiveComposer:
    name = "extractive"

    def __init__(
        self,
        max_sentences: int = 3,
        max_chars: int = _MAX_CHARS,
        weights: SentenceWeights | None = None,
        extra_ratio: float = 0.75,
        answerability: bool = True,
        given_names: Callable[[Sequence[str]], Collection[str]] | None = None,
        document_text: Callable[[str], str] | None = None,
    ) -> None:
        """`answerability`: quote only sentences that state what their part of the question asks for;
        `given_names`: which of a question's names need not be met (what the whole knowledge base is
        about); `document_text`: a document's whole text by its source, where a benefit a sentence's
        passage does not name may be (a 理赔程序 section of the insurance plan that covers 水稻)."""
        self.given_names = given_names
        self.document_text = document_text
        self.weights = weights or SentenceWeights()
        self.extra_ratio = extra_ratio
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        self.answerability = answerability

    def score(self, question: str, evidence: Sequence[Evidence]) -> list[_Scored]:
        """Every candidate sentence, best first."""
        q_tokens = set(lexical_tokens(question))
        q_weight = sum(_weight(t) for t in q_tokens) or 1.0
        q_bigrams = bigrams(question)
        types = question_types(question)
        age = asked_age(question)
        top = max((item.hit.score for item in evidence), default=0.0)
        scored = []
        for index, item in enumerate(evidence):
            chunk = item.hit.chunk
            context_tokens = set(lexical_tokens(f"{chunk.title} {chunk.section}"))
            prior = item.hit.score / top if top > 0 else 0.0
            # Read big: a member the search ranked itself keeps its own rank; the neighbours read around
            # the matched chunk share its rank at half weight.
            core = (item.hit.matched or chunk).text
            ranked = [(h.chunk.text, h.score / top if top > 0 else 0.0) for h in item.hit.also_matched]
            for position, sentence in enumerate(sentences_of(chunk.text)):
                said, heading = row_parts(sentence)
                coverage = _coverage(
                    q_tokens, q_weight, _words(said, q_tokens), context_tokens | _words(heading)
                )
                pairs = len(q_bigrams & bigrams(sentence)) / max(len(q_bigrams), 1)
                signal = sum(1 for t in types if SENTENCE_SIGNALS[t].search(sentence)) / max(len(types), 1)
                w = self.weights
                relevance = w.coverage * coverage + w.pairs * pairs + w.signal * signal - _penalty(sentence)
                if heading and _words(said.split("；", 1)[0], q_tokens) & q_tokens:
                    relevance += w.pairs  # the row is named for what is asked (单宽带300M for 宽带)
                if age is not None and fits_age(age, sentence):
                    relevance += w.signal  # the rule for the villager's age group (75: 70周岁及以上)
                total = relevance + w.prior * _prior(sentence, core, prior, ranked)
                scored.append(_Scored(total, relevance, coverage, _Sentence(index, position, sentence)))
        return sorted(scored, key=lambda item: item.total, reverse=True)

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()
    ) -> Iterator[str | Draft]:
        return stream_by_sentence(self.compose(question, evidence))

    def compose(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft:
        question = normalize_question(question)
        chosen: list[_Sentence] = []
        # The passages of copies left out because a chosen sentence says them: cited with it.
        copied: dict[tuple[int, int], list[int]] = {}
        coverages: list[float] = []
        size = 0
        placed = _placed(evidence)
        parts = sub_questions(question)
        document = lru_cache(maxsize=None)(self.document_text) if self.document_text else None
        editions = _editions(evidence, placed)
        for index, part in enumerate(parts):
            # Each later part keeps a sentence for itself: 去哪里办？电话多少？ is not all 去哪里办.
            room = self.max_sentences - (len(parts) - 1 - index)
            asked = read_question(part)
            if self.given_names is not None:
                asked = without_names(asked, self.given_names(asked.names))
            # Only sentences that state what this part asks for, under its constraints, may answer it;
            # an asked phone number is preferred, never required (answerability.PREFERRED_KINDS).
            candidates = self.score(part, evidence)
            scored = [
                candidate
                for candidate in candidates
                if not self.answerability
                or _states(asked, part, placed[_key(candidate.sentence)], evidence, document)
            ]
            if not scored and asked.kinds and asked.kinds <= PREFERRED_KINDS:
                scored = candidates
            scored = _newest_editions(scored, evidence, placed, editions)
            if not scored:
                continue
            best = scored[0]
            # How much of the question the evidence covers is not narrowed by the phone preference:
            # a contact line (热线：0571-86209595) repeats few of the question's words.
            preferred = asked.kinds & PREFERRED_KINDS
            coverages.append(max(best.coverage, candidates[0].coverage) if preferred else best.coverage)
            subject = topic_terms(part)
            taken = 0
            for candidate in scored:
                sentence = candidate.sentence
                # More sentences only when about as relevant on their own (not just from a good passage)
                # and about the same subject, in a matched chunk: 低保的申请条件 is not answered further by
                # 宅基地's, nor by the 临时救助 standard read around the match.
                if taken and (
                    best.relevance <= 0
                    or candidate.relevance < self.extra_ratio * best.relevance
                    or not (
                        (_about(subject, sentence, evidence) and _matched(sentence, evidence))
                        or _continues(sentence, chosen)
                    )
                ):
                    continue
                text = display(sentence.text)
                # Said already: by another part, or in full where this is a copy a chunk's edge cut
                # (导言—诗律…—歌行 of 导言—诗律…—歌行—词律及词).
                said = _statement(placed[_key(sentence)])
                whole = next(
                    (c for c in chosen if text == display(c.text) or said in _statement(placed[_key(c)])),
                    None,
                )
                if whole is not None:
                    copied.setdefault(_key(whole), []).append(evidence[sentence.passage].number)
                    taken += 1
                    continue
                # Table rows are quoted whole, two of them however long (单宽带300M and 单宽带500M).
                rows = TABLE_ROW.match(text) and all(TABLE_ROW.match(display(c.text)) for c in chosen)
                full = len(chosen) >= 2 if rows else bool(chosen) and size + len(text) > self.max_chars
                if len(chosen) >= room or full:
                    break
                chosen.append(sentence)
                size += len(text)
                taken += 1
        if not chosen:
            return Draft("", refused=True, composer=self.name, note="no sentences in the evidence")
        # The best sentence first, what it took along in the documents' order: read big puts a section's
        # sentences in one passage, where the 资金规模 total comes before the 每亩110元 that answers.
        chosen[1:] = sorted(chosen[1:], key=lambda s: (s.passage, s.position))
        parts = []
        cited: list[int] = []
        for sentence in chosen:
            # A value under a label on its own line is read with its label (办学愿景：打造…新高地).
            text = (placed[_key(sentence)].label + display(sentence.text)).rstrip("。；;，,")
            marks = [evidence[sentence.passage].number, *_agreeing(sentence, evidence, placed)]
            copies = [mark for mark in dict.fromkeys(copied.get(_key(sentence), [])) if mark not in marks]
            marks += copies[: max(0, 1 + _MOST_AGREEING - len(marks))]
            parts.append(text + "".join(f"[{mark}]" for mark in marks) + "。")
            cited.extend(mark for mark in marks if mark not in cited)
        return Draft("".join(parts), cited=cited, coverage=min(coverages), composer=self.name)


_FIGURE = re.compile(
    r"(\d+(?:\.\d+)?(?:[:：]\d{2})?%?)([元年月日号时点分秒天周人户亩个次名吨台家所岁倍层米万亿千百克斤张份项条辆头架套间栋座位届期级档]?)"
)


def _figures(text: str) -> set[tuple[str, str]]:
    """(number, the character after it): 1月 and 10日 are not 3月1日至10日's 1日."""
    return {(m.group(1).replace("：", ":"), m.group(2)) for m in _FIGURE.finditer(text)}


def _states_figures(figures: set[tuple[str, str]], other: str) -> bool:
    """Each figure is in `other` with the same unit, or bare (a table row's value, its unit in the header:
    个人缴费（元/人·年）：400)."""
    found = _figures(other)
    return all((number, unit) in found or (number, "") in found for number, unit in figures)


def _agreeing(
    sentence: _Sentence, evidence: Sequence[Evidence], placed: dict[tuple[int, int], PlacedSentence]
) -> list[int]:
    """The passages of other documents that state the quoted sentence too, one per document, at most
    `_MOST_AGREEING`: the same sentence (a page published again each year), or, for a sentence with
    figures, one that states its figures: a plain-words Q&A (个人交400元，政府再补助700元以上) is cited
    with the policy's table row that sets them (个人缴费：400；财政补助：不低于700), so the villager and the
    official see the rule behind the answer. Every figure of the sentence must be in one sentence of the
    other document, one of them of two characters or more (not a list's 1 and 2), and the two sentences
    must share a word besides the figures."""
    figures = _figures(sentence.text)
    counted = any(len(number) > 1 for number, _ in figures)
    words = {w for w in lexical_tokens(sentence.text) if not _FIGURE.fullmatch(w)} if counted else set()
    seen = {evidence[sentence.passage].hit.chunk.source}
    mine = placed[_key(sentence)]
    found: list[int] = []
    for (passage, _), other in placed.items():
        source = evidence[passage].hit.chunk.source
        if source in seen:
            continue
        same = _statement(mine) == _statement(other)
        if same or (
            counted and _states_figures(figures, other.text) and words & set(lexical_tokens(other.text))
        ):
            seen.add(source)
            found.append(evidence[passage].number)
            if len(found) == _MOST_AGREEING:
                break
    return found


_MOST_AGREEING = 2
"""Other documents cited beside a quoted sentence's own: enough to show the rule and its yearly copies,
few enough for a villager to read past."""


def _statement(sentence: PlacedSentence) -> str:
    """A sentence as the yearly copies of a page share it: they differ in the spaces the web editor
    left, in the mark a list item ends with, and in whether a label sits on a line of its own
    (办学理念：高水平、有特色、国际性； / 办学理念： then 高水平、有特色、国际性。)."""
    return _WHITESPACE.sub("", sentence.label + sentence.text).rstrip(_CLOSING)


_WHITESPACE = re.compile(r"\s+")
_CLOSING = "。；;，,.!！"


def _states(
    asked: Asked,
    part: str,
    sentence: PlacedSentence,
    evidence: Sequence[Evidence],
    document: Callable[[str], str] | None,
) -> bool:
    whole = partial(document, evidence[sentence.chunk].hit.chunk.source) if document else None
    return states_some(asked, part, sentence.text, sentence.context, sentence.passage, whole)


_LABEL_LINE = re.compile(r"^[\u4e00-\u9fff]{2,8}\s*[:：]$")
_FIELD = re.compile(r"^(?:[\d一二三四五六七八九十]+[.、．]\s*)?([\u4e00-\u9fff]{2,8})[:：].")
_EDITION_SHARE = 12
"""Characters a sentence needs before two documents that both say it count as editions of one page:
a shared 联系电话：62511081 does not make two offices' pages one."""


def _editions(evidence: Sequence[Evidence], placed: dict[tuple[int, int], PlacedSentence]) -> list[set[str]]:
    """The evidence's documents grouped as editions of one page: those that say a sentence of some
    length word for word (each group as found, a document may stand in several)."""
    sharing: dict[str, set[str]] = {}
    for sentence in placed.values():
        statement = _statement(sentence)
        if len(statement) >= _EDITION_SHARE:
            sharing.setdefault(statement, set()).add(evidence[sentence.chunk].hit.chunk.source)
    return [sources for sources in sharing.values() if len(sources) > 1]


def _newest_editions(
    scored: list[_Scored],
    evidence: Sequence[Evidence],
    placed: dict[tuple[int, int], PlacedSentence],
    editions: list[set[str]],
) -> list[_Scored]:
    """The candidates with each one a newer edition of its page fills in differently replaced by the
    newest such: the 2020 FAQ's 办学愿景：创立世界一流… gives way, where it ranks, to the 2022 FAQ's
    办学愿景： 打造“独树一帜”…. `editions` are `_editions` of the evidence; their dates are their
    `valid_from`."""
    if not editions:
        return scored

    def filling(candidate: _Scored) -> tuple[str, str, str, str] | None:
        """The field the candidate fills, its statement, its document and the document's date."""
        sentence = placed[_key(candidate.sentence)]
        chunk = evidence[sentence.chunk].hit.chunk
        statement = _statement(sentence)
        # A table row's first heading (补贴项目：) is every row's: rows are records, not one field.
        field = None if TABLE_ROW.match(sentence.text) else _FIELD.match(statement)
        return (
            (field.group(1), statement, chunk.source, chunk.valid_from)
            if field and chunk.valid_from
            else None
        )

    filled = {id(candidate): filling(candidate) for candidate in scored}

    def newer(candidate: _Scored) -> _Scored | None:
        mine = filled[id(candidate)]
        if mine is None:
            return None
        field, statement, source, date = mine
        later = [
            (theirs[3], other)
            for other in scored
            if (theirs := filled[id(other)])
            and theirs[0] == field
            and theirs[3] > date
            and theirs[1] != statement
            and any(source in sources and theirs[2] in sources for sources in editions)
        ]
        return max(later, key=lambda dated: dated[0])[1] if later else None

    kept: list[_Scored] = []
    for candidate in scored:
        chosen = newer(candidate) or candidate
        if chosen not in kept:
            kept.append(chosen)
    return kept


def _key(sentence: _Sentence) -> tuple[int, int]:
    return sentence.passage, sentence.position


class PlacedSentence(NamedTuple):
    chunk: int
    """Index of the chunk in the list given."""
    position: int
    text: str
    context: str
    """What answerability reads beside it: the chunk's title and section and the sentence before."""
    passage: str
    label: str = ""
    """The label on the line before that the sentence fills in (办学愿景： above 打造…新高地), or ''."""


def sentences_in_context(chunks: Sequence[Chunk]) -> Iterator[PlacedSentence]:
    """Every answer-bearing sentence of the chunks, in order, with its context."""
    for index, chunk in enumerate(chunks):
        previous = ""
        position = 0
        for start, part in _parts(chunk):
            heading = chunk.heading_at(start)  # a member read around the match keeps its own section
            for sentence, run_in in _sentences(part):
                if not run_in:
                    label = previous if _LABEL_LINE.match(previous) else ""
                    # A labelled line is not read with the labelled line before it, which names another
                    # thing: a menu's 补贴查询：… is not about the 养老金认证 of 社保服务：… above it.
                    sibling = _FIELD.match(sentence) and _FIELD.match(previous)
                    context = heading if sibling else f"{heading} {previous}"
                    yield PlacedSentence(index, position, sentence, context, chunk.text, label)
                    position += 1
                previous = sentence


def _parts(chunk: Chunk) -> list[tuple[int, str]]:
    """The chunk's text cut where its heading changes (a passage read big across sections), each part
    with where it starts."""
    starts = [start for start, _ in chunk.headings] or [0]
    ends = [*starts[1:], len(chunk.text)]
    return [(start, chunk.text[start:end]) for start, end in zip(starts, ends, strict=True)]


def _placed(evidence: Sequence[Evidence]) -> dict[tuple[int, int], PlacedSentence]:
    placed = sentences_in_context([item.hit.chunk for item in evidence])
    return {(p.chunk, p.position): p for p in placed}


def _where(sentence: _Sentence, evidence: Sequence[Evidence]) -> str:
    chunk = evidence[sentence.passage].hit.chunk
    return f"{sentence.text} {chunk.heading_at(max(0, chunk.text.find(sentence.text)))}"


def _about(subject: list[str], sentence: _Sentence, evidence: Sequence[Evidence]) -> bool:
    """Names one of the question's topics in itself or its title and section: 低保的申请条件 is not
    answered further by a sentence on 宅基地's 申请条件. One is enough: a follow-up's rewritten
    question carries several (水稻保险 农户 稻子), and the hotline's sentence names only 保险."""
    if not subject:
        return True
    words = lexical_tokens(_where(sentence, evidence))
    # A word of it, or inside one (宽带 in 单宽带300M), never across two: 县城 is not named by
    # 青溪县|城乡居民医保, whose title made a 医保 sentence the second answer to 县城里的商品房多少钱一平.
    return any(term.lower() in word for term in subject for word in words)


def _prior(sentence: str, core: str, prior: float, ranked: Sequence[tuple[str, float]]) -> float:
    """The retrieval weight of a sentence: its passage's for the matched chunk, a member's own where the
    search ranked that member too, half the passage's for the neighbours read around the match."""
    if sentence in core:
        return prior
    return next((own for text, own in ranked if sentence in text), 0.5 * prior)


def _matched(sentence: _Sentence, evidence: Sequence[Evidence]) -> bool:
    """In a chunk the question matched, not only read around one (read big): a neighbour may hold the
    answer, but a second sentence from it is another subject as often as not (低保的申请条件 followed
    by the 临时救助 standard of the section before)."""
    hit = evidence[sentence.passage].hit
    matched = (hit.matched or hit.chunk, *(h.chunk for h in hit.also_matched))
    return any(sentence.text in chunk.text for chunk in matched)


def _continues(sentence: _Sentence, chosen: list[_Sentence]) -> bool:
    """The sentence right after a chosen one in the same passage goes on with its subject
    (约能用7天。改为每5分钟定位一次时约4天。)."""
    return any(c.passage == sentence.passage and c.position + 1 == sentence.position for c in chosen)


def sub_questions(question: str) -> list[str]:
    """ "插秧机补贴找谁问？电话多少？" asks two things; each gets its own best sentence. Words after the last
    question mark (synonyms the normaliser added) belong to every part."""
    pieces = [p.strip() for p in re.split(r"(?<=[？?])", question) if p.strip()]
    if len(pieces) < 2:
        return [question]
    context = "" if pieces[-1].endswith(("？", "?")) else pieces.pop()
    pieces = [p for p in pieces if len(p) > 2][:3]
    # "要自己去申请吗？" after "高龄补贴一个月多少？" is about 高龄补贴, as a follow-up would be.
    parts = [pieces[0], *(rewrite(p, [pieces[0]]) for p in pieces[1:])] if pieces else [question]
    return [f"{p} {context}".strip() for p in parts]
