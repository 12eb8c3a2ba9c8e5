from __future__ import annotations

from pathlib import Path

from assistant.sessions import SessionStore, Turn


def test_history_is_per_session_ordered_and_survives_reopening(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.sqlite3")
    store.append(
        "openid-a", [Turn("user", "新农合交多少钱", "新农合交多少钱"), Turn("assistant", "400元[1]。")]
    )
    store.append("openid-b", [Turn("user", "低保标准", "低保标准")])
    store.close()
    reopened = SessionStore(tmp_path / "sessions.sqlite3")
    history = reopened.history("openid-a")
    assert [(t.role, t.content) for t in history] == [("user", "新农合交多少钱"), ("assistant", "400元[1]。")]
    assert history[0].standalone == "新农合交多少钱"
    assert [t.content for t in reopened.history("openid-b")] == ["低保标准"]
    assert reopened.history("nobody") == []


def test_history_is_bounded_in_length_and_age(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3", max_turns=4, max_age_s=600)
    for n in range(5):
        store.append("u", [Turn("user", f"问题{n}"), Turn("assistant", f"回答{n}")], now=1000.0 + n)
    assert [t.content for t in store.history("u", now=1010.0)] == ["问题3", "回答3", "问题4", "回答4"]
    assert store.history("u", now=1000.0 + 4 + 601) == []
    store.append("v", [Turn("user", "新的问题")], now=5000.0)
    # Writing any session purges turns that are too old everywhere.
    rows = store._db.execute("SELECT count(*) FROM turns WHERE session = 'u'").fetchone()[0]
    assert rows == 0
    store.clear("v")
    assert store.history("v", now=5000.0) == []
