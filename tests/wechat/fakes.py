"""WeChat as the tests meet it: a fake WeChat API server and a WeChat server sending signed callbacks.

The fake API speaks WeChat's real protocol (paths, query parameters, JSON errors, multipart upload) on
127.0.0.1; the callback sender signs and encrypts with wechatpy's own crypto and retries like WeChat.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import fromstring

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner

APP_ID = "wx5f1d2a7c9e3b4680"
TOKEN = "xiangyin-callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SECRET = "0123456789abcdef0123456789abcdef"
CORP_ID = "ww0a1b2c3d4e5f6789"
AGENT_ID = 1000002
ACCOUNT = "gh_3a5b7c9d1e2f"
OPENID = "oQx7A5N4s3v2WqLm9Zk1hYtRb8Ec"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Runs an ASGI app under uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@dataclass
class FakeWeChatAPI:
    """WeChat's API: tokens, temporary media, customer-service (official) and app (WeCom) messages."""

    media: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    calls: list[str] = field(default_factory=list)
    busy: int = 0
    """The next this many message sends fail with WeChat's "system busy" (-1)."""
    refuse_sends: bool = False
    """Every send fails with 45015 (the user has not written for 48 hours)."""
    expire_token: bool = False
    """The next API call finds its token expired (42001)."""
    tokens: set[str] = field(default_factory=set)

    def app(self) -> FastAPI:
        app = FastAPI()

        def issue() -> JSONResponse:
            self.token_fetches += 1
            token = uuid.uuid4().hex
            self.tokens.add(token)
            return JSONResponse({"access_token": token, "expires_in": 7200})

        def checked(request: Request) -> JSONResponse | None:
            self.calls.append(request.url.path)
            token = request.query_params.get("access_token", "")
            if self.expire_token:
                self.expire_token = False
                self.tokens.discard(token)
            if token not in self.tokens:
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            return None

        @app.get("/cgi-bin/token")
        def token(grant_type: str, appid: str, secret: str) -> JSONResponse:
            if grant_type != "client_credential" or appid != APP_ID or secret != SECRET:
                return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
            return issue()

        @app.get("/cgi-bin/gettoken")
        def gettoken(corpid: str, corpsecret: str) -> JSONResponse:
            if corpid != CORP_ID or corpsecret != SECRET:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            return issue()

        @app.get("/cgi-bin/media/get")
        def media_get(request: Request, media_id: str) -> Response:
            if (error := checked(request)) is not None:
                return error
            if media_id not in self.media:
                return JSONResponse({"errcode": 40007, "errmsg": "invalid media_id"})
            return Response(self.media[media_id], media_type="audio/amr")

        @app.post("/cgi-bin/media/upload")
        async def media_upload(request: Request, type: str) -> JSONResponse:
            if (error := checked(request)) is not None:
                return error
            form = await request.form()
            upload = form["media"]
            assert isinstance(upload, UploadFile) and type == "voice"
            media_id = uuid.uuid4().hex
            self.uploads[media_id] = await upload.read()
            return JSONResponse({"type": type, "media_id": media_id, "created_at": int(time.time())})

        async def send(request: Request) -> JSONResponse:
            if (error := checked(request)) is not None:
                return error
            if self.refuse_sends:
                return JSONResponse({"errcode": 45015, "errmsg": "response out of time limit"})
            if self.busy > 0:
                self.busy -= 1
                return JSONResponse({"errcode": -1, "errmsg": "system error"})
            self.sent.append(json.loads(await request.body()))
            return JSONResponse({"errcode": 0, "errmsg": "ok"})

        app.post("/cgi-bin/message/custom/send")(send)
        app.post("/cgi-bin/message/send")(send)
        return app

    def texts_to(self, user: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m.get("touser") == user and m["msgtype"] == "text"]


def _signature(*values: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*values)
    return str(signer.signature)


def text_xml(
    content: str, msg_id: int, user: str = OPENID, to: str = ACCOUNT, agent: int | None = None
) -> str:
    agent_field = f"<AgentID>{agent}</AgentID>" if agent is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>{agent_field}</xml>"
    )


