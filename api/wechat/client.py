"""The WeChat API calls Xiangyin makes (media download and upload, pushed messages), for both channels.

Built on wechatpy's clients with the API base URL taken from the settings (tests point it at a local
fake) and tokens in the shared `TokenStore`; wechatpy refetches the token and repeats the call when
WeChat says it expired. Every other failure is logged and retried with backoff, then raised as
`WeChatAPIError` for the caller to handle; nothing here may crash a callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from wechatpy.client import WeChatClient
from wechatpy.enterprise.client import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from api.channels.base import ChannelAPI, ChannelAPIError
from api.wechat.tokens import TokenStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# Errors that another try cannot fix: bad credentials, user or media id, no permission, the 48-hour window for
# customer-service messages closed, the per-user message quota used up.
_PERMANENT = {40001, 40003, 40007, 40013, 40125, 41001, 45015, 45047, 48001, 60020, 81013}


class WeChatAPIError(ChannelAPIError):
    """A WeChat API call failed for good (after its retries)."""


# What the conversations ask of a channel's API, under the name this module's callers know it by.
WeChatAPI = ChannelAPI


def _fetch_token(client: Any, url: str, params: dict[str, str]) -> dict[str, Any]:
    """wechatpy's token fetch, with a timeout (wechatpy's own has none) and the configured base URL."""
    log.info("fetching a WeChat access token")
    response = client._http.get(url, params=params, timeout=client.timeout)
    try:
        response.raise_for_status()
        result: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise WeChatClientException(errcode=None, errmsg=str(exc), client=client) from exc
    if result.get("errcode"):
        raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=client)
    expires_in = int(result.get("expires_in", 7200))
    client.session.set(client.access_token_key, result["access_token"], expires_in)
    client.expires_at = int(time.time()) + expires_in
    return result


class _OfficialClient(WeChatClient):  # type: ignore[misc]
    def __init__(self, app_id: str, secret: str, base: str, tokens: TokenStore, timeout: float) -> None:
        super().__init__(app_id, secret, session=tokens, timeout=timeout)
        self.API_BASE_URL = base

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        return _fetch_token(self, self.API_BASE_URL + "token", params)


class _WeComClient(WeComClient):  # type: ignore[misc]
    def __init__(self, corp_id: str, secret: str, base: str, tokens: TokenStore, timeout: float) -> None:
        super().__init__(corp_id, secret, session=tokens, timeout=timeout)
        self.API_BASE_URL = base

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"corpid": self.corp_id, "corpsecret": self.secret}
        return _fetch_token(self, self.API_BASE_URL + "gettoken", params)


class _Retrying:
    def __init__(self, client: Any, retries: int, backoff_s: float) -> None:
        self.client = client
        self.retries = max(1, retries)
        self.backoff_s = backoff_s

    def _call(self, what: str, call: Callable[[], T]) -> T:
        delay = self.backoff_s
        for attempt in range(1, self.retries + 1):
            try:
                return call()
            except WeChatClientException as exc:
                if exc.errcode in _PERMANENT:
                    log.error("WeChat API %s failed for good: %s", what, exc)
                    raise WeChatAPIError(f"{what}: {exc}") from exc
                log.warning("WeChat API %s failed (try %d of %d): %s", what, attempt, self.retries, exc)
            except requests.RequestException as exc:
                log.warning("WeChat API %s unreachable (try %d of %d): %s", what, attempt, self.retries, exc)
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        raise WeChatAPIError(f"{what}: failed {self.retries} times")

    def download_media(self, media_id: str) -> bytes:
        def download() -> bytes:
            result = self.client.get("media/get", params={"media_id": media_id})
            if isinstance(result, dict):  # JSON instead of a file: an error wechatpy did not raise
                raise WeChatClientException(result.get("errcode"), result.get("errmsg"), client=self.client)
            content: bytes = result.content
            return content

        return self._call("media download", download)

    def upload_voice(self, amr: bytes) -> str:
        def upload() -> str:
            result = self.client.media.upload("voice", ("answer.amr", amr, "audio/amr"))
            return str(result["media_id"])

        return self._call("media upload", upload)


class OfficialAccountAPI(_Retrying):
    def __init__(
        self,
        app_id: str,
        secret: str,
        base: str,
        tokens: TokenStore,
        timeout_s: float,
        retries: int,
        backoff_s: float,
    ) -> None:
        super().__init__(_OfficialClient(app_id, secret, base, tokens, timeout_s), retries, backoff_s)

    def send_text(self, user: str, text: str) -> None:
        self._call("customer-service text", lambda: self.client.message.send_text(user, text))

    def send_voice(self, user: str, media_id: str) -> None:
        self._call("customer-service voice", lambda: self.client.message.send_voice(user, media_id))


class WeComAPI(_Retrying):
    def __init__(
        self,
        corp_id: str,
        agent_id: int,
        secret: str,
        base: str,
        tokens: TokenStore,
        timeout_s: float,
        retries: int,
        backoff_s: float,
    ) -> None:
        super().__init__(_WeComClient(corp_id, secret, base, tokens, timeout_s), retries, backoff_s)
        self.agent_id = agent_id

    def send_text(self, user: str, text: str) -> None:
        self._call("app text message", lambda: self.client.message.send_text(self.agent_id, user, text))

    def send_voice(self, user: str, media_id: str) -> None:
        self._call("app voice message", lambda: self.client.message.send_voice(self.agent_id, user, media_id))
