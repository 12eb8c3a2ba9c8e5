"""A spoken question streamed while the button is held (issue 16): WebSocket /api/v1/speech/stream.

The client sends binary frames of 16-bit little-endian PCM, 16 kHz mono (any length, whole samples),
then a text frame `{"type": "end", "session_id": ..., "speak": true}`, or `{"type": "cancel"}` to drop
the question. The server answers with JSON text frames:

- `{"type": "ready", "max_seconds"}` once the question may be spoken;
- `{"type": "partial", "index", "text", "so_far"}` each time a pause closes a stretch of speech;
- after `end`: `{"type": "transcript", "text", "duration_s"}`, `{"type": "answer", "answer": Answer}`,
  `{"type": "audio", "index", "url", "text"}` per spoken piece as soon as each is synthesised, and
  `{"type": "done", "transcript", "answer", "audio_urls", "notice"}`: the upload route's payload
  (`POST /api/v1/voice`), with the answer spoken sentence by sentence (a long first sentence in two
  clips) so that the first plays while the rest is synthesised;
- `{"type": "error", "error": {"code", "message"}}` (a Chinese message), after which the server closes
  the socket (the close reason repeats the message).

Browsers cannot read the HTTP status of a refused WebSocket handshake, so a rate limit or a server that
is still loading is told the same way, after accepting. Audio is bounded like uploads (`max_audio_seconds`,
`max_audio_bytes`) while it arrives, and a question must end within that many seconds plus a grace
period. A client that goes away cancels the recognition.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any, cast

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from api.errors import ApiError
from api.services import Services
from api.speech import NO_VOICE, SESSION_ID_MAX, SESSION_ID_PATTERN, answer_spoken, clip_url
from voice.audio import AudioError
from voice.streaming import Endpointing, Partial, StreamingRecognizer, StreamTooLong
from voice.tts import NothingToSpeak, Speech, SynthesisFailed, spoken_sentences

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["voice"])

PATH = "/api/v1/speech/stream"

# Close codes (RFC 6455).
NORMAL, POLICY, UNSUPPORTED, TOO_BIG, INVALID, TRY_LATER = 1000, 1008, 1003, 1009, 1007, 1013
SERVER_ERROR = 1011
INTERNAL_ERROR = "系统出了点问题，请稍后再试。"

FIRST_CLIP_CHARS = 16
"""A first sentence longer than this is spoken in two clips (see `spoken_pieces`)."""
MIN_CLAUSE_CHARS = 6
_CLAUSE_END = "，,：:；;"
_OPEN, _CLOSE = "（(“《", "）)”》"

_SESSION_ID = re.compile(SESSION_ID_PATTERN)
_CLOSE_REASON_BYTES = 123


class StreamClosed(Exception):
    """The question cannot go on; the client has been told why."""


class _Conversation:
    """One socket: a single writer task sends every message in order (partials come from the
    recognition thread, the rest from the route)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.loop = asyncio.get_running_loop()
        self.outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write())

    @property
    def gone(self) -> bool:
        """The client went away (the writer stopped on a failed send)."""
        return self.writer.done()

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put_nowait(message)

    def send_from_thread(self, message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.outbox.put_nowait, message)

    async def _write(self) -> None:
        while (message := await self.outbox.get()) is not None:
            await self.websocket.send_text(json.dumps(message, ensure_ascii=False))

    async def close(self, code: int = NORMAL, reason: str = "") -> None:
        """Everything queued is sent first."""
        self.outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await self.writer
        if self.websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close(code, _close_reason(reason))

    async def fail(self, code: str, message: str, close_code: int) -> StreamClosed:
        self.send({"type": "error", "error": {"code": code, "message": message}})
        await self.close(close_code, message)
        return StreamClosed(code)

    def abandon(self) -> None:
        self.writer.cancel()


def _close_reason(text: str) -> str:
    """A close frame's reason holds at most 123 bytes."""
    encoded = text.encode()
    if len(encoded) <= _CLOSE_REASON_BYTES:
        return text
    return encoded[:_CLOSE_REASON_BYTES].decode(errors="ignore")


def _partial_message(partial: Partial) -> dict[str, Any]:
    return {"type": "partial", "index": partial.index, "text": partial.text, "so_far": partial.so_far}


def _admit(svc: Services, websocket: WebSocket) -> None:
    """The upload route's dependencies, for a socket: loaded, and the client within its rate."""
    if not svc.ready:
        raise ApiError(503, "not_ready", "服务还在准备中，请稍后再试。")
    # The limiter reads only the client address and headers, which a WebSocket has like a request.
    svc.limiter.check(cast(Request, websocket))


def _end_fields(message: dict[str, Any]) -> tuple[str | None, bool]:
    session_id = message.get("session_id")
    speak = message.get("speak", True)
    if session_id is not None and (
        not isinstance(session_id, str)
        or len(session_id) > SESSION_ID_MAX
        or not _SESSION_ID.fullmatch(session_id)
    ):
        raise ValueError("session_id")
    if not isinstance(speak, bool):
        raise ValueError("speak")
    return session_id, speak


