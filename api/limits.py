"""Request bodies are bounded while they stream in, and admin routes check the token before reading one.

FastAPI reads a whole request body (and spools a multipart one to disk) before any dependency or route
code runs, so neither the admin token nor a size check inside a route can stop a 1 GiB upload from being
written first. This ASGI middleware sits in front of the routes: it answers 401/403 to an admin request
without the right token before reading its body, 413 at once to a body whose Content-Length is over its
route's cap, and 413 as soon as a body sent without (or with a lying) Content-Length passes the cap.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import ApiSettings
from api.deps import check_admin_token
from api.errors import ApiError, error_response

log = logging.getLogger(__name__)

MULTIPART_OVERHEAD = 64 * 1024
"""Room for multipart boundaries, part headers and small form fields next to the files themselves."""

ADMIN_PREFIX = "/api/v1/admin"


@dataclass(frozen=True)
class BodyCap:
    path: str
    """A route path, or a prefix when it ends with `/`."""
    max_bytes: int
    message: str
    """What the user is told (Chinese): what was too large and what to do."""

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


def body_caps(settings: ApiSettings) -> list[BodyCap]:
    """Every route's cap, most specific first; the last one covers all other routes."""
    s = settings
    audio_bytes = s.max_audio_bytes + MULTIPART_OVERHEAD
    audio_message = (
        f"语音文件太大了（不能超过{s.max_audio_bytes / 1_000_000:g}MB，"
        f"最长{s.max_audio_seconds:g}秒），请说短一点再试。"
    )
    return [
        BodyCap(
            f"{ADMIN_PREFIX}/documents",
            s.max_upload_bytes * s.max_upload_files + MULTIPART_OVERHEAD,
            f"上传的文件太大了：每个文件不能超过{s.max_upload_bytes / 1_000_000:g}MB，"
            f"一次最多{s.max_upload_files}个文件。请分几次上传。",
        ),
        BodyCap("/api/v1/voice", audio_bytes, audio_message),
        BodyCap("/api/v1/asr", audio_bytes, audio_message),
        BodyCap("/wechat/", s.wechat_max_body_bytes, "消息太大。"),
        BodyCap("/", s.max_request_bytes, "请求的内容太多了，请把问题说短一点再试。"),
    ]


class _BodyTooLarge(Exception):
    """Raised into the application by the counting receive; the response becomes a 413."""


class RequestLimits:
    """Pure ASGI (not `BaseHTTPMiddleware`), so the body is counted as it arrives, chunk by chunk."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings
        self.caps = body_caps(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path.startswith(ADMIN_PREFIX + "/") and self.settings.admin_token is not None:
            try:
                check_admin_token(self.settings, headers.get("authorization"))
            except ApiError as exc:
                log.info(
                    "%s %s -> %d %s (before reading the body)", scope["method"], path, exc.status, exc.code
                )
                await error_response(exc.status, exc.code, exc.message, exc.headers)(scope, receive, send)
                return
        cap = next(c for c in self.caps if c.matches(path))
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap.max_bytes):
            await self._too_large(scope, receive, send, cap, f"Content-Length {declared}")
            return
        await self._counted(scope, receive, send, cap)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, cap: BodyCap) -> None:
        received = 0
        overflow = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.max_bytes:
                    overflow = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # A parser that met the overflow may turn it into its own 400; the client is told why.
            if overflow:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if overflow:
            if started:
                log.warning(
                    "%s %s: body over %d bytes after the response began",
                    scope["method"],
                    scope["path"],
                    cap.max_bytes,
                )
                return
            await self._too_large(scope, receive, send, cap, f"more than {cap.max_bytes} bytes streamed")

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, cap: BodyCap, why: str) -> None:
        log.info(
            "%s %s -> 413 body too large (%s; cap %d bytes)",
            scope["method"],
            scope["path"],
            why,
            cap.max_bytes,
        )
        response = error_response(413, "body_too_large", cap.message, {"Connection": "close"})
        await response(scope, receive, send)
