"""WeChat access tokens cached in one database, so every worker (and every API host) shares one token and
a restart keeps it.

WeChat allows a few thousand token fetches a day and a new token invalidates the old one after a
while; one shared cache keeps workers from fetching (and invalidating) tokens behind each other's backs.
The cache is the data home's SQLite file by default, or PostgreSQL shared by several hosts
(`open_tokens` chooses by `settings.database_url`), through the same `Database` adapter as the
message ledger: each operation is one statement, and the upsert makes the last token fetched the one
every host reads.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wechatpy.session import SessionStorage

from api.channels.store import Database, SqliteDatabase, channel_database
from api.config import ApiSettings

# Refresh a little before WeChat's expiry, so a token is never used in its last minutes.
EXPIRY_MARGIN_S = 300

# The message ledger's file: one SQLite file for the WeChat channels' state.
TOKENS_FILE = "wechat.sqlite3"

_SQLITE_SCHEMA = "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL)"
_POSTGRES_STEPS = (
    "CREATE TABLE wechat_tokens (key text PRIMARY KEY, value text NOT NULL, expires double precision)",
)


class TokenStore(SessionStorage):  # type: ignore[misc]  # wechatpy is untyped
    """wechatpy's session storage interface (get/set/delete with a time to live) over a `Database`."""

    def __init__(self, database: Database | Path) -> None:
        """`database`: a `Database`, or the path of a SQLite file."""
        self._db = SqliteDatabase(database) if isinstance(database, Path) else database
        self._db.create("wechat_tokens", _SQLITE_SCHEMA, _POSTGRES_STEPS)
        # The SQLite table predates the shared database, where every table's name says whose it is.
        self._table = self._db.pick(sqlite="tokens", postgres="wechat_tokens")

    def close(self) -> None:
        self._db.close()

    def get(self, key: str, default: Any = None) -> Any:
        with self._db.read() as db:
            row = db.execute(f"SELECT value, expires FROM {self._table} WHERE key = %s", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return default
        return row[0]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is None:
            return
        expires = time.time() + max(float(ttl) - EXPIRY_MARGIN_S, float(ttl) / 2) if ttl else None
        with self._db.write() as db:
            db.execute(
                f"INSERT INTO {self._table}(key, value, expires) VALUES (%s, %s, %s)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                (key, str(value), expires),
            )

    def delete(self, key: str) -> None:
        with self._db.write() as db:
            db.execute(f"DELETE FROM {self._table} WHERE key = %s", (key,))


def open_tokens(settings: ApiSettings) -> TokenStore:
    """One cache for every worker and both channels (wechatpy keys tokens by app): in PostgreSQL when
    `settings.database_url` is set, otherwise in the data home's SQLite file."""
    return TokenStore(channel_database(settings, TOKENS_FILE))
