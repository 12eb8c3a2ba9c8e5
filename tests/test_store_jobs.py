"""The job store's contract, the same assertions against SQLite (one machine) and PostgreSQL (several
hosts), and two hosts sharing jobs through one database: a cancel asked on one host reaches the worker
on the other, and no host fails another host's running job because that host's pid means nothing here."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.jobs import (
    CANCELLED,
    EVALUATION,
    EVALUATION_STOPPED,
    INGEST_KINDS,
    SERVER_STOPPED,
    JobStorage,
    SqliteJobStore,
    open_job_store,
)
from api.jobs_postgres import Owner, PostgresJobStore
from ground.postgres import close_pools
from xiangyin.settings import Settings


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class Backend:
    """Opens stores of one kind on one database, and makes jobs whose process has died on this host."""

    def __init__(self, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self._path = tmp_path / "jobs.sqlite3"
        self._url = request.getfixturevalue("database_url") if kind == "postgres" else ""
        self._opened: list[JobStorage] = []

    def open(self) -> JobStorage:
        store: JobStorage = PostgresJobStore(self._url) if self._url else SqliteJobStore(self._path)
        self._opened.append(store)
        return store

    def orphan(self, store: JobStorage, kind: str, running: bool) -> str:
        """A job of a server process of this host that has stopped."""
        if not self._url:
            job_id = store.create(kind, [])
            store.update(job_id, owner=dead_pid(), **({"state": "running"} if running else {}))
            return job_id
        gone = PostgresJobStore(self._url, Owner(socket.gethostname(), dead_pid(), "gone"))
        job_id = gone.create(kind, [])
        if running:
            gone.start(job_id)
        gone.close()
        return job_id

    def close(self) -> None:
        for store in self._opened:
            store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened = Backend(request.param, tmp_path, request)
    yield opened
    opened.close()


def test_jobs_are_listed_by_kind_newest_first_with_their_progress(backend: Backend) -> None:
    store = backend.open()
    first = store.create("upload", ["a.md", "乡村振兴.docx"])
    time.sleep(0.01)
    run = store.create(EVALUATION, [], {"cases": 3})
    time.sleep(0.01)
    second = store.create("reindex", [])
    store.update(first, stage="embedding", done=2, total=5)
    store.update(second, state="done", report='{"added": ["a.md"]}', finished=time.time())
    assert [j.id for j in store.recent()] == [second, first]
    job = store.get(first)
    assert job is not None and (job.kind, job.state, job.stage, job.done, job.total) == (
        "upload",
        "queued",
        "embedding",
        2,
        5,
    )
    assert job.files == ["a.md", "乡村振兴.docx"] and not job.cancelling
    done = store.get(second)
    assert done is not None and done.added == ["a.md"] and done.finished is not None
    record = store.record(run, (EVALUATION,))
    assert record is not None and record.report == {"cases": 3} and record.owner == os.getpid()
    assert not record.orphaned
    assert store.get(run) is None and store.record(first, (EVALUATION,)) is None
    assert [r.id for r in store.records((EVALUATION, *INGEST_KINDS), limit=2)] == [second, run]
    assert store.get("no-such-job") is None and store.request_cancel("no-such-job") is None
    with pytest.raises(ValueError, match="not a job column"):
        store.update(first, **{"state = 'done' --": 1})


def test_a_queued_job_is_cancelled_at_once_and_a_running_one_is_flagged(backend: Backend) -> None:
    store = backend.open()
    queued, running = store.create("upload", []), store.create("reindex", [])
    assert store.start(running) and not store.start(running)
    cancelled = store.request_cancel(queued)
    assert cancelled is not None and (cancelled.state, cancelled.message) == ("cancelled", CANCELLED)
    assert not store.start(queued), "a job cancelled while it waited never starts"
    assert not store.cancel_requested(running)
    flagged = store.request_cancel(running)
    assert flagged is not None and flagged.state == "running" and flagged.cancelling
    assert store.cancel_requested(running)


def test_jobs_of_a_stopped_process_read_as_orphaned_and_are_failed_at_start(backend: Backend) -> None:
    store = backend.open()
    run = backend.orphan(store, EVALUATION, running=True)
    upload = backend.orphan(store, "upload", running=False)
    live = store.create("upload", [])
    store.start(live)
    orphan = store.record(run, (EVALUATION,))
    assert orphan is not None and orphan.state == "running" and orphan.orphaned
    store.fail_orphans()
    after = store.record(run, (EVALUATION,))
    assert after is not None and (after.state, after.message) == ("failed", EVALUATION_STOPPED)
    assert not after.orphaned and after.finished is not None
    job = store.get(upload)
    assert job is not None and (job.state, job.message) == ("failed", SERVER_STOPPED)
    still = store.get(live)
    assert still is not None and still.state == "running", "this process's own job is left alone"


def test_the_factory_picks_postgres_by_database_url(tmp_path: Path, database_url: str) -> None:
    embedded = open_job_store(Settings(home=tmp_path / "home"))
    shared = open_job_store(Settings(home=tmp_path / "home", database_url=database_url))
    assert isinstance(embedded, SqliteJobStore) and isinstance(shared, PostgresJobStore)
    embedded.close()
    shared.close()


def test_hosts_share_jobs_and_cancels_and_never_fail_each_others_running_jobs(database_url: str) -> None:
    here = socket.gethostname()
    # Host A's pid is dead *here*: a host that judged A's jobs by pid would wrongly fail them.
    host_a = PostgresJobStore(database_url + "?application_name=a", Owner("host-a", dead_pid(), "a"), 1.0)
    host_b = PostgresJobStore(database_url + "?application_name=b", Owner("host-b", os.getpid(), "b"), 1.0)
    try:
        job_id = host_a.create("upload", ["a.md"])
        assert host_a.start(job_id)
        host_a.update(job_id, stage="embedding", done=1, total=3)
        seen = host_b.get(job_id)
        assert seen is not None and (seen.state, seen.stage, seen.done) == ("running", "embedding", 1)
        # The cancel asked on B reaches A's worker, which polls its own store.
        cancelling = host_b.request_cancel(job_id)
        assert cancelling is not None and cancelling.cancelling
        assert host_a.cancel_requested(job_id)
        # Past the lease, still renewed by A: B leaves it alone.
        time.sleep(1.5)
        record = host_b.record(job_id, INGEST_KINDS)
        assert record is not None and record.host == "host-a" and not record.orphaned
        host_b.fail_orphans()
        running = host_b.get(job_id)
        assert running is not None and running.state == "running"
    finally:
        host_a.close()
    # A stopped (its lease is no longer renewed): once the lease runs out, B sees an orphan and fails it.
    time.sleep(1.5)
    record = host_b.record(job_id, INGEST_KINDS)
    assert record is not None and record.orphaned
    host_b.fail_orphans()
    failed = host_b.get(job_id)
    assert failed is not None and (failed.state, failed.message) == ("failed", SERVER_STOPPED)
    host_b.close()
    # A store owned by default by this process records the real host name.
    default = PostgresJobStore(database_url)
    own = default.record(default.create(EVALUATION, []), (EVALUATION,))
    assert own is not None and own.host == here and not own.orphaned
    default.close()


def test_a_store_whose_pool_the_process_closed_stops_renewing_quietly(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # At shutdown the process closes its pools; a store nobody closed must not warn of an outage then.
    url = database_url + "?application_name=closing"
    store = PostgresJobStore(url, Owner("host-c", os.getpid(), "c"), lease_s=0.08)
    close_pools(url)
    with caplog.at_level(logging.WARNING, logger="api.jobs_postgres"):
        store._beating.join(timeout=5)
    assert not store._beating.is_alive()
    assert "could not renew" not in caplog.text
