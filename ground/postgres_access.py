"""How the PostgreSQL stores (sessions, jobs, clips, rate limits) reach the database: a connection or a
transaction from the process's pool, with an outage turned into `DatabaseUnavailable` so the API can
answer 503 instead of a bare 500.

A host may start while the database is down: a store's schema steps that could not be applied when it
opened are applied before its pool's next connection, so the host answers 503 meanwhile and recovers
by itself when PostgreSQL returns."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout

from ground.postgres import DatabaseUnavailable, migrate, pool

log = logging.getLogger(__name__)

_unapplied: dict[ConnectionPool, list[tuple[str, tuple[str, ...]]]] = {}
"""Per pool, the (component, schema steps) that could not be applied when their store opened."""
_unapplied_lock = threading.Lock()


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
    with unavailable_as_error():
        if db in _unapplied:
            _apply_unapplied(db)
        with db.connection() as conn:
            yield conn


@contextmanager
def transaction(db: ConnectionPool) -> Iterator[Connection]:
    """One transaction, committed when the block ends and rolled back when it raises."""
    with connection(db) as conn, conn.transaction():
        yield conn


def open_schema(url: str, size: int, component: str, steps: Sequence[str]) -> ConnectionPool:
    """The process's pool for `url`, with `component`'s schema steps applied (`apply_schema`)."""
    db = pool(url, size)
    apply_schema(db, component, steps)
    return db


def apply_schema(db: ConnectionPool, component: str, steps: Sequence[str]) -> None:
    """Apply `component`'s schema steps now or, while the database cannot be reached, before the pool's
    next connection. Once one store of a pool found the database down, the next ones do not wait for it
    again (each try waits the pool's timeout)."""
    with _unapplied_lock:
        waiting = _unapplied.get(db)
        if waiting is not None:
            waiting.append((component, tuple(steps)))
            return
    try:
        with unavailable_as_error():
            migrate(db, component, steps)
    except DatabaseUnavailable as exc:
        log.warning("PostgreSQL cannot be reached; %s's schema follows when it can: %s", component, exc)
        with _unapplied_lock:
            _unapplied.setdefault(db, []).append((component, tuple(steps)))


def _apply_unapplied(db: ConnectionPool) -> None:
    """Raises `psycopg.OperationalError` or `PoolTimeout` while the database is still down. Callers do
    not wait for each other: applying a step twice is safe (`migrate` checks versions under its lock)."""
    with _unapplied_lock:
        waiting = list(_unapplied.get(db, []))
    for item in waiting:
        migrate(db, *item)
        with _unapplied_lock:
            left = _unapplied.get(db, [])
            if item in left:
                left.remove(item)
                log.info("PostgreSQL is back: %s's schema applied", item[0])
            if not left:
                _unapplied.pop(db, None)
