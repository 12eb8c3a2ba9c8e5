"""Speech recognition: faster-whisper (CTranslate2, int8 on the CPU), Simplified Chinese out.

Whisper base mishears about one character in five, mostly as homophones, and the right words are often
among the other hypotheses of its beam search (宅基地审批 heard as 摘机的审批 by the best, as 宅基地审批
by the second). Every hypothesis of the beam is kept, and a caller that knows which words to expect (the
knowledge base's own vocabulary) chooses among them: nothing primes the decoder, so no expected word
can appear in a transcript unless Whisper itself heard it as one of its candidates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from knowledge.normalize import to_simplified
from voice.audio import SAMPLE_RATE, AudioError, DecodedAudio

log = logging.getLogger(__name__)

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
    # noisy clip cannot make the decoder loop for tens of seconds.
    "temperature": 0.0,
    "compression_ratio_threshold": 2.4,
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
    """Before simplification and the mis-hearing corrections."""
    duration_s: float
    seconds: float
    """Time spent recognising."""
    hypotheses: tuple[tuple[Hypothesis, ...], ...] = ()
    """Each 30-second window's beam, Whisper's best first, so the choice can be made again."""


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


def clean(raw: str) -> str:
    """Whisper's text as the rest of the product reads it: simplified, corrected, without spaces."""
    return correct(to_simplified(raw)).replace(" ", "")


def choose(beam: Sequence[Hypothesis], prefer: Preference | None, weight: float) -> Hypothesis:
    """The hypothesis with the best log probability plus `weight` times how expected it is; Whisper's
    own best wins ties. Measured on the demo's spoken questions (benchmarks/voice.py)."""
    if prefer is None or weight <= 0 or len(beam) < 2:
        return beam[0]
    return max(beam, key=lambda h: h.score + weight * prefer(clean(h.text)))


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
        duration = len(audio.samples) / SAMPLE_RATE
        return Transcript(clean(raw), raw, duration, time.perf_counter() - started, tuple(beams))

    @staticmethod
    def _beams(model: WhisperModel, recorded: list[object], texts: list[str]) -> list[tuple[Hypothesis, ...]]:
        """The beam behind each segment: one decoding call per 30-second window, and without timestamps
        one segment per window. If that ever does not hold (a window skipped as silence), each segment
        stands alone as Whisper's best."""
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="zh")
        beams = [
            tuple(
                Hypothesis(tokenizer.decode(ids), score)
                for ids, score in zip(result.sequences_ids, result.scores, strict=True)  # type: ignore[attr-defined]
            )
            for result in recorded
        ]
        if len(beams) == len(texts) and all(b[0].text == t for b, t in zip(beams, texts, strict=True)):
            return beams
        return [(Hypothesis(text, 0.0),) for text in texts]
