"""Speech recognition: faster-whisper (CTranslate2, int8 on the CPU), Simplified Chinese out.

Whisper base mishears about one character in five, mostly as homophones, and the right words are often
among the other hypotheses of its beam search (宅基地审批 heard as 摘机的审批 by the best, as 宅基地审批
by the second). Every hypothesis of the beam is kept, and a caller that knows which words to expect (the
knowledge base's own vocabulary) chooses among them: nothing primes the decoder, so no expected word
can appear in a transcript unless Whisper itself heard it as one of its candidates.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from voice.audio import SAMPLE_RATE, AudioError, DecodedAudio
from zhtext.normalize import to_simplified

log = logging.getLogger(__name__)

# Characters a speaker's own repetition can account for (对对对对, 好的好的好的); a looping decoder runs
# on to its token limit, a hundred characters and more.
_MOST_REPEATED_BY_A_SPEAKER = 12
_LONGEST_LOOP_UNIT = 6
_NUMERAL = re.compile(r"[\d,，]+")
_NOT_WORD = re.compile(r"[^\w]+")


DECODING: dict[str, object] = {
    "language": "zh",
    # No initial prompt: a neutral one (以下是普通话的句子。) only kept the output in simplified
    # characters, which `to_simplified` does anyway, and it cost accuracy (CER .182 -> .178 on real
    # recordings, .238 -> .217 on spoken questions); a domain prompt would leak its own words.
    "initial_prompt": None,
    "beam_size": 5,
    "vad_filter": True,
    "vad_parameters": {"min_silence_duration_ms": 500},
    "condition_on_previous_text": False,
    # Bounded, repeatable work: no sampling retries and a cap on tokens per segment, so a robotic or
    # noisy clip cannot make the decoder loop for tens of seconds. Retries at temperatures 0.2 and 0.4
    # for a repetitive window were measured: they looped again, at three times the cost (20 robotic
    # espeak-ng clips: 300 s instead of 111 s, the slowest 28 s), and made transcripts random.
    "temperature": 0.0,
    "compression_ratio_threshold": 2.4,
    # A mild penalty on repeated tokens shortens loops (those 20 clips: 80 s, the slowest 8 s) and left
    # every transcript of the 15 real recordings unchanged (CER .178); spoken demo questions .194 -> .192.
    # 1.3 changed real transcripts; no_repeat_ngram_size only made the loops vary (and uncuttable).
    "repetition_penalty": 1.1,
    "no_speech_threshold": 0.6,
    "max_new_tokens": 224,
    "without_timestamps": True,
}
"""faster-whisper's decoding options, the same for every caller (benchmarks key their caches on them)."""


Preference = Callable[[str], float]
"""How expected a transcript is, 0..1 (e.g. the share of it in the knowledge base's words)."""


@dataclass(frozen=True)
class Hypothesis:
    text: str
    """As Whisper wrote it (before simplification and the mis-hearing corrections)."""
    score: float
    """Whisper's log probability per token; higher is likelier."""


@dataclass(frozen=True)
class Transcript:
    text: str
    raw_text: str
    """Before simplification, the mis-hearing corrections and the repetition cut."""
    duration_s: float
    seconds: float
    """Time spent recognising."""
    hypotheses: tuple[tuple[Hypothesis, ...], ...] = ()
    """Each 30-second window's beam, Whisper's best first, so the choice can be made again."""
    repeated: int = 0
    """Characters cut from `text` as a runaway repetition (see `cut_repetition`)."""

    def alternatives(self) -> list[tuple[str, float]]:
        """Every hypothesis as the product reads it (issue 16): the n-th of each window's beam joined
        (a window with fewer takes its best), cleaned and cut like `text`, with the windows' mean score;
        the same text once (its best score), Whisper's best first. [(text, score)]."""
        return alternatives(self.hypotheses) or [(self.text, 0.0)]

    @property
    def mostly_repetition(self) -> bool:
        """The decoder looped rather than heard a question: more was cut than kept, and more than a
        short phrase said over and over (谢谢谢谢) could account for."""
        return self.repeated > max(len(self.text), _MOST_REPEATED_BY_A_SPEAKER)


@lru_cache(maxsize=1)
def corrections() -> tuple[tuple[str, str], ...]:
    text = resources.files("voice").joinpath("data/corrections.tsv").read_text(encoding="utf-8")
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            heard, meant = line.split("\t")
            pairs.append((heard.strip(), meant.strip()))
    return tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True))


def correct(text: str) -> str:
    for heard, meant in corrections():
        text = text.replace(heard, meant)
    return text


