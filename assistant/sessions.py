"""Per-user conversation history, bounded in length and age: in SQLite in the data home (one machine, the
default), or in PostgreSQL when several API hosts share `database_url`, so a follow-up asked on one host
builds on a question asked on another."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from assistant.config import AssistantSettings
from ground.postgres_access import connection, open_schema, transaction
from ground.sqlite import open_database, write_transaction

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str
    standalone: str = ""
    """For user turns: the question as rewritten to stand alone (what follow-ups build on)."""
    at: float = 0.0


class SessionStorage(Protocol):
    """Conversation turns keyed by session id (a browser session, a WeChat openid ...).

    Only the last `max_turns` turns younger than `max_age_s` seconds are kept; older ones are deleted
    whenever a session is written, so no conversation is kept for long."""

    def history(self, session: str, now: float | None = None) -> list[Turn]:
        """The session's recent turns, oldest first."""
        ...

    def append(self, session: str, turns: list[Turn], now: float | None = None) -> None: ...

    def clear(self, session: str) -> None: ...

    def close(self) -> None: ...


class SqliteSessionStore:
    """Sessions in one SQLite file of the data home, shared by the workers of one machine."""

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


SessionStore = SqliteSessionStore
"""The name the assistant, the evaluation runner and the tests construct with a path."""

_POSTGRES_SCHEMA = (
    "CREATE TABLE session_turns (id bigserial PRIMARY KEY, session text NOT NULL,"
    " at double precision NOT NULL, role text NOT NULL, content text NOT NULL,"
    " standalone text NOT NULL DEFAULT '');"
    " CREATE INDEX session_turns_by_session ON session_turns (session, id);"
    " CREATE INDEX session_turns_by_age ON session_turns (at)",
)


class PostgresSessionStore:
    """Sessions in PostgreSQL, shared by every host of `url`. Turn times are the writing host's clock, as
    in SQLite: hosts a few seconds apart change nothing for a limit of an hour."""

    def __init__(self, url: str, max_turns: int = 12, max_age_s: float = 3600, pool_size: int = 8) -> None:
        self.max_turns = max_turns
        self.max_age_s = max_age_s
        self._db = open_schema(url, pool_size, "sessions", _POSTGRES_SCHEMA)

    def close(self) -> None:
        """The pool is the process's, shared with the other stores: it stays open."""

    def history(self, session: str, now: float | None = None) -> list[Turn]:
        cutoff = (now if now is not None else time.time()) - self.max_age_s
        with connection(self._db) as conn:
            rows = conn.execute(
                "SELECT role, content, standalone, at FROM session_turns WHERE session = %s AND at >= %s"
                " ORDER BY id DESC LIMIT %s",
                (session, cutoff, self.max_turns),
            ).fetchall()
        return [Turn(role, content, standalone, at) for role, content, standalone, at in reversed(rows)]

    def append(self, session: str, turns: list[Turn], now: float | None = None) -> None:
        at = now if now is not None else time.time()
        # Two hosts trimming at once skip the rows the other is deleting (SKIP LOCKED) rather than wait
        # on each other: only the oldest rows are ever locked, so the newest `max_turns` always stay.
        with transaction(self._db) as conn:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO session_turns (session, at, role, content, standalone)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(session, at, t.role, t.content, t.standalone) for t in turns],
                )
            conn.execute(
                "DELETE FROM session_turns WHERE id IN (SELECT id FROM session_turns WHERE session = %s"
                " ORDER BY id DESC OFFSET %s FOR UPDATE SKIP LOCKED)",
                (session, self.max_turns),
            )
        with connection(self._db) as conn:
            conn.execute(
                "DELETE FROM session_turns WHERE id IN"
                " (SELECT id FROM session_turns WHERE at < %s FOR UPDATE SKIP LOCKED)",
                (at - self.max_age_s,),
            )

    def clear(self, session: str) -> None:
        with connection(self._db) as conn:
            conn.execute("DELETE FROM session_turns WHERE session = %s", (session,))


def open_session_store(settings: AssistantSettings) -> SessionStorage:
    """PostgreSQL when `database_url` is set (several hosts), else the data home's SQLite file."""
    if settings.database_url:
        return PostgresSessionStore(
            settings.database_url,
            settings.session_max_turns,
            settings.session_max_age_s,
            settings.database_pool_size,
        )
    return SqliteSessionStore(
        settings.home / "sessions.sqlite3", settings.session_max_turns, settings.session_max_age_s
    )
