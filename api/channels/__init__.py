"""Chat channels by name, and the conversation engine they share (deadlines, background answers, pushes).

A channel is an entry of `CHANNELS`: where its callback routes go and a factory that builds it from the
settings (None while the settings leave it unconfigured). `channel_routers` mounts every configured one
in front of one `Conversations` each. The built-in entries are the WeChat official account and the
WeCom app (api/wechat/); they import their module when called, like the speech engines and composers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ground.registry import Registry

if TYPE_CHECKING:
    from api.channels.base import Channel
    from api.config import ApiSettings


@dataclass(frozen=True)
class ChannelEntry:
    path: str
    """Where the channel's callback is mounted (GET: URL verification, POST: messages)."""
    make: Callable[[ApiSettings], Channel | None]
    """The channel as the settings configure it; None when they do not (its routes then do not exist)."""


CHANNELS: Registry[ChannelEntry] = Registry("channel")


def _official(settings: ApiSettings) -> Channel | None:
    from api.wechat.routes import official_channel

    return official_channel(settings)


def _wecom(settings: ApiSettings) -> Channel | None:
    from api.wechat.routes import wecom_channel

    return wecom_channel(settings)


CHANNELS.add("official", ChannelEntry("/wechat/official", _official))
CHANNELS.add("wecom", ChannelEntry("/wechat/wecom", _wecom))

__all__ = ["CHANNELS", "ChannelEntry"]
