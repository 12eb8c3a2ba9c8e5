"""How the PostgreSQL stores (sessions, jobs, clips, rate limits) reach the database: a connection or a
transaction from the process's pool, with an outage turned into `DatabaseUnavailable` so the API can
answer 503 instead of a bare 500."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout

from ground.postgres import DatabaseUnavailable, migrate, pool


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """A connection refused, broken by a restart, or not free within the pool's timeout all mean the
    same to a caller: the database cannot be used right now."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc


@contextmanager
def connection(db: ConnectionPool) -> Iterator[Connection]:
    """An autocommit connection: each statement is its own transaction."""
    with unavailable_as_error(), db.connection() as conn:
        yield conn


@contextmanager
def transaction(db: ConnectionPool) -> Iterator[Connection]:
    """One transaction, committed when the block ends and rolled back when it raises."""
    with connection(db) as conn, conn.transaction():
        yield conn


def open_schema(url: str, size: int, component: str, steps: Sequence[str]) -> ConnectionPool:
    """The process's pool for `url`, with `component`'s schema steps applied."""
    db = pool(url, size)
    with unavailable_as_error():
        migrate(db, component, steps)
    return db
