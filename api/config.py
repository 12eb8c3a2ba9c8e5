"""The server's settings: admin token, request limits, the page, the OpenAI-compatible endpoint and the
WeChat channels; the server builds the assistant, so it takes the assistant's settings too."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from assistant.config import AssistantSettings


def parse_integrator_keys(value: object) -> object:
    """`openai_compat_keys` as operators write it: a JSON object `{"name": "key"}`, a JSON list of keys,
    or `name=key,name2=key2` (or bare `key,key2`) in one environment variable. A key without a name is
    named by its position (`key-2`), so the log can say which integrator called without printing a key.
    In the comma form the first `=` separates the name; a key holding `=` or `,` needs the JSON form."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            value = json.loads(text)
        else:
            named: dict[str, str] = {}
            for position, item in enumerate((i.strip() for i in text.split(",") if i.strip()), start=1):
                name, sep, key = item.partition("=")
                named.update({name.strip(): key.strip()} if sep else {f"key-{position}": item})
            return named
    if isinstance(value, list | tuple):
        return {f"key-{position}": key for position, key in enumerate(value, start=1)}
    return value


class ApiSettings(AssistantSettings):
    speech_stream_grace_s: float = Field(
        default=15.0,
        ge=0,
        description="Seconds past max_audio_seconds a streamed question may take to send its end.",
    )

    # Server (api/)
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for the knowledge administration routes; they are off while unset.",
    )
    rate_limit: str = Field(
        default="30/minute",
        description="Questions (chat, voice, speech) one client may send, in `limits` notation; per worker,"
        " or shared by every host with database_url.",
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Identify clients by X-Forwarded-For (only behind a reverse proxy that sets it).",
    )
    max_upload_bytes: int = Field(default=20_000_000, description="Largest accepted document upload.")
    max_upload_files: int = Field(default=20, description="Most documents one upload request may carry.")
    max_request_bytes: int = Field(
        default=128_000,
        description="Largest body of every other request (questions, speech texts, test cases); uploads and"
        " WeChat callbacks have their own caps. Enforced while the body streams in.",
    )
    max_tts_chars: int = Field(default=600, description="Longest text the speech route reads aloud.")
    audio_ttl_s: int = Field(default=3600, description="How long synthesised answers stay downloadable.")
    suggestions: list[str] = Field(
        default=[
            "2025年城乡居民医保个人一年交多少钱？",
            "种粮补贴什么时候发？",
            "养老金每月能领多少？",
            "农机购置补贴怎么申请？",
        ],
        description="Questions offered to first-time users on the page (JSON list in the environment).",
    )
    avatar_style: Literal["young-woman", "young-man", "elder-woman"] = Field(
        default="young-woman", description="The look of the digital human on the page."
    )
    avatar_outfit: str = Field(default="#2f7d5b", description="Colour of the avatar's jacket (CSS colour).")

    # OpenAI-compatible endpoint for other chat front ends (api/openai_compat.py): /v1/chat/completions
    # and /v1/models exist only when at least one key is set. Not to be confused with openai_api_key
    # above, which is the key Xiangyin itself sends to a remote model.
    openai_compat_keys: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict,
        description="API keys of the integrators allowed on /v1 (Authorization: Bearer <key>): a JSON"
        ' object {"name": "key"}, a JSON list of keys, or name=key,name2=key2 (names show in the log).',
    )
    openai_compat_model: str = Field(
        default="xiangyin", description="The model id /v1/models lists for this deployment's knowledge base."
    )
    openai_compat_source_list: bool = Field(
        default=True,
        description="End /v1 answers with a short list of the cited documents (来源：[1]《…》) besides the"
        " `citations` field, for front ends that only show the text.",
    )

    @field_validator("openai_compat_keys", mode="before")
    @classmethod
    def _integrator_keys(cls, value: object) -> object:
        keys = parse_integrator_keys(value)
        # An empty key would let in whoever sends `Bearer ` with nothing after it: refuse to start.
        if isinstance(keys, dict) and any(not str(key).strip() for key in keys.values()):
            raise ValueError("an integrator's API key is empty")
        return keys

    # WeChat official account (公众号): its callback routes exist only when app id and token are set.
    wechat_app_id: str | None = None
    wechat_token: str | None = Field(default=None, description="The callback token set in the account.")
    wechat_encoding_aes_key: str | None = Field(
        default=None, description="EncodingAESKey (43 characters) for safe (encrypted) mode."
    )
    wechat_secret: str | None = Field(
        default=None, description="AppSecret: needed for voice without Recognition, pushes, voice replies."
    )
    wechat_api_base: str = Field(
        default="https://api.weixin.qq.com/cgi-bin/", description="WeChat API base URL (tests use a fake)."
    )
    wechat_may_push: bool = Field(
        default=False,
        description="The account may send customer-service messages (verified accounts): slow answers are "
        "pushed; otherwise they wait for the user's next message.",
    )
    wechat_voice_replies: bool = Field(
        default=False, description="Also answer voice messages by voice (needs pushing: may_push or WeCom)."
    )

    # WeCom (企业微信) app: its routes exist only when corp id, agent id, token and AES key are set.
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_token: str | None = None
    wecom_encoding_aes_key: str | None = None
    wecom_secret: str | None = Field(default=None, description="The app's Secret (media, pushes).")
    wecom_api_base: str = "https://qyapi.weixin.qq.com/cgi-bin/"

    # WeChat timing and limits, shared by both channels
    wechat_reply_timeout_s: float = Field(
        default=5.0, description="How long WeChat waits for a passive reply before it retries."
    )
    wechat_reply_margin_s: float = Field(
        default=0.6, description="Headroom kept before WeChat's deadline for sending the reply."
    )
    wechat_attempts: int = Field(default=3, description="Requests WeChat makes for one message.")
    wechat_answer_timeout_s: float = Field(
        default=120.0, description="After this long an unfinished answer is taken over by another worker."
    )
    wechat_workers: int = Field(default=2, description="Threads answering WeChat messages in the background.")
    wechat_api_timeout_s: float = 10.0
    wechat_api_retries: int = Field(default=3, description="Tries of each WeChat API call.")
    wechat_api_backoff_s: float = Field(default=0.5, description="First wait between tries; doubles.")
    wechat_max_reply_bytes: int = Field(default=2048, description="WeChat's limit for one text message.")
    wechat_max_body_bytes: int = 65_536
    wechat_max_clock_skew_s: int = Field(
        default=300, description="Callbacks signed longer ago than this are rejected (replays)."
    )
