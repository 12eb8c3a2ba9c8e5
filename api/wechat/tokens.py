"""WeChat access tokens cached in SQLite, so every worker shares one token and a restart keeps it.

WeChat allows a few thousand token fetches a day and a new token invalidates the old one after a
while; one shared cache keeps workers from fetching (and invalidating) tokens behind each other's backs.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from wechatpy.session import SessionStorage

from xiangyin.database import open_database

# Refresh a little before WeChat's expiry, so a token is never used in its last minutes.
EXPIRY_MARGIN_S = 300


class TokenStore(SessionStorage):  # type: ignore[misc]  # wechatpy is untyped
    """wechatpy's session storage interface (get/set/delete with a time to live) over SQLite."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_database(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL)"
        )

    def close(self) -> None:
        self._db.close()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value, expires FROM tokens WHERE key = ?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return default
        return row[0]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is None:
            return
        expires = time.time() + max(float(ttl) - EXPIRY_MARGIN_S, float(ttl) / 2) if ttl else None
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens(key, value, expires) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                (key, str(value), expires),
            )

    def delete(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM tokens WHERE key = ?", (key,))
