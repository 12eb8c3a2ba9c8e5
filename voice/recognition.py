"""Audio bytes in, transcript out: decoding, limits and the configured speech model together."""

from __future__ import annotations

from functools import cached_property

from voice.asr import Preference, Transcriber, Transcript
from voice.audio import AudioError, decode_audio
from voice.config import VoiceSettings
from voice.models import whisper_base


class SpeechRecognizer:
    def __init__(self, settings: VoiceSettings, prefer: Preference | None = None) -> None:
        """`prefer`: how expected a transcript is (the knowledge base's `known_share`), to choose among
        Whisper's hypotheses."""
        self.settings = settings
        self.prefer = prefer

    @cached_property
    def transcriber(self) -> Transcriber:
        s = self.settings
        model_dir = s.whisper_model_path or whisper_base(s.models_dir)
        return Transcriber(model_dir, s.asr_threads, self.prefer, s.asr_vocabulary_weight)

    def recognize(self, data: bytes) -> Transcript:
        """Raises `voice.audio.AudioError` (with a Chinese message) for audio that cannot be used, and
        for a transcript that is mostly the decoder looping: that is no question to answer."""
        audio = decode_audio(
            data, max_bytes=self.settings.max_audio_bytes, max_duration_s=self.settings.max_audio_seconds
        )
        transcript = self.transcriber.transcribe(audio)
        if transcript.mostly_repetition:
            raise AudioError(
                f"mostly repetition: {transcript.repeated} characters cut, {transcript.text!r} kept",
                "没有听清您说的话，请慢一点再说一遍。",
            )
        return transcript
