"""Audio bytes in, transcript out: decoding, limits and the configured speech model together."""

from __future__ import annotations

from functools import cached_property

from voice.asr import Transcriber, Transcript
from voice.audio import decode_audio
from voice.models import whisper_base
from xiangyin.settings import Settings


class SpeechRecognizer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def transcriber(self) -> Transcriber:
        model_dir = self.settings.whisper_model_path or whisper_base(self.settings.models_dir)
        return Transcriber(model_dir, self.settings.asr_threads)

    def recognize(self, data: bytes) -> Transcript:
        """Raises `voice.audio.AudioError` (with a Chinese message) for audio that cannot be used."""
        audio = decode_audio(
            data, max_bytes=self.settings.max_audio_bytes, max_duration_s=self.settings.max_audio_seconds
        )
        return self.transcriber.transcribe(audio)