async def _receive_until_end(
    websocket: WebSocket, talk: _Conversation, recognizer: StreamingRecognizer, deadline: float
) -> tuple[str | None, bool] | None:
    """Feeds audio to the recogniser until `end` (its session id and speak flag) or `cancel` (None)."""
    while True:
        remaining = deadline - talk.loop.time()
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=max(remaining, 0.001))
        except TimeoutError:
            raise await talk.fail("timeout", "等待时间太长了，请重新按住按钮说话。", POLICY) from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if (data := message.get("bytes")) is not None:
            try:
                recognizer.feed(data)
            except StreamTooLong as exc:
                raise await talk.fail("audio_too_long", exc.message, TOO_BIG) from exc
            except AudioError as exc:
                raise await talk.fail("bad_audio", exc.message, INVALID) from exc
            continue
        try:
            command = json.loads(message.get("text") or "")
            if not isinstance(command, dict) or command.get("type") not in ("end", "cancel"):
                raise ValueError("type")
            if command["type"] == "cancel":
                return None
            return _end_fields(command)
        except ValueError:
            log.info("speech stream: a malformed text frame %.80r", message.get("text"))
            raise await talk.fail(
                "bad_message",
                '语音连接收到了看不懂的消息，请刷新页面再试。（应为语音数据，或 {"type": "end"}）',
                UNSUPPORTED,
            ) from None


def spoken_pieces(text: str) -> list[str]:
    """The answer's sentences, the first cut after its first clause when it is long: the offline voice
    needs about a tenth of a second per second of speech, so a short first clip starts the answer
    sooner, and the rest is synthesised while it plays. A comma inside brackets is no clause's end."""
    sentences = spoken_sentences(text)
    if not sentences or len(sentences[0]) <= FIRST_CLIP_CHARS:
        return sentences
    first, depth = sentences[0], 0
    for at, char in enumerate(first):
        depth += (char in _OPEN) - (char in _CLOSE)
        if char in _CLAUSE_END and depth <= 0 and MIN_CLAUSE_CHARS <= at + 1 <= len(first) - MIN_CLAUSE_CHARS:
            return [first[: at + 1], first[at + 1 :], *sentences[1:]]
    return sentences


def _store_mp3(svc: Services, speech: Speech) -> str:
    return svc.clips.put(speech.encode("mp3"))


async def _speak(svc: Services, talk: _Conversation, text: str) -> tuple[list[str], str]:
    """The answer spoken piece by piece, each clip announced as soon as it exists."""
    urls: list[str] = []
    for piece in spoken_pieces(text):
        if talk.gone:
            break
        try:
            speech = await run_in_threadpool(svc.speak, piece, None)
        except NothingToSpeak:
            continue
        except SynthesisFailed:
            break
        urls.append(clip_url(await run_in_threadpool(_store_mp3, svc, speech)))
        talk.send({"type": "audio", "index": len(urls) - 1, "url": urls[-1], "text": piece})
    return urls, "" if urls or not text.strip() else NO_VOICE


@router.websocket("/speech/stream")
async def speech_stream(websocket: WebSocket) -> None:
    svc: Services = websocket.app.state.services
    await websocket.accept()
    talk = _Conversation(websocket)
    recognizer: StreamingRecognizer | None = None
    try:
        try:
            _admit(svc, websocket)
        except ApiError as exc:
            close_code = TRY_LATER if exc.status == 503 else POLICY
            raise await talk.fail(exc.code, exc.message, close_code) from exc
        s = svc.settings
        recognizer = StreamingRecognizer(
            svc.recognizer.transcriber,
            endpointing=Endpointing(min_silence_ms=s.asr_stream_min_silence_ms),
            window_margin_s=s.asr_stream_window_margin_s,
            max_seconds=s.max_audio_seconds,
            max_bytes=s.max_audio_bytes,
            on_partial=lambda partial: talk.send_from_thread(_partial_message(partial)),
        )
        talk.send({"type": "ready", "max_seconds": s.max_audio_seconds})
        ended = await _receive_until_end(
            websocket, talk, recognizer, talk.loop.time() + s.max_audio_seconds + s.speech_stream_grace_s
        )
        if ended is None:
            recognizer.cancel()
            await talk.close(NORMAL, "cancelled")
            return
        session_id, speak = ended
        try:
            transcript = await asyncio.wrap_future(recognizer.finish())
        except AudioError as exc:
            log.info("streamed question rejected: %s", exc)
            raise await talk.fail("audio_unusable", exc.message, NORMAL) from exc
        talk.send(
            {"type": "transcript", "text": transcript.text, "duration_s": round(transcript.duration_s, 2)}
        )
        answer = await answer_spoken(svc, transcript, session_id)
        talk.send({"type": "answer", "answer": answer.model_dump(mode="json")})
        urls, notice = await _speak(svc, talk, answer.speech) if speak else ([], "")
        talk.send(
            {
                "type": "done",
                "transcript": transcript.text,
                "answer": answer.model_dump(mode="json"),
                "audio_urls": urls,
                "notice": notice,
            }
        )
        await talk.close(NORMAL)
    except StreamClosed:
        if recognizer is not None:
            recognizer.cancel()
    except WebSocketDisconnect:
        log.info("speech stream: the client went away")
        if recognizer is not None:
            recognizer.cancel()
        talk.abandon()
    except Exception:
        log.exception("speech stream failed")
        if recognizer is not None:
            recognizer.cancel()
        # The HTTP routes' 500, as a message: the page shows it instead of waiting.
        await talk.fail("internal_error", INTERNAL_ERROR, SERVER_ERROR)
    except BaseException:  # cancelled (the server stops): nothing more is sent
        if recognizer is not None:
            recognizer.cancel()
        talk.abandon()
        raise
