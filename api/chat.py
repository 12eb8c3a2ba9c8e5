"""Text questions: one answer as JSON, or the answer as it is produced over Server-Sent Events."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.deps import ServicesDep, rate_limited, ready
from api.errors import ErrorBody, ErrorDetail, responses
from api.schemas import ChatRequest
from api.services import Services
from assistant.answer import Answer
from assistant.events import Finished, Retrieved, Rewritten, TextDelta

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["chat"], dependencies=[Depends(ready), Depends(rate_limited)])

_STREAM_DOC = """Server-Sent Events, in this order:
`question` {standalone_question, session_id}; `sources` {passages} (not for small talk);
`delta` {text} one or more pieces of the answer text with [n] marks;
`audio` {index, url, text} one per spoken sentence when `speak` is true;
`done` {answer: Answer, replaced: bool, audio_urls}: the checked answer, which clients show in place of
the deltas when `replaced` is true; or `error` {error: {code, message}} instead of `done`."""


_SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["question", "sources", "delta", "audio", "done", "error"]},
        "data": {"type": "string", "description": "The event's JSON payload."},
    },
}


@router.post("/chat", response_model=Answer, responses=responses(400, 422, 429, 503))
def chat(body: ChatRequest, svc: ServicesDep) -> Answer:
    """Ask a question; the answer names its sources, or says the documents do not cover it."""
    return svc.ask_web(body.message, body.session_id)


def _event(name: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False), event=name)


def _produce(svc: Services, body: ChatRequest, out: queue.Queue[ServerSentEvent | None]) -> None:
    """Runs to the end even when the client goes away, so the assistant is never left half-way."""
    try:
        answer: Answer | None = None
        replaced = False
        for event in svc.stream_web(body.message, body.session_id):
            if isinstance(event, Rewritten):
                data = {"standalone_question": event.standalone_question, "session_id": event.session_id}
                out.put(_event("question", data))
            elif isinstance(event, Retrieved):
                out.put(_event("sources", {"passages": [p.model_dump() for p in event.passages]}))
            elif isinstance(event, TextDelta):
                out.put(_event("delta", {"text": event.text}))
            elif isinstance(event, Finished):
                answer, replaced = event.answer, event.replaced
        assert answer is not None
        urls = []
        if body.speak:
            for index, clip in enumerate(svc.speak_sentences(answer.speech)):
                url = f"/api/v1/audio/{clip.clip_id}"
                urls.append(url)
                out.put(_event("audio", {"index": index, "url": url, "text": clip.text}))
        done = {"answer": answer.model_dump(), "replaced": replaced, "audio_urls": urls}
        out.put(_event("done", done))
    except Exception:
        log.exception("streamed answer failed")
        error = ErrorBody(error=ErrorDetail(code="internal_error", message="系统出了点问题，请稍后再试。"))
        out.put(_event("error", error.model_dump()))
    finally:
        out.put(None)


@router.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"description": _STREAM_DOC, "content": {"text/event-stream": {"schema": _SSE_EVENT}}},
        **responses(400, 422, 429, 503),
    },
)
def chat_stream(body: ChatRequest, svc: ServicesDep) -> EventSourceResponse:
    """The answer as it is produced: understood question, sources, text, spoken sentences, final answer."""
    events: queue.Queue[ServerSentEvent | None] = queue.Queue()
    threading.Thread(target=_produce, args=(svc, body, events), name="chat-stream", daemon=True).start()

    async def relay() -> AsyncIterator[ServerSentEvent]:
        while (event := await anyio.to_thread.run_sync(events.get)) is not None:
            yield event

    return EventSourceResponse(relay())
