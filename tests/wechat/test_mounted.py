"""The WeChat channel inside the product's own app (`api.app.create_app`), beside the HTTP API."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from knowledge.base import KnowledgeBase
from tests.wechat.apps import SESSION, make_assistant, post, wechat_settings
from tests.wechat.fakes import OfficialAccountSender, text_xml


def test_the_product_app_serves_wechat_callbacks_only_when_configured(
    tmp_path: Path, demo_kb: KnowledgeBase
) -> None:
    settings = wechat_settings(tmp_path, "http://127.0.0.1:9/", tts_engines=["espeak-ng"])
    assistant = make_assistant(demo_kb, tmp_path)
    services = Services(settings, assistant)
    sender = OfficialAccountSender()
    with TestClient(create_app(settings, services)) as client:
        assert services.wait_loaded(300)
        verified = client.get("/wechat/official", params=sender.verification("42424242"))
        assert verified.status_code == 200 and verified.text == "42424242"
        reply = post(client, sender, text_xml("新农合一年交多少钱？", 9001))
        assert reply is not None and "400元" in reply
        # One session store behind both channels: the WeChat conversation continues over the HTTP API.
        web = client.post("/api/v1/chat", json={"message": "那什么时候交？", "session_id": SESSION})
        assert "9月1日" in web.json()["answer"]
    plain = settings.model_copy(update={"wechat_app_id": None, "wechat_token": None})
    with TestClient(
        create_app(plain, Services(plain, make_assistant(demo_kb, tmp_path / "plain")))
    ) as client:
        assert client.get("/wechat/official").status_code == 404
        assert "/wechat/official" not in client.get("/openapi.json").json()["paths"]
