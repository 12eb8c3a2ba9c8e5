"""WeChat channels: the official account (公众号) and the WeCom (企业微信) app, text and voice.

They are registered in `api.channels`, whose conversation engine answers for every channel.
"""

from api.wechat.routes import wechat_routers

__all__ = ["wechat_routers"]