def voice_xml(media_id: str, msg_id: int, recognition: str | None = None, user: str = OPENID) -> str:
    rec = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId><Format><![CDATA[amr]]></Format>{rec}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, user: str = OPENID, at: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{at or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def other_xml(msg_type: str, fields: str, msg_id: int, user: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


@dataclass
class Signed:
    params: dict[str, str]
    body: str
    xml: str
    """The message before encryption."""

    @property
    def sender(self) -> str:
        return fromstring(self.xml).findtext("FromUserName") or ""


class OfficialAccountSender:
    """What WeChat's servers send to an official account's callback URL."""

    def __init__(self, token: str = TOKEN, aes_key: str | None = None) -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, APP_ID) if aes_key else None

    def verification(self, echostr: str = "8154336219467790573") -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        return {
            "signature": _signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }

    def sign(self, xml: str, timestamp: int | None = None) -> Signed:
        ts, nonce = str(timestamp or int(time.time())), uuid.uuid4().hex[:10]
        params = {
            "signature": _signature(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": OPENID,
        }
        if self.crypto is None:
            return Signed(params, xml, xml)
        envelope = fromstring(self.crypto.encrypt_message(xml, nonce, ts))
        encrypted = envelope.findtext("Encrypt") or ""
        params |= {"encrypt_type": "aes", "msg_signature": envelope.findtext("MsgSignature") or ""}
        body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return Signed(params, body, xml)

    def reply_text(self, response: Any, signed: Signed) -> str | None:
        """The text the user would see (None: WeChat's "no reply")."""
        assert response.status_code == 200, response.text
        if response.text in ("success", ""):
            return None
        xml = response.text
        if self.crypto is not None:
            envelope = fromstring(xml)
            xml = self.crypto.decrypt_message(
                xml,
                envelope.findtext("MsgSignature"),
                envelope.findtext("TimeStamp"),
                envelope.findtext("Nonce"),
            )
        reply = fromstring(xml)
        assert reply.findtext("MsgType") == "text"
        assert reply.findtext("ToUserName") == signed.sender and reply.findtext("FromUserName") == ACCOUNT
        return reply.findtext("Content")


class WeComSender:
    """What WeCom's servers send to an app's callback URL (always encrypted)."""

    def __init__(self) -> None:
        self.crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)

    def verification(self, echo: str = "wecom-echo-7712") -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        envelope = fromstring(self.crypto.encrypt_message(f"{echo}", nonce, timestamp))
        return {
            "msg_signature": envelope.findtext("MsgSignature") or "",
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": envelope.findtext("Encrypt") or "",
        }

    def sign(self, xml: str) -> Signed:
        ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        envelope = fromstring(self.crypto.encrypt_message(xml, nonce, ts))
        encrypted = envelope.findtext("Encrypt") or ""
        params = {"msg_signature": envelope.findtext("MsgSignature") or "", "timestamp": ts, "nonce": nonce}
        body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID>{AGENT_ID}</AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return Signed(params, body, xml)

    def reply_text(self, response: Any, signed: Signed) -> str | None:
        assert response.status_code == 200, response.text
        if not response.text:
            return None
        envelope = fromstring(response.text)
        xml = self.crypto.decrypt_message(
            response.text,
            envelope.findtext("MsgSignature"),
            envelope.findtext("TimeStamp"),
            envelope.findtext("Nonce"),
        )
        reply = fromstring(xml)
        assert reply.findtext("AgentID") == str(AGENT_ID) and reply.findtext("ToUserName") == signed.sender
        return reply.findtext("Content")


@dataclass
class Delivery:
    """What happened to one message sent the way WeChat sends it."""

    answered: bool
    """Some attempt got a response in time (the first one ends the delivery)."""
    reply: str | None
    """What the user sees (None: nothing)."""
    attempts: int
    seconds: float


async def deliver(
    urls: str | list[str],
    sender: OfficialAccountSender | WeComSender,
    xml: str,
    timeout_s: float = 5.0,
    attempts: int = 3,
) -> Delivery:
    """POSTs like WeChat: wait `timeout_s` for the passive reply, otherwise drop the connection and try
    again right away, `attempts` times in all (to the next of `urls`, for several workers)."""
    targets = [urls] * attempts if isinstance(urls, str) else urls
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s)) as client:
        for attempt in range(1, attempts + 1):
            signed = sender.sign(xml)
            try:
                response = await client.post(
                    targets[attempt - 1], params=signed.params, content=signed.body.encode()
                )
            except httpx.TimeoutException:
                continue
            return Delivery(True, sender.reply_text(response, signed), attempt, time.monotonic() - started)
    return Delivery(False, None, attempts, time.monotonic() - started)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
