"""One interface for chat channels: a signed callback in, a message out; a reply in, a callback body out.

The WeChat official account and the WeCom app (api/wechat/) differ only in signatures, encryption and
message details; everything about answering (sessions, deadlines, deduplication, delivery) is shared
and lives in `api.channels.conversations`. A next channel implements `Channel` and, when it can send
messages on its own, `ChannelAPI`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

InboundKind = Literal["text", "voice", "subscribe", "unsupported", "ignored"]


class CallbackRejected(Exception):
    """A callback that is not from the channel or cannot be read. `status` and the Chinese `message` go
    to the caller; str() is the English reason for the log."""

    def __init__(self, reason: str, status: int = 403, message: str = "签名校验失败，请求被拒绝。") -> None:
        super().__init__(reason)
        self.status = status
        self.message = message


class ChannelAPIError(RuntimeError):
    """A call of a channel's API failed for good (after its retries)."""


class ChannelAPI(Protocol):
    """What the conversations ask of a channel's own API: voice messages in, pushed messages out."""

    def download_media(self, media_id: str) -> bytes: ...

    def upload_voice(self, amr: bytes) -> str:
        """The media id of an uploaded AMR voice clip."""
        ...

    def send_text(self, user: str, text: str) -> None: ...

    def send_voice(self, user: str, media_id: str) -> None: ...


@dataclass(frozen=True)
class Inbound:
    key: str
    """The message's id, or sender and time for events (what the channel's retries have in common)."""
    user: str
    """The sender: an openid (official account) or a member's UserID (WeCom)."""
    kind: InboundKind
    text: str = ""
    """Text messages: the content; voice messages: the channel's own recognition, if any."""
    media_id: str = ""
    message: Any = None
    """The channel's own message object, which its replies are built from."""


class Channel(Protocol):
    name: str
    """Route and ledger name: "official" or "wecom"."""
    session_prefix: str
    """Ahead of the user in the assistant's session ids: "wechat:official"."""
    may_push: bool
    api: ChannelAPI | None

    def verify(self, query: Mapping[str, str]) -> str:
        """The echo for the channel's URL verification (GET). Raises `CallbackRejected`."""
        ...

    def read(self, query: Mapping[str, str], body: bytes) -> Inbound:
        """The message in a POSTed callback, after checking its signature and decrypting it. Raises
        `CallbackRejected`."""
        ...

    def render(self, query: Mapping[str, str], inbound: Inbound, text: str | None) -> tuple[str, str]:
        """(body, media type) of the HTTP response: a text reply, or the channel's "no reply"."""
        ...
