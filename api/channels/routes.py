"""The callback routes of the configured channels, for the API app to include."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from api.channels import CHANNELS
from api.channels.base import CallbackRejected
from api.channels.conversations import Answerer, Conversations, Recognizer
from api.config import ApiSettings
from voice.synthesis import make_synthesizer
from voice.tts import Synthesizer

log = logging.getLogger(__name__)


def _rejected(exc: CallbackRejected, channel: str) -> Response:
    log.warning("%s callback rejected: %s", channel, exc)
    return PlainTextResponse(exc.message, status_code=exc.status)


def channel_router(path: str, conversations: Conversations) -> APIRouter:
    channel = conversations.channel

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        conversations.sweep_soon()  # answers a previous run left unfinished or unsent
        yield
        conversations.close()

    router = APIRouter(tags=["wechat"], lifespan=lifespan)

    @router.get(path, response_class=PlainTextResponse, summary=f"WeChat URL verification ({channel.name})")
    async def verify(request: Request) -> Response:
        try:
            return PlainTextResponse(channel.verify(request.query_params))
        except CallbackRejected as exc:
            return _rejected(exc, channel.name)

    @router.post(path, summary=f"WeChat message callback ({channel.name})")
    async def callback(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > conversations.settings.wechat_max_body_bytes:
                return _rejected(CallbackRejected("callback body too large", 413, "消息太大。"), channel.name)
        try:
            inbound = channel.read(request.query_params, bytes(body))
        except CallbackRejected as exc:
            return _rejected(exc, channel.name)
        text = await conversations.handle(inbound, request.is_disconnected)
        content, media_type = channel.render(request.query_params, inbound, text)
        return Response(content, media_type=media_type)

    return router


def channel_routers(
    settings: ApiSettings,
    answerer: Answerer,
    recognizer: Recognizer | None = None,
    synthesizer: Synthesizer | None = None,
    names: Iterable[str] | None = None,
) -> list[APIRouter]:
    """Routers for the registered channels (or those `names` lists) that `settings` configure; none when
    no channel is. `recognizer` hears voice messages a channel sent without a transcript; `synthesizer`
    speaks voice replies (the configured engines when voice replies are on and none is given)."""
    chosen = CHANNELS.names() if names is None else list(names)
    CHANNELS.check(chosen)
    if settings.wechat_voice_replies and synthesizer is None:
        synthesizer = make_synthesizer(settings)
    routers = []
    for name in chosen:
        entry = CHANNELS.get(name)
        channel = entry.make(settings)
        if channel is not None:
            conversations = Conversations(channel, settings, answerer, recognizer, synthesizer)
            routers.append(channel_router(entry.path, conversations))
            log.info("channel %s at %s", channel.name, entry.path)
    return routers
