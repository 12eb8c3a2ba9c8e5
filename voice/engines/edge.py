"""edge-tts: Microsoft's online neural voices (warm, clear Mandarin). Needs the internet; offline it
fails within the timeout and the next engine speaks."""

from __future__ import annotations

import asyncio

import edge_tts

from voice.tts import EngineUnavailable


def _rate(rate: float) -> str:
    return f"{round((rate - 1) * 100):+d}%"


class EdgeEngine:
    name = "edge-tts"

    def __init__(
        self, voice: str = "zh-CN-XiaoxiaoNeural", timeout_s: float = 6.0, proxy: str | None = None
    ) -> None:
        self.voice = voice
        self.timeout_s = timeout_s
        self.proxy = proxy

    async def _stream(self, text: str, rate: float) -> bytes:
        communicate = edge_tts.Communicate(text, self.voice, rate=_rate(rate), proxy=self.proxy)
        audio = bytearray()
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                audio.extend(chunk["data"])
        return bytes(audio)

    def synthesize(self, text: str, rate: float) -> bytes:
        try:
            audio = asyncio.run(asyncio.wait_for(self._stream(text, rate), self.timeout_s))
        except TimeoutError as exc:
            raise EngineUnavailable(f"edge-tts timed out after {self.timeout_s:.0f} s") from exc
        except Exception as exc:  # aiohttp and edge-tts raise many types when the service is unreachable
            raise EngineUnavailable(f"edge-tts unreachable: {type(exc).__name__}: {exc}") from exc
        if not audio:
            raise EngineUnavailable("edge-tts returned no audio")
        return audio
