"""Speech synthesis: engines behind one interface, tried in the configured order with a timeout each.

When every engine fails the caller still has the text; `SynthesisFailed` says so, and the API and
WeChat then deliver the answer as text with a notice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from voice.audio import SAMPLE_RATE, Samples, encode_audio, to_samples
from voice.textnorm import normalize_for_speech
from zhtext.sentences import split_sentences

log = logging.getLogger(__name__)


class EngineUnavailable(RuntimeError):
    """One engine could not speak this time (offline, missing program, timeout)."""


class SynthesisFailed(RuntimeError):
    """No engine could speak; `reasons` holds each engine's failure for the log."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in reasons.items()))
        self.reasons = reasons


class NothingToSpeak(SynthesisFailed):
    """The text holds nothing a voice can say (only control characters, say): the caller's text is at
    fault, not the engines."""


class TTSEngine(Protocol):
    name: str

    def synthesize(self, text: str, rate: float) -> bytes:
        """Spoken `text` as audio bytes in any format PyAV decodes. `rate` is 1.0 for normal speed,
        0.8 for 20% slower. Raises `EngineUnavailable`."""
        ...


@dataclass(frozen=True)
class Speech:
    samples: Samples
    """16 kHz mono float32."""
    engine: str
    seconds: float
    """Time the synthesis took."""
    failed: dict[str, str] = field(default_factory=dict)
    """Engines that were tried first and failed, with why."""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def encode(self, fmt: str) -> bytes:
        return encode_audio(self.samples, fmt)


def spoken_sentences(text: str) -> list[str]:
    return [s.strip() for s in split_sentences(text) if s.strip()]


class Synthesizer:
    def __init__(self, engines: Sequence[TTSEngine], rate: float = 0.9, cooldown_s: float = 60.0) -> None:
        if not engines:
            raise ValueError("at least one speech engine is needed")
        self.engines = list(engines)
        self.rate = rate
        self.cooldown_s = cooldown_s
        self._failed_at: dict[str, float] = {}

    def _order(self) -> list[TTSEngine]:
        """Engines that failed recently go to the back, so an unreachable online voice costs its timeout
        once a minute, not on every sentence."""
        now = time.monotonic()
        cooling = {n for n, at in self._failed_at.items() if now - at < self.cooldown_s}
        return [e for e in self.engines if e.name not in cooling] + [
            e for e in self.engines if e.name in cooling
        ]

    def synthesize(self, text: str, rate: float | None = None) -> Speech:
        """The first engine that works speaks the whole text. Raises `SynthesisFailed` and nothing else:
        a caller speaking an answer sentence by sentence then only ever has to fall back to text."""
        try:
            spoken = normalize_for_speech(text)
        except Exception as exc:  # tested never to happen; if it does, the answer is still given as text
            log.exception("text normalisation failed on a text of %d characters", len(text))
            raise SynthesisFailed({"text normalisation": f"{type(exc).__name__}: {exc}"}) from exc
        if not spoken.strip():
            raise NothingToSpeak({"text normalisation": "nothing to speak"})
        failed: dict[str, str] = {}
        for engine in self._order():
            started = time.perf_counter()
            try:
                samples = to_samples(engine.synthesize(spoken, rate or self.rate))
            except EngineUnavailable as exc:
                failed[engine.name] = str(exc)
                self._failed_at[engine.name] = time.monotonic()
                log.warning("speech engine %s failed, trying the next: %s", engine.name, exc)
                continue
            except Exception as exc:  # a bug or an unreadable output in one engine is that engine failing
                failed[engine.name] = f"{type(exc).__name__}: {exc}"
                self._failed_at[engine.name] = time.monotonic()
                log.exception("speech engine %s failed unexpectedly, trying the next", engine.name)
                continue
            self._failed_at.pop(engine.name, None)
            return Speech(samples, engine.name, time.perf_counter() - started, failed)
        raise SynthesisFailed(failed)

    def sentences(self, text: str, rate: float | None = None) -> Iterator[tuple[str, Speech]]:
        """Sentence by sentence, so the first audio is ready before the whole answer is synthesised."""
        for sentence in spoken_sentences(text):
            yield sentence, self.synthesize(sentence, rate)
