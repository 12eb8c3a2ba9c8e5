"""The WeChat channels as the settings configure them, and their routes for the API app to include.

Both are registered by name in `api.channels`, whose conversation engine answers for them.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.channels.conversations import Answerer, Recognizer
from api.channels.routes import channel_routers
from api.config import ApiSettings
from api.wechat.client import OfficialAccountAPI, WeChatAPI, WeComAPI
from api.wechat.official import OfficialAccountChannel
from api.wechat.tokens import TokenStore, open_tokens
from api.wechat.wecom import WeComChannel
from voice.tts import Synthesizer

WECHAT_CHANNELS = ("official", "wecom")


def official_channel(
    settings: ApiSettings, tokens: TokenStore | None = None
) -> OfficialAccountChannel | None:
    s = settings
    if not (s.wechat_app_id and s.wechat_token):
        return None
    api: WeChatAPI | None = None
    if s.wechat_secret:
        api = OfficialAccountAPI(
            s.wechat_app_id,
            s.wechat_secret,
            s.wechat_api_base,
            tokens or open_tokens(settings),
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


def wecom_channel(settings: ApiSettings, tokens: TokenStore | None = None) -> WeComChannel | None:
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
            tokens or open_tokens(settings),
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


def wechat_routers(
    settings: ApiSettings,
    answerer: Answerer,
    recognizer: Recognizer | None = None,
    synthesizer: Synthesizer | None = None,
) -> list[APIRouter]:
    """Routers for the WeChat channels that `settings` configure (none when neither is): the official
    account at /wechat/official, the WeCom app at /wechat/wecom (see `channel_routers`)."""
    return channel_routers(settings, answerer, recognizer, synthesizer, WECHAT_CHANNELS)
