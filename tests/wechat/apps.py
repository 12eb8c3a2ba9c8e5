"""The app under test: WeChat routers around a real assistant on the demo knowledge base."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.wechat import wechat_routers
from assistant.composing import Draft, Evidence, stream_by_sentence
from assistant.extractive import ExtractiveComposer
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore, Turn
from knowledge.base import KnowledgeBase
from tests.wechat.fakes import APP_ID, OPENID, SECRET, TOKEN, OfficialAccountSender, WeComSender
from voice.synthesis import make_synthesizer
from xiangyin.settings import Settings

PATH = "/wechat/official"
SESSION = f"wechat:official:{OPENID}"


class SlowComposer:
    """The extractive composer behind a delay: an answer as slow as a busy language model's."""

    name = "slow-llm"

    def __init__(self, delay_s: float, delays: dict[str, float] | None = None) -> None:
        self.delay_s = delay_s
        self.delays = delays or {}
        """Other delays for questions containing these words."""
        self.calls = 0
        self.inner = ExtractiveComposer()

    def compose(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft:
        self.calls += 1
        time.sleep(next((d for word, d in self.delays.items() if word in question), self.delay_s))
        return self.inner.compose(question, evidence)

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()
    ) -> Iterator[str | Draft]:
        return stream_by_sentence(self.compose(question, evidence))


def make_assistant(
    demo_kb: KnowledgeBase, home: Path, delay_s: float = 0.0, delays: dict[str, float] | None = None
) -> Assistant:
    settings = demo_kb.settings.model_copy(update={"home": home})
    composer = SlowComposer(delay_s, delays) if delay_s or delays else None
    return Assistant(
        settings, knowledge_base=demo_kb, composer=composer, sessions=SessionStore(home / "s.sqlite3")
    )


def wechat_settings(home: Path, api_base: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": home,
        "wechat_app_id": APP_ID,
        "wechat_token": TOKEN,
        "wechat_secret": SECRET,
        "wechat_api_base": api_base,
        "wechat_api_backoff_s": 0.05,
        **overrides,
    }
    return Settings(**values)


def make_app(settings: Settings, answerer: Any, recognizer: Any = None) -> FastAPI:
    app = FastAPI()
    synthesizer = make_synthesizer(settings) if settings.wechat_voice_replies else None
    for router in wechat_routers(settings, answerer, recognizer, synthesizer):
        app.include_router(router)
    return app


def post(
    client: TestClient, sender: OfficialAccountSender | WeComSender, xml: str, path: str = PATH
) -> str | None:
    signed = sender.sign(xml)
    return sender.reply_text(client.post(path, params=signed.params, content=signed.body.encode()), signed)


def user_turns(assistant: Assistant, session: str = SESSION) -> list[str]:
    return [t.content for t in assistant.sessions.history(session) if t.role == "user"]


def wait_for(condition: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
