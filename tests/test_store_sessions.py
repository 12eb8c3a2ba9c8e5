"""The session store's contract, the same assertions against SQLite (one machine) and PostgreSQL
(several hosts), and two hosts sharing conversations through one database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.sessions import (
    PostgresSessionStore,
    SessionStorage,
    SqliteSessionStore,
    Turn,
    open_session_store,
)
from xiangyin.settings import Settings

Opener = Callable[..., SessionStorage]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    opened: list[SessionStorage] = []

    def opener(max_turns: int = 12, max_age_s: float = 3600) -> SessionStorage:
        store: SessionStorage
        if request.param == "sqlite":
            store = SqliteSessionStore(tmp_path / "sessions.sqlite3", max_turns, max_age_s)
        else:
            store = PostgresSessionStore(request.getfixturevalue("database_url"), max_turns, max_age_s)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


def test_history_is_per_session_ordered_and_survives_reopening(open_store: Opener) -> None:
    store = open_store()
    store.append(
        "openid-a", [Turn("user", "新农合交多少钱", "新农合交多少钱"), Turn("assistant", "400元[1]。")]
    )
    store.append("openid-b", [Turn("user", "低保标准", "低保标准")])
    store.close()
    reopened = open_store()
    history = reopened.history("openid-a")
    assert [(t.role, t.content) for t in history] == [("user", "新农合交多少钱"), ("assistant", "400元[1]。")]
    assert history[0].standalone == "新农合交多少钱"
    assert [t.content for t in reopened.history("openid-b")] == ["低保标准"]
    assert reopened.history("nobody") == []


def test_history_is_bounded_in_length_and_age(open_store: Opener) -> None:
    store = open_store(max_turns=4, max_age_s=600)
    for n in range(5):
        store.append("u", [Turn("user", f"问题{n}"), Turn("assistant", f"回答{n}")], now=1000.0 + n)
    assert [t.content for t in store.history("u", now=1010.0)] == ["问题3", "回答3", "问题4", "回答4"]
    assert [t.at for t in store.history("u", now=1010.0)] == [1003.0, 1003.0, 1004.0, 1004.0]
    assert store.history("u", now=1000.0 + 4 + 601) == []
    # Writing any session purges turns that are too old everywhere: asked as if at their time, they are gone.
    store.append("v", [Turn("user", "新的问题")], now=5000.0)
    assert store.history("u", now=1010.0) == []
    store.clear("v")
    assert store.history("v", now=5000.0) == []


def test_the_factory_picks_postgres_by_database_url(tmp_path: Path, database_url: str) -> None:
    embedded = open_session_store(Settings(home=tmp_path / "home"))
    shared = open_session_store(Settings(home=tmp_path / "home", database_url=database_url))
    assert isinstance(embedded, SqliteSessionStore) and isinstance(shared, PostgresSessionStore)
    embedded.close()


def test_a_follow_up_on_host_b_sees_the_question_asked_on_host_a(database_url: str) -> None:
    # A second pool (another application_name, so other connections) stands for another host.
    host_a = PostgresSessionStore(database_url + "?application_name=host-a")
    host_b = PostgresSessionStore(database_url + "?application_name=host-b")
    host_a.append(
        "openid-x", [Turn("user", "种粮补贴什么时候发", "种粮补贴什么时候发"), Turn("assistant", "每年5月。")]
    )
    seen = host_b.history("openid-x")
    assert [t.content for t in seen] == ["种粮补贴什么时候发", "每年5月。"]
    host_b.append("openid-x", [Turn("user", "发多少", "种粮补贴发多少"), Turn("assistant", "每亩100元。")])
    assert [t.standalone for t in host_a.history("openid-x")][2] == "种粮补贴发多少"
    host_b.clear("openid-x")
    assert host_a.history("openid-x") == []
