"""wechatpy's message objects (both channels) as an `Inbound`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.channels.base import Inbound, InboundKind

_UNSUPPORTED = {"image", "location", "video", "shortvideo", "link", "file"}


class UnreadableMessage(ValueError):
    """Well-formed XML that is not a WeChat message."""


def read_message(parse: Callable[[str], Any], xml: str) -> Inbound:
    """`xml` parsed by wechatpy's `parse` (official or WeCom) into an `Inbound`."""
    try:
        inbound = inbound_from(parse(xml))
    except Exception as exc:  # wechatpy indexes the parsed dict freely: any error means "not a message"
        raise UnreadableMessage(f"not a WeChat message: {exc!r}") from exc
    if not inbound.user:
        raise UnreadableMessage("message without a sender")
    return inbound


def inbound_from(message: Any) -> Inbound:
    kind: InboundKind
    msg_type = str(message.type)
    user = str(message.source or "")
    if msg_type == "event":
        event = str(getattr(message, "event", "") or "")
        key = f"{user}:{message.time}:{event}"
        kind = "subscribe" if event.startswith("subscribe") else "ignored"
        return Inbound(key, user, kind, message=message)
    key = str(message.id) if message.id else f"{user}:{message.time}:{msg_type}"
    if msg_type == "text":
        return Inbound(key, user, "text", text=str(message.content or ""), message=message)
    if msg_type == "voice":
        recognition = str(getattr(message, "recognition", None) or "").strip()
        return Inbound(
            key, user, "voice", text=recognition, media_id=str(message.media_id or ""), message=message
        )
    return Inbound(key, user, "unsupported" if msg_type in _UNSUPPORTED else "ignored", message=message)
