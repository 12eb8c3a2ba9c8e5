"""A local stand-in for an OpenAI-compatible chat server (vLLM, Ollama, DeepSeek ...) on 127.0.0.1.

It speaks the real wire format of POST /v1/chat/completions: a JSON `chat.completion`, or with
`"stream": true` server-sent `chat.completion.chunk` events ending in `data: [DONE]`, and OpenAI-style
error bodies. Each request takes the next scripted reply: answer text, an HTTP error status, or a delay.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    delay_s: float = 0.0


@dataclass
class FakeOpenAI:
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def script(self, *replies: Reply | str) -> None:
        self.replies[:] = [r if isinstance(r, Reply) else Reply(r) for r in replies]
        self.requests.clear()

    def next_reply(self) -> Reply:
        # The last reply repeats, so a retrying client keeps getting the same behaviour.
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def _pieces(text: str) -> Iterator[str]:
    """Token-like pieces of 1-3 characters, as real servers stream them."""
    for start in range(0, len(text), 2):
        yield text[start : start + 2]


def _app(fake: FakeOpenAI) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        fake.requests.append(body)
        reply = fake.next_reply()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            error = {"message": f"fake failure {reply.status}", "type": "server_error", "code": None}
            return JSONResponse({"error": error}, status_code=reply.status)
        made = int(time.time())
        base = {"id": "chatcmpl-fake", "created": made, "model": body.get("model", "")}
        if not body.get("stream"):
            message = {"role": "assistant", "content": reply.text}
            return JSONResponse(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
                }
            )

        async def events() -> AsyncIterator[str]:
            def chunk(delta: dict[str, str], finish: str | None = None) -> str:
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                data = {**base, "object": "chat.completion.chunk", "choices": [choice]}
                return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

            yield chunk({"role": "assistant", "content": ""})
            for piece in _pieces(reply.text):
                yield chunk({"content": piece})
            yield chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(replies=[Reply("资料中没有相关内容")])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(fake), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.02)
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
