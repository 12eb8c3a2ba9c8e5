"""The WeCom (企业微信) app callback: always encrypted, the URL check echoes the decrypted echostr."""

from __future__ import annotations

import time
from collections.abc import Mapping

from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.replies import TextReply
from wechatpy.exceptions import InvalidSignatureException

from api.channels.base import CallbackRejected, Inbound
from api.wechat.client import WeChatAPI
from api.wechat.messages import UnreadableMessage, read_message
from api.wechat.official import check_fresh
from api.wechat.safexml import UnsafeXML, field, read_xml


class WeComChannel:
    name = "wecom"
    session_prefix = "wechat:wecom"

    def __init__(
        self,
        corp_id: str,
        agent_id: int,
        token: str,
        encoding_aes_key: str,
        api: WeChatAPI | None,
        max_body_bytes: int,
        max_skew_s: int,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.crypto = WeChatCrypto(token, encoding_aes_key, corp_id)
        self.api = api
        # An app may always message its members; only the API credentials can be missing.
        self.may_push = api is not None
        self.max_body_bytes = max_body_bytes
        self.max_skew_s = max_skew_s

    def _decrypt(self, call: str, query: Mapping[str, str], payload: object) -> str:
        signature, timestamp, nonce = (query.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
        try:
            if call == "echo":
                plain = self.crypto.check_signature(signature, timestamp, nonce, payload)
            else:
                plain = self.crypto.decrypt_message(payload, signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException) as exc:
            raise CallbackRejected(f"WeCom callback rejected: {type(exc).__name__}") from exc
        except Exception as exc:  # wrong key or damaged ciphertext: the crypto layer raises anything
            raise CallbackRejected(f"undecryptable WeCom callback: {exc!r}", 400, "消息无法解密。") from exc
        return plain if isinstance(plain, str) else bytes(plain).decode("utf-8")

    def verify(self, query: Mapping[str, str]) -> str:
        return self._decrypt("echo", query, query.get("echostr", ""))

    def read(self, query: Mapping[str, str], body: bytes) -> Inbound:
        check_fresh(query, self.max_skew_s)
        try:
            root = read_xml(body, self.max_body_bytes)
            xml = self._decrypt("message", query, {"Encrypt": field(root, "Encrypt")})
            read_xml(xml, self.max_body_bytes)
            return read_message(parse_message, xml)
        except (UnsafeXML, UnreadableMessage) as exc:
            raise CallbackRejected(str(exc), 400, "消息格式不正确。") from exc

    def render(self, query: Mapping[str, str], inbound: Inbound, text: str | None) -> tuple[str, str]:
        if not text:
            return "", "text/plain"
        reply = TextReply(message=inbound.message, content=text, time=int(time.time()), agent=self.agent_id)
        xml = self.crypto.encrypt_message(reply.render(), query.get("nonce", ""), query.get("timestamp"))
        return xml, "application/xml"
