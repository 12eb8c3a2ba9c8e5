"""The ground of the PostgreSQL stores: versioned schema steps applied once, also by hosts that start at
the same moment, and every store reporting a database it cannot reach as DatabaseUnavailable (which
the API answers with 503) rather than a bare error (real PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.channels.ledger import Ledger
from api.channels.store import PostgresDatabase
from api.clips import PostgresClipStore
from api.jobs_postgres import PostgresJobStore
from api.ratelimit_postgres import PostgresStorage
from api.uploads import PostgresUploads
from api.wechat.tokens import TokenStore
from assistant.sessions import PostgresSessionStore
from ground.postgres import DatabaseUnavailable, migrate, pool
from ground.postgres_access import unavailable_as_error
from ground.postgres_cluster import free_port
from knowledge.catalog_postgres import PostgresCatalog

STEPS = (
    "CREATE TABLE notes (id integer PRIMARY KEY)",
    "ALTER TABLE notes ADD COLUMN text text NOT NULL DEFAULT ''",
)


def test_steps_are_applied_once_and_in_order(database_url: str) -> None:
    db = pool(database_url)
    assert migrate(db, "notes", STEPS[:1]) == 1
    assert migrate(db, "notes", STEPS) == 2
    assert migrate(db, "notes", STEPS) == 2  # nothing new: nothing runs again
    with db.connection() as conn:
        conn.execute("INSERT INTO notes (id, text) VALUES (1, '低保')")
        assert conn.execute("SELECT text FROM notes").fetchone() == ("低保",)


def test_hosts_starting_together_apply_each_step_once(database_url: str) -> None:
    """Six hosts (a pool each) migrate a fresh database at the same instant: no error, one version."""
    hosts = 6
    start = threading.Barrier(hosts)
    versions: list[int] = []
    errors: list[BaseException] = []

    def host(number: int) -> None:
        db = pool(f"{database_url}?application_name=host-{number}", size=1)
        start.wait()
        try:
            versions.append(migrate(db, "notes", STEPS))
            versions.append(migrate(db, "other", STEPS[:0]))
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=host, args=(n,)) for n in range(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(versions) == [0] * hosts + [2] * hosts


STORES: dict[str, Callable[[str, Path], Any]] = {
    "catalog": lambda url, _: PostgresCatalog(url),
    "sessions": lambda url, _: PostgresSessionStore(url),
    "jobs": lambda url, _: PostgresJobStore(url),
    "clips": lambda url, _: PostgresClipStore(url, ttl_s=60),
    "rate limits": lambda url, _: PostgresStorage(url),
    "uploads": lambda url, folder: PostgresUploads(folder, url),
    "wechat ledger": lambda url, _: Ledger(PostgresDatabase(url), "official"),
    "wechat tokens": lambda url, _: TokenStore(PostgresDatabase(url)),
}


@pytest.fixture
def unreachable_url() -> Iterator[str]:
    """Nothing listens there. Its pool is opened first with a short wait, and the store takes it."""
    url = f"postgresql://xiangyin@127.0.0.1:{free_port()}/xiangyin"
    waiting = pool(url, 1, timeout_s=0.5)
    yield url
    waiting.close()


@pytest.mark.parametrize("store", sorted(STORES))
def test_every_store_reports_an_unreachable_database_as_unavailable(
    store: str, unreachable_url: str, tmp_path: Path
) -> None:
    with pytest.raises(DatabaseUnavailable):
        STORES[store](unreachable_url, tmp_path)


def test_a_refused_connection_is_unavailable(unreachable_url: str) -> None:
    with pytest.raises(DatabaseUnavailable), unavailable_as_error():
        psycopg.connect(unreachable_url, connect_timeout=2)
