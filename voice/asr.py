"""Speech recognition: faster-whisper (CTranslate2, int8 on the CPU), Simplified Chinese out."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from faster_whisper import WhisperModel

from knowledge.normalize import to_simplified
from voice.audio import SAMPLE_RATE, AudioError, DecodedAudio

log = logging.getLogger(__name__)

# A neutral prompt keeps the output in simplified characters; a domain prompt would leak its own words.
_PROMPT = "以下是普通话的句子。"


@dataclass(frozen=True)
class Transcript:
    text: str
    raw_text: str
    """Before simplification and the mis-hearing corrections."""
    duration_s: float
    seconds: float
    """Time spent recognising."""


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


@lru_cache(maxsize=2)
def _load(model_dir: str, threads: int) -> WhisperModel:
    started = time.perf_counter()
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    log.info("loaded speech model %s in %.2f s", model_dir, time.perf_counter() - started)
    return model


class Transcriber:
    """One model per process (loaded on first use, shared by every caller)."""

    def __init__(self, model_dir: Path, threads: int = 2) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self._lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        return _load(str(self.model_dir), self.threads)

    def transcribe(self, audio: DecodedAudio) -> Transcript:
        started = time.perf_counter()
        with self._lock:  # CTranslate2 already uses every thread; queue callers instead of oversubscribing
            segments, _ = self.model.transcribe(
                audio.samples,
                language="zh",
                initial_prompt=_PROMPT,
                beam_size=5,
                vad_filter=True,
                vad_parameters={"min_silence_duration_ms": 500},
                condition_on_previous_text=False,
                # Bounded, repeatable work: no sampling retries and a cap on tokens per segment, so a
                # robotic or noisy clip cannot make the decoder loop for tens of seconds.
                temperature=0.0,
                compression_ratio_threshold=2.4,
                no_speech_threshold=0.6,
                max_new_tokens=224,
                without_timestamps=True,
            )
            raw = "".join(segment.text for segment in segments).strip()
        if not raw:
            raise AudioError("no speech recognised", "没有听清您说的话，请靠近手机再说一遍。")
        text = correct(to_simplified(raw)).replace(" ", "")
        return Transcript(text, raw, len(audio.samples) / SAMPLE_RATE, time.perf_counter() - started)