def _loop_at(text: str, start: int) -> tuple[str, int] | None:
    """The shortest unit repeated three or more times from `start`, and where its run ends."""
    for size in range(1, min(_LONGEST_LOOP_UNIT, (len(text) - start) // 3) + 1):
        unit = text[start : start + size]
        end = start + size
        while text.startswith(unit, end):
            end += size
        if end - start >= 3 * size and not _NUMERAL.fullmatch(unit):
            return unit, end
    return None


def cut_repetition(text: str) -> str:
    """`text` with every run of one unit of 1-6 characters said three or more times in a row kept once,
    and a last unit that the token limit cut short dropped: Whisper can loop on a stretch of audio
    (可以开车辆开车辆开车辆…). Doubled words (常常, 看看) stay, and so do the zeros of 1000000."""
    kept: list[str] = []
    i = 0
    while i < len(text):
        loop = _loop_at(text, i)
        if loop is None:
            kept.append(text[i])
            i += 1
            continue
        unit, i = loop
        kept.append(unit)
        if unit.startswith(text[i:]):
            break
    return "".join(kept)


def clean(raw: str) -> str:
    """Whisper's text as the rest of the product reads it: simplified, corrected, without spaces."""
    return correct(to_simplified(raw)).replace(" ", "")


def choose(beam: Sequence[Hypothesis], prefer: Preference | None, weight: float) -> Hypothesis:
    """The hypothesis with the best log probability plus `weight` times how expected it is; Whisper's
    own best wins ties. Measured on the demo's spoken questions (benchmarks/voice.py)."""
    if prefer is None or weight <= 0 or len(beam) < 2:
        return beam[0]
    return max(beam, key=lambda h: h.score + weight * prefer(clean(h.text)))


def alternatives(beams: Sequence[Sequence[Hypothesis]]) -> list[tuple[str, float]]:
    """See `Transcript.alternatives`."""
    if not beams:
        return []
    seen: dict[str, tuple[str, float]] = {}  # the same words, punctuation aside, once
    for n in range(max(len(beam) for beam in beams)):
        parts = [beam[n] if n < len(beam) else beam[0] for beam in beams]
        text = cut_repetition(clean("".join(h.text for h in parts).strip()))
        score = sum(h.score for h in parts) / len(parts)
        key = _NOT_WORD.sub("", text)
        if key and (key not in seen or score > seen[key][1]):
            seen[key] = (seen[key][0] if key in seen else text, score)
    return list(seen.values())


class _EveryHypothesis:
    """CTranslate2's Whisper, asked for every hypothesis of its beam instead of the best only.
    faster-whisper reads the first as before; the whole beam of each call is kept per thread."""

    def __init__(self, model: object) -> None:
        self._model = model
        self._local = threading.local()

    def __getattr__(self, name: str) -> object:
        return getattr(self._model, name)

    def start(self) -> list[object]:
        self._local.results = []
        return self._local.results  # type: ignore[no-any-return]

    def generate(self, *args: object, **kwargs: object) -> list[object]:
        beam_size = kwargs.get("beam_size", 1)
        if isinstance(beam_size, int) and beam_size > 1:
            kwargs.setdefault("num_hypotheses", beam_size)
        results: list[object] = self._model.generate(*args, **kwargs)  # type: ignore[attr-defined]
        getattr(self._local, "results", []).append(results[0])
        return results


@lru_cache(maxsize=2)
def _load(model_dir: str, threads: int) -> WhisperModel:
    started = time.perf_counter()
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    model.model = _EveryHypothesis(model.model)
    log.info("loaded speech model %s in %.2f s", model_dir, time.perf_counter() - started)
    return model


class Transcriber:
    """One model per process (loaded on first use, shared by every caller). `prefer` chooses among the
    hypotheses of the beam (see `choose`); without it the transcript is Whisper's best."""

    def __init__(
        self, model_dir: Path, threads: int = 2, prefer: Preference | None = None, weight: float = 1.0
    ) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self.prefer = prefer
        self.weight = weight
        self._lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        return _load(str(self.model_dir), self.threads)

    def transcribe(self, audio: DecodedAudio) -> Transcript:
        started = time.perf_counter()
        model = self.model
        with self._lock:  # CTranslate2 already uses every thread; queue callers instead of oversubscribing
            recorded = model.model.start()
            segments, _ = model.transcribe(audio.samples, **DECODING)
            texts = [segment.text for segment in segments]
            beams = self._beams(model, recorded, texts)
        raw = "".join(choose(beam, self.prefer, self.weight).text for beam in beams).strip()
        if not raw:
            raise AudioError("no speech recognised", "没有听清您说的话，请靠近手机再说一遍。")
        heard = clean(raw)
        text = cut_repetition(heard)
        duration = len(audio.samples) / SAMPLE_RATE
        return Transcript(
            text, raw, duration, time.perf_counter() - started, tuple(beams), len(heard) - len(text)
        )

    @staticmethod
    def _beams(model: WhisperModel, recorded: list[object], texts: list[str]) -> list[tuple[Hypothesis, ...]]:
        """The beam behind each segment: without timestamps one segment per 30-second window, and the
        window's decoding call whose best hypothesis is the segment's text (with a temperature fallback
        a window is decoded again until one attempt is kept). If that ever does not hold (a window
        skipped as silence), each segment stands alone as Whisper's best."""
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="zh")
        attempts = iter(
            tuple(
                Hypothesis(tokenizer.decode(ids), score)
                for ids, score in zip(result.sequences_ids, result.scores, strict=True)  # type: ignore[attr-defined]
            )
            for result in recorded
        )
        beams = []
        for text in texts:
            beam = next((attempt for attempt in attempts if attempt[0].text == text), None)
            if beam is None:
                return [(Hypothesis(text, 0.0),) for text in texts]
            beams.append(beam)
        return beams
