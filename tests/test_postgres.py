"""The ground of the PostgreSQL stores: versioned schema steps applied once, also by hosts that start at
the same moment, and every store reporting a database it cannot reach as DatabaseUnavailable (which
the API answers with 503) rather than a bare error (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from langchain_core.embeddings import Embeddings

from api.app import create_app
from api.channels.ledger import Ledger
from api.channels.store import PostgresDatabase
from api.clips import PostgresClipStore
from api.jobs_postgres import PostgresJobStore
from api.ratelimit_postgres import PostgresStorage
from api.services import Services
from api.uploads import PostgresUploads
from api.wechat.tokens import TokenStore
from assistant.pipeline import Assistant
from assistant.sessions import PostgresSessionStore, Turn
from ground.postgres import DatabaseUnavailable, close_pools, migrate, pool
from ground.postgres_access import unavailable_as_error
from ground.postgres_cluster import free_port, postgres_cluster
from knowledge.base import KnowledgeBase
from knowledge.catalog_postgres import PostgresCatalog
from tests.live_server import live_server
from xiangyin.settings import Settings

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


STORES: dict[str, tuple[Callable[[str, Path], Any], Callable[[Any], object]]] = {
    "catalog": (lambda url, _: PostgresCatalog(url), lambda store: store.chunk_count()),
    "sessions": (lambda url, _: PostgresSessionStore(url), lambda store: store.history("web:1")),
    "jobs": (lambda url, _: PostgresJobStore(url), lambda store: store.records(["upload"])),
    "clips": (lambda url, _: PostgresClipStore(url, ttl_s=60), lambda store: store.sweep()),
    "rate limits": (lambda url, _: PostgresStorage(url), lambda store: store.get("ip:1")),
    "uploads": (lambda url, folder: PostgresUploads(folder, url), lambda store: store.sync()),
    "wechat ledger": (
        lambda url, _: Ledger(PostgresDatabase(url), "official"),
        lambda store: store.state("m1"),
    ),
    "wechat tokens": (lambda url, _: TokenStore(PostgresDatabase(url)), lambda store: store.get("t")),
}
"""Each store, and one use of it."""


@pytest.fixture
def unreachable_url() -> Iterator[str]:
    """Nothing listens there. Its pool is opened first with a short wait, and the store takes it."""
    url = f"postgresql://xiangyin@127.0.0.1:{free_port()}/xiangyin"
    waiting = pool(url, 1, timeout_s=0.5)
    yield url
    waiting.close()


@pytest.mark.parametrize("store", sorted(STORES))
def test_every_store_opens_while_the_database_is_down_and_reports_its_use_unavailable(
    store: str, unreachable_url: str, tmp_path: Path
) -> None:
    """A host starts during an outage (its stores' schemas follow when the database returns), and what
    needs the database meanwhile is DatabaseUnavailable: HTTP 503."""
    opened, use = STORES[store]
    started = time.monotonic()
    opened_store = opened(unreachable_url, tmp_path)
    assert time.monotonic() - started < 5
    with pytest.raises(DatabaseUnavailable):
        use(opened_store)


def test_schemas_left_unapplied_in_an_outage_are_applied_when_the_database_returns(
    tmp_path: Path,
) -> None:
    with postgres_cluster() as cluster:
        url = cluster.url()
        pool(url, 2, timeout_s=0.5)
        cluster.stop()
        try:
            sessions = PostgresSessionStore(url)
            jobs = PostgresJobStore(url)
            with pytest.raises(DatabaseUnavailable):
                sessions.history("web:1")
        finally:
            cluster.start()
        # The pool reconnects with a back-off; the first use that gets a connection applies the schemas.
        deadline = time.monotonic() + 60
        while True:
            try:
                assert sessions.history("web:1") == []
                break
            except DatabaseUnavailable:
                assert time.monotonic() < deadline, "the store never recovered"
                time.sleep(0.5)
        sessions.append("web:1", [Turn("user", "低保标准是多少？", "低保标准是多少？")])
        assert [t.content for t in sessions.history("web:1")] == ["低保标准是多少？"]
        job = jobs.create("upload", ["notice.txt"])
        assert jobs.record(job, ["upload"]) is not None
        with psycopg.connect(url) as conn:
            components = {row[0] for row in conn.execute("SELECT component FROM schema_versions")}
        assert {"sessions", "jobs"} <= components
    close_pools(url)


def test_a_refused_connection_is_unavailable(unreachable_url: str) -> None:
    with pytest.raises(DatabaseUnavailable), unavailable_as_error():
        psycopg.connect(unreachable_url, connect_timeout=2)


def test_a_host_started_during_an_outage_answers_503_and_recovers_by_itself(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    """The county's database restarts slower than a host: the host starts anyway, says in Chinese that
    the service is busy (503, Retry-After), and answers once PostgreSQL is back, without a restart."""
    with postgres_cluster() as cluster:
        url = cluster.url()
        pool(url, 8, timeout_s=1.0)  # the stores take this pool: each wait for the database is short
        cluster.stop()
        settings = Settings(home=tmp_path / "home", database_url=url, tts_engines=["espeak-ng"])
        kb = KnowledgeBase(settings, embeddings)
        services = Services(settings, Assistant(settings, knowledge_base=kb))
        try:
            # Alive, and not ready: /readyz counts the documents, which takes the database.
            with live_server(create_app(settings, services), ready_path="/healthz") as base:
                assert services.wait_loaded(300) and services.ready
                readiness = httpx.get(base + "/readyz", timeout=60)
                assert readiness.status_code == 503
                assert readiness.json()["error"]["code"] == "database_unavailable"
                down = httpx.post(base + "/api/v1/chat", json={"message": "低保标准是多少？"}, timeout=60)
                assert down.status_code == 503 and down.headers["Retry-After"]
                assert down.json()["error"]["code"] == "database_unavailable"
                assert any("\u4e00" <= ch <= "\u9fff" for ch in down.json()["error"]["message"])
                cluster.start()
                deadline = time.monotonic() + 60
                while True:
                    back = httpx.post(base + "/api/v1/chat", json={"message": "低保标准是多少？"}, timeout=60)
                    if back.status_code == 200:
                        break
                    assert back.status_code == 503 and time.monotonic() < deadline, back.text
                    time.sleep(0.5)
                assert back.json()["refused"]  # an empty knowledge base: says so, and who to ask
                assert httpx.get(base + "/readyz", timeout=60).status_code == 200
        finally:
            kb.close()
            close_pools(url)
