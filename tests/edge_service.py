"""A local stand-in for Microsoft's read-aloud service that edge-tts 7.3.1 talks to.

It speaks the service's WebSocket protocol as the library reads it: the client sends a `speech.config`
text message and an `ssml` text message; the service answers `turn.start`, binary `audio` frames (two
bytes of header length, the header, then MP3 bytes), `audio.metadata` with a sentence boundary, and
`turn.end`. The audio is real MP3 (24 kHz mono, as the service sends) made by the project's own encoder
from a tone lasting 0.2 s per character of text, so a test can decode it back and check it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import dataclass
from types import TracebackType
from xml.etree import ElementTree

import numpy as np
from aiohttp import web

from voice.audio import Samples, encode_audio

SERVICE_RATE = 24_000
TONE_HZ = 440.0
SECONDS_PER_CHAR = 0.2
_SSML = "{http://www.w3.org/2001/10/synthesis}"


@dataclass(frozen=True)
class Request:
    voice: str
    rate: str
    text: str
    output_format: str
    query: dict[str, str]


def tone(text: str) -> Samples:
    t = np.arange(int(SERVICE_RATE * SECONDS_PER_CHAR * len(text))) / SERVICE_RATE
    samples: Samples = (0.4 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    return samples


def _text_message(request_id: str, path: str, body: str) -> str:
    return (
        f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
        f"Path:{path}\r\n\r\n{body}"
    )


def _audio_message(request_id: str, data: bytes) -> bytes:
    header = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n".encode()
    return len(header).to_bytes(2, "big") + header + data


class FakeEdgeService:
    """Runs on 127.0.0.1 in a thread of its own; `url` replaces edge_tts.communicate.WSS_URL.

    `hang_on`: a text whose request is accepted and then never answered (a service that stalls)."""

    def __init__(self, hang_on: str | None = None) -> None:
        self.hang_on = hang_on
        self.requests: list[Request] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        app = web.Application()
        app.router.add_get("/consumer/speech/synthesize/readaloud/edge/v1", self._speak)
        self._runner = web.AppRunner(app)
        self.port = 0

    @property
    def url(self) -> str:
        return (
            f"ws://127.0.0.1:{self.port}/consumer/speech/synthesize/readaloud/edge/v1"
            "?TrustedClientToken=6A5AA1D4EAFF4E9FB37E23D68491D6F4"
        )

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def __enter__(self) -> FakeEdgeService:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _speak(self, http: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(http)
        config_message = await ws.receive_str()
        ssml_message = await ws.receive_str()
        headers, _, config = config_message.partition("\r\n\r\n")
        assert "Path:speech.config" in headers
        ssml_headers, _, ssml = ssml_message.partition("\r\n\r\n")
        assert "Path:ssml" in ssml_headers
        speak = ElementTree.fromstring(ssml)
        voice = speak.find(f"{_SSML}voice")
        prosody = speak.find(f"{_SSML}voice/{_SSML}prosody")
        assert voice is not None and prosody is not None
        text = prosody.text or ""
        self.requests.append(
            Request(
                voice=voice.get("name", ""),
                rate=prosody.get("rate", ""),
                text=text,
                output_format=json.loads(config)["context"]["synthesis"]["audio"]["outputFormat"],
                query=dict(http.query),
            )
        )
        if self.hang_on is not None and self.hang_on in text:
            await ws.receive()  # until the client gives up and closes
            return ws
        request_id = uuid.uuid4().hex
        await ws.send_str(_text_message(request_id, "turn.start", '{"context":{}}'))
        mp3 = encode_audio(tone(text), "mp3", rate=SERVICE_RATE)
        for start in range(0, len(mp3), 4096):  # the service streams audio in many small frames
            await ws.send_bytes(_audio_message(request_id, mp3[start : start + 4096]))
        boundary = {
            "Type": "SentenceBoundary",
            "Data": {
                "Offset": 1_000_000,
                "Duration": int(len(text) * SECONDS_PER_CHAR * 1e7),
                "text": {"Text": text, "Length": len(text), "BoundaryType": "SentenceBoundary"},
            },
        }
        await ws.send_str(_text_message(request_id, "audio.metadata", json.dumps({"Metadata": [boundary]})))
        # The end of the audio: a frame with no Content-Type and no data.
        end = f"X-RequestId:{request_id}\r\nPath:audio\r\n".encode()
        await ws.send_bytes(len(end).to_bytes(2, "big") + end)
        await ws.send_str(_text_message(request_id, "turn.end", "{}"))
        await ws.close()
        return ws
