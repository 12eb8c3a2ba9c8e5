"""WeChat channels: the official account (公众号) and the WeCom (企业微信) app, text and voice."""

from api.wechat.routes import wechat_routers

__all__ = ["wechat_routers"]
