"""PostgreSQL for several API hosts (`XIANGYIN_DATABASE_URL`): one connection pool per process and URL,
and each store's schema as plain versioned SQL that the store applies itself when it opens.

A store owns its tables and lists its schema steps in order (`migrate(pool, "sessions", STEPS)`); the
versions applied are kept in `schema_versions`, and a transaction-scoped advisory lock makes hosts that
start together apply each step once. Steps are never edited once shipped: a change is a new step.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence

from psycopg import Connection
from psycopg_pool import ConnectionPool

_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL cannot be reached (down, restarting, or the pool timed out waiting for it)."""


def pool(url: str, size: int = 8, timeout_s: float = 10.0) -> ConnectionPool:
    """The process's pool for `url`, opened on first use. Connections autocommit: a store opens a
    transaction (`with conn.transaction():`) where it needs one. A connection broken by a database restart
    is checked and replaced when it is next taken, so the stores recover when PostgreSQL returns."""
    with _pools_lock:
        existing = _pools.get(url)
        if existing is not None and not existing.closed:
            return existing
        opened = ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            timeout=timeout_s,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            open=False,
            name=f"xiangyin-{len(_pools)}",
        )
        opened.open(wait=False)
        _pools[url] = opened
        return opened


def close_pools(prefix: str = "") -> None:
    """Close the process's pools (those whose URL starts with `prefix`: one database's)."""
    with _pools_lock:
        for url in [u for u in _pools if u.startswith(prefix)]:
            _pools.pop(url).close()


def advisory_key(name: str) -> int:
    """A stable 32-bit key for `pg_advisory_lock` from a name (the same on every host)."""
    return zlib.crc32(name.encode("utf-8"))


def migrate(db: ConnectionPool, component: str, steps: Sequence[str]) -> int:
    """Apply the steps of `component` this database has not seen yet, in order, each in its own
    transaction with its version recorded; returns the version now in force. One advisory lock for every
    component: hosts starting together would otherwise race even to create `schema_versions` (CREATE
    TABLE IF NOT EXISTS is not safe against a concurrent creator)."""
    lock = advisory_key("xiangyin:migrate")
    with db.connection() as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions"
                " (component text PRIMARY KEY, version integer NOT NULL)"
            )
        for number, step in enumerate(steps, start=1):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                if _version(conn, component) >= number:
                    continue
                conn.execute(step)  # shipped SQL, never user text
                conn.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (%s, %s)"
                    " ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version",
                    (component, number),
                )
        return _version(conn, component)


def _version(conn: Connection, component: str) -> int:
    row = conn.execute("SELECT version FROM schema_versions WHERE component = %s", (component,)).fetchone()
    return int(row[0]) if row else 0
