"""The callback routes of the configured WeChat channels, for the API app to include."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from api.wechat.channel import CallbackRejected, Channel
from api.wechat.client import OfficialAccountAPI, WeChatAPI, WeComAPI
from api.wechat.conversations import Answerer, Conversations, Recognizer
from api.wechat.official import OfficialAccountChannel
from api.wechat.tokens import TokenStore
from api.wechat.wecom import WeComChannel
from voice.synthesis import make_synthesizer
from voice.tts import Synthesizer
from xiangyin.settings import Settings

log = logging.getLogger(__name__)

OFFICIAL_PATH = "/wechat/official"
WECOM_PATH = "/wechat/wecom"


def official_channel(settings: Settings, tokens: TokenStore) -> OfficialAccountChannel | None:
    s = settings
    if not (s.wechat_app_id and s.wechat_token):
        return None
    api: WeChatAPI | None = None
    if s.wechat_secret:
        api = OfficialAccountAPI(
            s.wechat_app_id,
            s.wechat_secret,
            s.wechat_api_base,
            tokens,
            s.wechat_api_timeout_s,
            s.wechat_api_retries,
            s.wechat_api_backoff_s,
        )
    return OfficialAccountChannel(
        s.wechat_app_id,
        s.wechat_token,
        s.wechat_encoding_aes_key,
        api,
        s.wechat_may_push,
        s.wechat_max_body_bytes,
        s.wechat_max_clock_skew_s,
    )


def wecom_channel(settings: Settings, tokens: TokenStore) -> WeComChannel | None:
    s = settings
    if not (s.wecom_corp_id and s.wecom_agent_id is not None and s.wecom_token and s.wecom_encoding_aes_key):
        return None
    api: WeChatAPI | None = None
    if s.wecom_secret:
        api = WeComAPI(
            s.wecom_corp_id,
            s.wecom_agent_id,
            s.wecom_secret,
            s.wecom_api_base,
            tokens,
            s.wechat_api_timeout_s,
            s.wechat_api_retries,
            s.wechat_api_backoff_s,
        )
    return WeComChannel(
        s.wecom_corp_id,
        s.wecom_agent_id,
        s.wecom_token,
        s.wecom_encoding_aes_key,
        api,
        s.wechat_max_body_bytes,
        s.wechat_max_clock_skew_s,
    )


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


def wechat_routers(
    settings: Settings,
    answerer: Answerer,
    recognizer: Recognizer | None = None,
    synthesizer: Synthesizer | None = None,
) -> list[APIRouter]:
    """Routers for the WeChat channels that `settings` configure (none when neither is): the official
    account at /wechat/official, the WeCom app at /wechat/wecom. `recognizer` hears voice messages
    WeChat sent without a transcript; `synthesizer` speaks voice replies (the configured engines when
    voice replies are on and none is given)."""
    if settings.wechat_voice_replies and synthesizer is None:
        synthesizer = make_synthesizer(settings)
    tokens = TokenStore(settings.home / "wechat.sqlite3")
    routers = []
    channels: list[tuple[str, Channel | None]] = [
        (OFFICIAL_PATH, official_channel(settings, tokens)),
        (WECOM_PATH, wecom_channel(settings, tokens)),
    ]
    for path, channel in channels:
        if channel is not None:
            routers.append(
                channel_router(path, Conversations(channel, settings, answerer, recognizer, synthesizer))
            )
            log.info("WeChat channel %s at %s", channel.name, path)
    return routers
