"""The configured speech engines, in order."""

from __future__ import annotations

from voice.config import VoiceSettings
from voice.engines import make_engine
from voice.tts import Synthesizer


def make_synthesizer(settings: VoiceSettings) -> Synthesizer:
    """The engines `settings.tts_engines` names, from the registry in `voice.engines`, tried in order."""
    return Synthesizer([make_engine(name, settings) for name in settings.tts_engines], settings.tts_rate)


__all__ = ["make_engine", "make_synthesizer"]
