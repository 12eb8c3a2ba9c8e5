"""One interface for WeChat channels: a signed callback in, a message out; a reply in, a callback body out.

The official account and the WeCom app differ only in signatures, encryption and message details;
everything about answering (sessions, deadlines, deduplication, delivery) is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from api.wechat.client import WeChatAPI

InboundKind = Literal["text", "voice", "subscribe", "unsupported", "ignored"]


class CallbackRejected(Exception):
    """A callback that is not from WeChat or cannot be read. `status` and the Chinese `message` go to
    the caller; str() is the English reason for the log."""

    def __init__(self, reason: str, status: int = 403, message: str = "签名校验失败，请求被拒绝。") -> None:
        super().__init__(reason)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Inbound:
    key: str
    """MsgId, or sender and time for events (what WeChat's retries have in common)."""
    user: str
    """The sender: an openid (official account) or a member's UserID (WeCom)."""
    kind: InboundKind
    text: str = ""
    """Text messages: the content; voice messages: WeChat's own Recognition, if any."""
    media_id: str = ""
    message: Any = None
    """The wechatpy message object, which replies are built from."""


class Channel(Protocol):
    name: str
    """Route and ledger name: "official" or "wecom"."""
    may_push: bool
    api: WeChatAPI | None

    def verify(self, query: Mapping[str, str]) -> str:
        """The echo for WeChat's URL verification (GET). Raises `CallbackRejected`."""
        ...

    def read(self, query: Mapping[str, str], body: bytes) -> Inbound:
        """The message in a POSTed callback, after checking its signature and decrypting it. Raises
        `CallbackRejected`."""
        ...

    def render(self, query: Mapping[str, str], inbound: Inbound, text: str | None) -> tuple[str, str]:
        """(body, media type) of the HTTP response: a text reply, or WeChat's "no reply"."""
        ...
