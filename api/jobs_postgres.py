"""Jobs in PostgreSQL, for several API hosts behind one load balancer: any host lists, follows and
cancels any host's jobs, and no host fails another host's running job.

A process id means nothing on another machine, so a job's owner is its host name, pid and a token drawn
when the process starts (a restarted container reuses both name and pid). The owning process renews a
lease on its unfinished jobs (`heartbeat`, on the database's clock, so hosts' clocks never matter); a
job is orphaned when its lease has run out, or at once when its owner was on this host and is gone.
Host names must differ between hosts, as they do between machines and containers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from api.jobs import (
    CANCELLED,
    COLUMNS,
    STOPPED_ERROR,
    UNFINISHED,
    JobRecord,
    JobStorage,
    check_columns,
    decode,
    process_alive,
    stopped_message,
)
from api.schemas import JobState
from ground.postgres import DatabaseUnavailable
from ground.postgres_access import connection, open_schema, transaction

log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE jobs (id text PRIMARY KEY, kind text NOT NULL, state text NOT NULL,"
    " stage text NOT NULL DEFAULT '', done integer NOT NULL DEFAULT 0, total integer NOT NULL DEFAULT 0,"
    " files text NOT NULL DEFAULT '[]', report text NOT NULL DEFAULT '{}', error text NOT NULL DEFAULT '',"
    " created double precision NOT NULL, finished double precision, message text NOT NULL DEFAULT '',"
    " cancel_requested boolean NOT NULL DEFAULT false, owner integer NOT NULL, host text NOT NULL,"
    " process text NOT NULL, heartbeat timestamptz NOT NULL DEFAULT now());"
    " CREATE INDEX jobs_by_kind ON jobs (kind, created DESC);"
    " CREATE INDEX jobs_unfinished ON jobs (process) WHERE state IN ('queued', 'running')",
)
_SELECT = sql.SQL(
    "SELECT {columns}, host, process, heartbeat < now() - make_interval(secs => %s) FROM jobs"
).format(columns=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS))


@dataclass(frozen=True)
class Owner:
    """Who runs a job: host name, process id, and a token of this start of the process."""

    host: str
    pid: int
    process: str


_this: Owner | None = None


def this_process() -> Owner:
    """This process as an owner; drawn again in a forked worker, whose pid differs."""
    global _this
    if _this is None or _this.pid != os.getpid():
        _this = Owner(socket.gethostname(), os.getpid(), uuid.uuid4().hex)
    return _this


class PostgresJobStore(JobStorage):
    """`lease_s`: how long an owner may go unheard before its unfinished jobs count as orphaned; the
    owner renews it four times as often, so a slow query or a short outage does not orphan a live job."""

    def __init__(
        self, url: str, owner: Owner | None = None, lease_s: float = 60.0, pool_size: int = 8
    ) -> None:
        self.owner = owner or this_process()
        self.lease_s = lease_s
        self._db = open_schema(url, pool_size, "jobs", _SCHEMA)
        self._closing = threading.Event()
        self._beating = threading.Thread(target=self._beat, name="job-lease", daemon=True)
        self._beating.start()

    def _beat(self) -> None:
        while not self._closing.wait(self.lease_s / 4):
            try:
                with connection(self._db) as conn:
                    conn.execute(
                        "UPDATE jobs SET heartbeat = now()"
                        " WHERE process = %s AND state IN ('queued', 'running')",
                        (self.owner.process,),
                    )
            except DatabaseUnavailable as exc:
                if self._db.closed:
                    return  # the process closed its database pools (it is stopping): nothing to renew
                log.warning("could not renew the lease of this host's jobs: %s", exc)

    def create(self, kind: str, files: Sequence[str], report: Mapping[str, Any] | None = None) -> str:
        job_id = uuid.uuid4().hex
        with connection(self._db) as conn:
            conn.execute(
                "INSERT INTO jobs (id, kind, state, files, report, created, owner, host, process)"
                " VALUES (%s, %s, 'queued', %s, %s, %s, %s, %s, %s)",
                (
                    job_id,
                    kind,
                    json.dumps(list(files), ensure_ascii=False),
                    json.dumps(dict(report or {}), ensure_ascii=False),
                    time.time(),
                    self.owner.pid,
                    self.owner.host,
                    self.owner.process,
                ),
            )
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        check_columns(fields)
        assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in fields)
        with connection(self._db) as conn:
            conn.execute(
                sql.SQL("UPDATE jobs SET {} WHERE id = %s").format(assignments), (*fields.values(), job_id)
            )

    def record(self, job_id: str, kinds: Sequence[str]) -> JobRecord | None:
        with connection(self._db) as conn:
            row = conn.execute(
                _SELECT + sql.SQL(" WHERE id = %s AND kind = ANY(%s)"), (self.lease_s, job_id, list(kinds))
            ).fetchone()
        return None if row is None else self._record(row)

    def records(self, kinds: Sequence[str], limit: int = 20) -> list[JobRecord]:
        with connection(self._db) as conn:
            rows = conn.execute(
                _SELECT + sql.SQL(" WHERE kind = ANY(%s) ORDER BY created DESC LIMIT %s"),
                (self.lease_s, list(kinds), limit),
            ).fetchall()
        return [self._record(row) for row in rows]

    def request_cancel(self, job_id: str) -> JobState | None:
        # The row lock orders the request against the owner's `start`: a job is either cancelled while
        # queued or flagged while running, never missed in between.
        with transaction(self._db) as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = %s FOR UPDATE", (job_id,)).fetchone()
            if row is not None and row[0] == "queued":
                conn.execute(
                    "UPDATE jobs SET state = 'cancelled', message = %s, finished = %s WHERE id = %s",
                    (CANCELLED, time.time(), job_id),
                )
            elif row is not None and row[0] == "running":
                conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (job_id,))
        return self.get(job_id)

    def start(self, job_id: str) -> bool:
        with connection(self._db) as conn:
            cursor = conn.execute(
                "UPDATE jobs SET state = 'running', heartbeat = now() WHERE id = %s AND state = 'queued'",
                (job_id,),
            )
        return cursor.rowcount == 1

    def cancel_requested(self, job_id: str) -> bool:
        with connection(self._db) as conn:
            row = conn.execute("SELECT cancel_requested FROM jobs WHERE id = %s", (job_id,)).fetchone()
        return bool(row and row[0])

    def fail_orphans(self) -> None:
        # SKIP LOCKED: a row another host holds is being written by its live owner or failed by that
        # host's own start, so waiting for it would only slow this start down.
        with transaction(self._db) as conn:
            rows = conn.execute(
                _SELECT + sql.SQL(" WHERE state IN ('queued', 'running') FOR UPDATE SKIP LOCKED"),
                (self.lease_s,),
            ).fetchall()
            for row in rows:
                found = self._record(row)
                if found.orphaned:
                    conn.execute(
                        "UPDATE jobs SET state = 'failed', error = %s, message = %s, finished = %s"
                        " WHERE id = %s",
                        (STOPPED_ERROR, stopped_message(found.kind), time.time(), found.id),
                    )

    def close(self) -> None:
        """Stops renewing the lease; the pool is the process's and stays open."""
        self._closing.set()
        self._beating.join()

    def _record(self, row: tuple[Any, ...]) -> JobRecord:
        *columns, host, process, lease_expired = row
        fields = decode(dict(zip(COLUMNS, columns, strict=True)))
        return JobRecord(
            **fields,
            host=host,
            orphaned=fields["state"] in UNFINISHED
            and self._gone(host, fields["owner"], process, lease_expired),
        )

    def _gone(self, host: str, pid: int, process: str, lease_expired: bool) -> bool:
        if process == self.owner.process:
            return False
        if lease_expired:
            return True
        # On this host a dead pid, or our own pid under an older token (a restart), is known at once.
        return host == self.owner.host and (pid == self.owner.pid or not process_alive(pid))
