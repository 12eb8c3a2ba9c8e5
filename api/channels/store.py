"""Where the channels' state lives (the message ledger, WeChat's token cache): the data home's SQLite file,
or PostgreSQL when `XIANGYIN_DATABASE_URL` is set and several API hosts must share it.

The stores are written once, over the small `Database` adapter below, rather than once per database.
The ledger is mostly Python deciding around a few statements, and its guarantees come from running each
decision inside one transaction; two copies of it would double exactly the part that must not drift.
So its SQL is the part both databases speak (`%s` parameters, `ON CONFLICT`, `RETURNING`, integer
flags), and the adapter supplies what differs:

- how a write transaction keeps others out. SQLite's `BEGIN IMMEDIATE` takes the file's one write
  lock, so a read-then-write decision is never interleaved. PostgreSQL runs writers side by side, so the
  rows a decision reads must be locked as they are read: `lock_rows` adds `FOR UPDATE` (wait for the
  other writer, then see its result), `claim_rows` adds `FOR UPDATE SKIP LOCKED` (work another host
  is claiming is left to it). SQLite neither needs nor parses either, and gets "".
- the schema: SQLite's script as it has always been, PostgreSQL's as versioned steps
  (`ground.postgres.migrate`) with its own column types.
- an outage: PostgreSQL being down or the pool exhausted surfaces as `DatabaseUnavailable`
  (`ground.postgres_access`, as for the other PostgreSQL stores).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg

from api.config import ApiSettings
from ground.postgres import advisory_key, pool
from ground.postgres_access import apply_schema, connection, transaction
from ground.sqlite import open_database, write_transaction

T = TypeVar("T")


class Rows(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Database(Protocol):
    """One store's database; `read` and `write` each yield one transaction (`write`: all or nothing,
    and exclusive as the module docstring says)."""

    def create(self, component: str, sqlite: str, postgres: Sequence[str]) -> None:
        """The store's schema: SQLite's script, or PostgreSQL's versioned steps."""
        ...

    def pick(self, sqlite: T, postgres: T) -> T: ...

    def lock_rows(self, alias: str) -> str: ...

    def claim_rows(self, alias: str) -> str: ...

    def try_exclusive(self, tx: Transaction, name: str) -> bool:
        """Whether this transaction is the only one (on any host) doing `name` until it ends."""
        ...

    def read(self) -> AbstractContextManager[Transaction]: ...

    def write(self) -> AbstractContextManager[Transaction]: ...

    def close(self) -> None: ...


class _SqliteTransaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self._db.execute(sql.replace("%s", "?"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql.replace("%s", "?"), rows)


class SqliteDatabase:
    """A SQLite file of the data home, shared by the threads of a worker and the workers of a server."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_database(path)

    def create(self, component: str, sqlite: str, postgres: Sequence[str]) -> None:
        with self._lock:
            self._db.executescript(sqlite)

    def pick(self, sqlite: T, postgres: T) -> T:
        return sqlite

    def lock_rows(self, alias: str) -> str:
        return ""

    def claim_rows(self, alias: str) -> str:
        return ""

    def try_exclusive(self, tx: Transaction, name: str) -> bool:
        return True  # BEGIN IMMEDIATE already keeps every other writer out

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self._lock:
            yield _SqliteTransaction(self._db)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with write_transaction(self._db, self._lock) as db:
            yield _SqliteTransaction(db)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _PostgresTransaction:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(sql, rows)


class PostgresDatabase:
    """PostgreSQL through the process's pool for `url`; every transaction takes its own connection."""

    def __init__(self, url: str, pool_size: int = 8, timeout_s: float = 10.0) -> None:
        """`timeout_s`: how long to wait for a connection before PostgreSQL counts as unavailable."""
        self._pool = pool(url, pool_size, timeout_s)

    def create(self, component: str, sqlite: str, postgres: Sequence[str]) -> None:
        apply_schema(self._pool, component, postgres)

    def pick(self, sqlite: T, postgres: T) -> T:
        return postgres

    def lock_rows(self, alias: str) -> str:
        return f" FOR UPDATE OF {alias}"

    def claim_rows(self, alias: str) -> str:
        return f" FOR UPDATE OF {alias} SKIP LOCKED"

    def try_exclusive(self, tx: Transaction, name: str) -> bool:
        row = tx.execute("SELECT pg_try_advisory_xact_lock(%s)", (advisory_key(name),)).fetchone()
        return bool(row[0])

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with connection(self._pool) as conn:
            yield _PostgresTransaction(conn)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with transaction(self._pool) as conn:
            yield _PostgresTransaction(conn)

    def close(self) -> None:
        """Nothing of its own to close: the pool is the process's (`ground.postgres.close_pools`)."""


def channel_database(settings: ApiSettings, sqlite_file: str) -> Database:
    """PostgreSQL when `settings.database_url` is set, otherwise the data home's `sqlite_file`."""
    if settings.database_url:
        return PostgresDatabase(settings.database_url, settings.database_pool_size)
    return SqliteDatabase(settings.home / sqlite_file)
