"""WeChat channels tested as WeChat uses them: signed (and encrypted) callbacks built with wechatpy's own
crypto, POSTed to the real ASGI app with a real assistant on the demo knowledge base; WeChat's API is a
local fake server on 127.0.0.1."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.channels.conversations import voice_clips
from api.channels.splitting import split_message
from api.channels.texts import MORE_FOLLOWS
from api.wechat import wechat_routers
from knowledge.base import KnowledgeBase
from tests.wechat.apps import (
    PATH,
    make_app,
    make_assistant,
    post,
    user_turns,
    wait_for,
    wechat_settings,
)
from tests.wechat.fakes import (
    AES_KEY,
    AGENT_ID,
    APP_ID,
    CORP_ID,
    OPENID,
    TOKEN,
    FakeWeChatAPI,
    OfficialAccountSender,
    WeComSender,
    event_xml,
    other_xml,
    text_xml,
    voice_xml,
)
from voice.audio import SAMPLE_RATE
from voice.engines.espeak import EspeakEngine
from voice.tts import Synthesizer
from xiangyin.settings import Settings

# Routes, verification, signatures


def test_routes_exist_only_for_configured_channels(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    assert wechat_routers(Settings(home=tmp_path), assistant) == []
    official = wechat_routers(Settings(home=tmp_path, wechat_app_id=APP_ID, wechat_token=TOKEN), assistant)
    assert [r.path for router in official for r in router.routes] == [PATH, PATH]  # type: ignore[attr-defined]
    both = wechat_routers(
        Settings(
            home=tmp_path,
            wechat_app_id=APP_ID,
            wechat_token=TOKEN,
            wecom_corp_id=CORP_ID,
            wecom_agent_id=AGENT_ID,
            wecom_token=TOKEN,
            wecom_encoding_aes_key=AES_KEY,
        ),
        assistant,
    )
    assert {r.path for router in both for r in router.routes} == {PATH, "/wechat/wecom"}  # type: ignore[attr-defined]


def test_url_verification(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/"), make_assistant(demo_kb, tmp_path))
    sender = OfficialAccountSender()
    with TestClient(app) as client:
        good = client.get(PATH, params=sender.verification("5837397520665436492"))
        assert good.status_code == 200 and good.text == "5837397520665436492"
        forged = OfficialAccountSender(token="not-the-token").verification()
        bad = client.get(PATH, params=forged)
        assert bad.status_code == 403 and "签名" in bad.text


def test_wecom_url_verification_echoes_the_decrypted_echostr(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    settings = Settings(
        home=tmp_path,
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_token=TOKEN,
        wecom_encoding_aes_key=AES_KEY,
    )
    with TestClient(make_app(settings, make_assistant(demo_kb, tmp_path))) as client:
        params = WeComSender().verification("wecom-echo-7712")
        assert client.get("/wechat/wecom", params=params).text == "wecom-echo-7712"
        params["msg_signature"] = "0" * 40
        assert client.get("/wechat/wecom", params=params).status_code == 403


def test_text_question_is_answered_with_sources_and_follow_ups_work(
    tmp_path: Path, demo_kb: KnowledgeBase
) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/"), assistant)
    sender = OfficialAccountSender()
    with TestClient(app) as client:
        reply = post(client, sender, text_xml("新农合一年交多少钱？", 7001))
        assert reply is not None and "400元" in reply and re.search(r"\[\d\]", reply)
        assert "来源：" in reply and "《" in reply
        follow = post(client, sender, text_xml("那什么时候交？", 7002))
        assert follow is not None and "9月1日" in follow
        # Sessions are per openid: another villager's "那什么时候交？" has no earlier question.
        other = post(client, sender, text_xml("那什么时候交？", 7003, user="oQx7A5N4s3v2WqLmOTHERUSER01"))
        assert other is not None and other != follow
    assert user_turns(assistant) == ["新农合一年交多少钱？", "那什么时候交？"]


def test_safe_mode_encrypted_callback_gets_an_encrypted_reply(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    app = make_app(
        wechat_settings(tmp_path, "http://127.0.0.1:9/", wechat_encoding_aes_key=AES_KEY),
        make_assistant(demo_kb, tmp_path),
    )
    sender = OfficialAccountSender(aes_key=AES_KEY)
    with TestClient(app) as client:
        signed = sender.sign(text_xml("宅基地审批要多长时间？", 7101))
        response = client.post(PATH, params=signed.params, content=signed.body.encode())
        assert "<Encrypt>" in response.text and "工作日" not in response.text
        reply = sender.reply_text(response, signed)
        assert reply is not None and "个工作日" in reply
        # A tampered msg_signature is refused even though the plain signature is right.
        signed = sender.sign(text_xml("宅基地审批要多长时间？", 7102))
        signed.params["msg_signature"] = "f" * 40
        assert client.post(PATH, params=signed.params, content=signed.body.encode()).status_code == 403


def test_wecom_text_message(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    settings = Settings(
        home=tmp_path,
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_token=TOKEN,
        wecom_encoding_aes_key=AES_KEY,
    )
    assistant = make_assistant(demo_kb, tmp_path)
    with TestClient(make_app(settings, assistant)) as client:
        reply = post(
            client,
            WeComSender(),
            text_xml("新农合一年交多少钱？", 7201, user="ZhangSan", to=CORP_ID, agent=AGENT_ID),
            "/wechat/wecom",
        )
        assert reply is not None and "400元" in reply
    assert user_turns(assistant, "wechat:wecom:ZhangSan") == ["新农合一年交多少钱？"]


def test_bad_signatures_and_stale_timestamps_are_refused(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/"), assistant)
    with TestClient(app) as client:
        forged = OfficialAccountSender(token="attacker-token").sign(text_xml("低保怎么申请？", 7301))
        response = client.post(PATH, params=forged.params, content=forged.body.encode())
        assert response.status_code == 403 and "签名" in response.text
        stale = OfficialAccountSender().sign(
            text_xml("低保怎么申请？", 7302), timestamp=int(time.time()) - 3600
        )
        assert client.post(PATH, params=stale.params, content=stale.body.encode()).status_code == 403
        missing = client.post(PATH, content=text_xml("低保怎么申请？", 7303).encode())
        assert missing.status_code == 403
    assert user_turns(assistant) == []


# Message types


def test_voice_with_recognition_uses_wechats_transcript(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/"), assistant)
    with TestClient(app) as client:
        reply = post(
            client,
            OfficialAccountSender(),
            voice_xml("MEDIA_NOT_FETCHED", 7401, recognition="宅基地审批要多长时间？"),
        )
    assert (
        reply is not None and reply.startswith("您说的是：“宅基地审批要多长时间？”") and "个工作日" in reply
    )


def test_events_and_unsupported_messages(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/"), assistant)
    sender = OfficialAccountSender()
    with TestClient(app) as client:
        welcome = post(client, sender, event_xml("subscribe"))
        assert welcome is not None and "欢迎关注" in welcome and "种粮补贴每亩多少钱？" in welcome
        assert post(client, sender, event_xml("unsubscribe", at=int(time.time()) + 1)) is None
        for n, (kind, fields) in enumerate(
            [
                (
                    "image",
                    "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[img1]]></MediaId>",
                ),
                (
                    "location",
                    "<Location_X>30.1</Location_X><Location_Y>120.2</Location_Y><Scale>15</Scale><Label><![CDATA[桃源村]]></Label>",
                ),
                ("video", "<MediaId><![CDATA[v1]]></MediaId><ThumbMediaId><![CDATA[t1]]></ThumbMediaId>"),
            ]
        ):
            reply = post(client, sender, other_xml(kind, fields, 7500 + n))
            assert reply is not None and "文字和语音" in reply
    assert user_turns(assistant) == []


HOSTILE = {
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&i;</Content><MsgId>1</MsgId></xml>",
    "external entity": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>",
    "external DTD": '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml><MsgType>text</MsgType></xml>',
    "malformed": "<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType>",
    "not xml": "问一下低保",
    "wrong root": "<message><MsgType>text</MsgType></message>",
    "not a message": "<xml><Content>hello</Content></xml>",
    "no sender": "<xml><MsgType>text</MsgType><Content>hello</Content><MsgId>3</MsgId></xml>",
}


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plaintext", "encrypted"])
def test_malformed_and_hostile_xml_is_refused_safely(
    safe_mode: bool, tmp_path: Path, demo_kb: KnowledgeBase
) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    aes = AES_KEY if safe_mode else None
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/", wechat_encoding_aes_key=aes), assistant)
    sender = OfficialAccountSender(aes_key=aes)
    with TestClient(app) as client:
        for name, xml in HOSTILE.items():
            signed = sender.sign(xml)
            started = time.monotonic()
            response = client.post(PATH, params=signed.params, content=signed.body.encode())
            assert response.status_code == 400, name
            assert "格式" in response.text and "root:" not in response.text, name
            assert time.monotonic() - started < 2, name
        huge = sender.sign(text_xml("低" * 40_000, 7601))
        assert client.post(PATH, params=huge.params, content=huge.body.encode()).status_code in (400, 413)
    assert user_turns(assistant) == []


def test_a_retried_msgid_is_answered_once(tmp_path: Path, demo_kb: KnowledgeBase) -> None:
    assistant = make_assistant(demo_kb, tmp_path)
    app = make_app(wechat_settings(tmp_path, "http://127.0.0.1:9/"), assistant)
    sender = OfficialAccountSender()
    with TestClient(app) as client:
        first = post(client, sender, text_xml("低保标准是多少？", 7701))
        # WeChat repeats a request when our reply was lost on the way: it gets the same reply.
        assert post(client, sender, text_xml("低保标准是多少？", 7701)) == first
        assert post(client, sender, text_xml("低保标准是多少？", 7701)) == first
        # Beyond WeChat's three attempts it is a replay: no reply at all.
        assert post(client, sender, text_xml("低保标准是多少？", 7701)) is None
    assert first is not None and user_turns(assistant) == ["低保标准是多少？"]


# Long answers


def test_long_text_is_split_at_sentences_and_marks() -> None:
    text = "城乡居民医保个人缴费每人每年400元[1]。缴费时间为每年9月1日至12月31日。[2]逾期缴费的，待遇有等待期[3]。\n\n来源：\n[1]《青溪县城乡居民医保政策问答》\n[2]《关于2025年度城乡居民医保缴费的通知》"
    for limit in (40, 60, 90, 130):
        parts = split_message(text, limit)
        assert all(len(p.encode()) <= limit for p in parts)
        assert "".join(parts).replace("\n", "") == text.replace("\n", "")
        for part in parts:
            assert not re.search(r"\[\d*$|^\d*\]", part)
    assert split_message(text, 2048) == [text]
    assert split_message("第一句。第二句。", 2048) == ["第一句。第二句。"]
    # A sentence too long for one message is cut at commas, then between characters, never inside [12].
    long = "，".join(["每亩补贴一百一十元"] * 12) + "[12]。"
    parts = split_message(long, 60)
    assert all(len(p.encode()) <= 60 for p in parts) and "".join(parts) == long
    assert any("[12]" in p for p in parts)


def test_a_long_answer_is_pushed_in_parts(
    tmp_path: Path, demo_kb: KnowledgeBase, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    fake, base = fake_api
    settings = wechat_settings(tmp_path, base, wechat_may_push=True, wechat_max_reply_bytes=120)
    with TestClient(make_app(settings, make_assistant(demo_kb, tmp_path))) as client:
        first = post(client, OfficialAccountSender(), text_xml("新农合一年交多少钱？", 7801))
        wait_for(lambda: len(fake.texts_to(OPENID)) > 0)
        time.sleep(0.5)
    assert first is not None and MORE_FOLLOWS not in first
    parts = [first, *fake.texts_to(OPENID)]
    assert all(len(p.encode()) <= 120 for p in parts) and len(parts) >= 3
    whole = "".join(parts)
    assert "400元" in whole and "来源：" in whole and all(not re.search(r"\[\d*$", p) for p in parts)


def test_without_push_the_rest_of_a_long_answer_comes_with_the_next_messages(
    tmp_path: Path, demo_kb: KnowledgeBase
) -> None:
    settings = wechat_settings(tmp_path, "http://127.0.0.1:9/", wechat_max_reply_bytes=150)
    sender = OfficialAccountSender()
    with TestClient(make_app(settings, make_assistant(demo_kb, tmp_path))) as client:
        replies = [post(client, sender, text_xml("新农合一年交多少钱？", 7901))]
        msg_id = 7902
        while replies[-1] is not None and replies[-1].endswith(MORE_FOLLOWS) and msg_id < 7920:
            replies.append(post(client, sender, text_xml("1", msg_id)))
            msg_id += 1
    texts = [r.removesuffix(MORE_FOLLOWS) for r in replies if r is not None]
    assert len(texts) >= 3 and all(len(t.encode()) <= 150 for t in texts)
    assert "400元" in texts[0] and "来源：" in "".join(texts)


def test_voice_replies_are_cut_into_clips_wechat_accepts() -> None:
    text = "低保标准每人每月八百八十元。申请要带身份证和户口本。审批一般二十个工作日。"
    clips = voice_clips(Synthesizer([EspeakEngine()]), text, max_s=12.0)
    durations = [len(c) / SAMPLE_RATE for c in clips]
    assert len(clips) >= 2 and all(0.5 < d <= 12.0 for d in durations)
    # Under WeChat's limit the whole answer is one clip.
    whole = voice_clips(Synthesizer([EspeakEngine()]), text)
    assert len(whole) == 1 and len(whole[0]) == sum(len(c) for c in clips)
