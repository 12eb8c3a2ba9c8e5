"""The official account (公众号) callback: plaintext, compatible or safe (AES) mode."""

from __future__ import annotations

import time
from collections.abc import Mapping

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.parser import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from api.channels.base import CallbackRejected, Inbound
from api.wechat.client import WeChatAPI
from api.wechat.messages import UnreadableMessage, read_message
from api.wechat.safexml import UnsafeXML, field, read_xml


def check_fresh(query: Mapping[str, str], max_skew_s: int) -> None:
    try:
        signed_at = int(query.get("timestamp", ""))
    except ValueError as exc:
        raise CallbackRejected("callback without a valid timestamp", 400, "请求缺少时间戳。") from exc
    if abs(time.time() - signed_at) > max_skew_s:
        raise CallbackRejected(f"callback signed {time.time() - signed_at:.0f} s ago (replay?)")


class OfficialAccountChannel:
    name = "official"
    session_prefix = "wechat:official"

    def __init__(
        self,
        app_id: str,
        token: str,
        encoding_aes_key: str | None,
        api: WeChatAPI | None,
        may_push: bool,
        max_body_bytes: int,
        max_skew_s: int,
    ) -> None:
        self.app_id = app_id
        self.token = token
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self.api = api
        self.may_push = may_push and api is not None
        self.max_body_bytes = max_body_bytes
        self.max_skew_s = max_skew_s

    def _check(self, query: Mapping[str, str]) -> None:
        try:
            check_signature(
                self.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
            )
        except InvalidSignatureException as exc:
            raise CallbackRejected("bad signature on an official-account callback") from exc

    def verify(self, query: Mapping[str, str]) -> str:
        self._check(query)
        return query.get("echostr", "")

    def read(self, query: Mapping[str, str], body: bytes) -> Inbound:
        self._check(query)
        check_fresh(query, self.max_skew_s)
        try:
            root = read_xml(body, self.max_body_bytes)
            if query.get("encrypt_type") == "aes":
                if self.crypto is None:
                    raise CallbackRejected(
                        "encrypted callback but no EncodingAESKey configured", 400, "未配置消息加密密钥。"
                    )
                envelope = {"Encrypt": field(root, "Encrypt")}
                try:
                    plain = self.crypto.decrypt_message(
                        envelope, query.get("msg_signature", ""), query["timestamp"], query.get("nonce", "")
                    )
                except (InvalidSignatureException, InvalidAppIdException) as exc:
                    raise CallbackRejected(f"encrypted callback rejected: {type(exc).__name__}") from exc
                except Exception as exc:  # wrong key or damaged ciphertext: the crypto layer raises anything
                    raise CallbackRejected(f"undecryptable callback: {exc!r}", 400, "消息无法解密。") from exc
                xml = plain if isinstance(plain, str) else plain.decode("utf-8")
                read_xml(xml, self.max_body_bytes)
            elif self.crypto is not None and field(root, "Encrypt"):
                raise CallbackRejected("encrypted body without encrypt_type=aes", 400, "请求格式不正确。")
            else:
                xml = body.decode("utf-8")
            return read_message(parse_message, xml)
        except (UnsafeXML, UnreadableMessage) as exc:
            raise CallbackRejected(str(exc), 400, "消息格式不正确。") from exc
        except UnicodeDecodeError as exc:
            raise CallbackRejected("callback body is not UTF-8", 400, "消息格式不正确。") from exc

    def render(self, query: Mapping[str, str], inbound: Inbound, text: str | None) -> tuple[str, str]:
        if not text:
            return "success", "text/plain"
        xml = TextReply(message=inbound.message, content=text, time=int(time.time())).render()
        if query.get("encrypt_type") == "aes" and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp"))
        return xml, "application/xml"
