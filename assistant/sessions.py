"""Per-user conversation history in SQLite (in the data home), bounded in length and age."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from xiangyin.database import open_database, write_transaction

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str
    standalone: str = ""
    """For user turns: the question as rewritten to stand alone (what follow-ups build on)."""
    at: float = 0.0


class SessionStore:
    """Conversation turns keyed by session id (a browser session, a WeChat openid ...).

    Only the last `max_turns` turns younger than `max_age_s` seconds are kept; older ones are deleted
    whenever the session is written, so the file stays small
    and no conversation is kept for long."""

    def __init__(self, path: Path, max_turns: int = 12, max_age_s: float = 3600) -> None:
        self.max_turns = max_turns
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._db = open_database(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY, session TEXT NOT NULL,"
            " at REAL NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,"
            " standalone TEXT NOT NULL DEFAULT '')"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session, id)")

    def close(self) -> None:
        self._db.close()

    def history(self, session: str, now: float | None = None) -> list[Turn]:
        """The session's recent turns, oldest first."""
        cutoff = (now if now is not None else time.time()) - self.max_age_s
        with self._lock:
            rows = self._db.execute(
                "SELECT role, content, standalone, at FROM turns WHERE session = ? AND at >= ?"
                " ORDER BY id DESC LIMIT ?",
                (session, cutoff, self.max_turns),
            ).fetchall()
        return [Turn(role, content, standalone, at) for role, content, standalone, at in reversed(rows)]

    def append(self, session: str, turns: list[Turn], now: float | None = None) -> None:
        at = now if now is not None else time.time()
        with write_transaction(self._db, self._lock) as db:
            db.executemany(
                "INSERT INTO turns(session, at, role, content, standalone) VALUES (?, ?, ?, ?, ?)",
                [(session, at, t.role, t.content, t.standalone) for t in turns],
            )
            db.execute(
                "DELETE FROM turns WHERE session = ? AND id NOT IN"
                " (SELECT id FROM turns WHERE session = ? ORDER BY id DESC LIMIT ?)",
                (session, session, self.max_turns),
            )
            db.execute("DELETE FROM turns WHERE at < ?", (at - self.max_age_s,))

    def clear(self, session: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM turns WHERE session = ?", (session,))
