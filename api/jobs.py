"""Background jobs, recorded where any worker can report progress: ingest jobs (upload, reindex, metadata),
run here, and evaluation runs (api/evaluation/runs.py). The ingest routes see only ingest jobs, the
evaluation routes only evaluation runs. The record is SQLite under the data home (one machine, the
default) or PostgreSQL when several hosts share `database_url` (api/jobs_postgres.py).

An ingest job can be cancelled from any worker: the request is a flag in the job's row, which the worker
running the job reads while it ingests (the ingest then stops within about a second, even mid-parse, and the
previous index keeps answering)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.config import ApiSettings
from api.schemas import JobState
from ground.postgres import DatabaseUnavailable
from ground.sqlite import open_database
from knowledge.base import IngestInProgress, KnowledgeBase
from knowledge.ingest import IngestCancelled, IngestReport, ingest

log = logging.getLogger(__name__)

SERVER_STOPPED = "服务器在任务进行中停止了，这次更新没有生效，请重新上传或重新建索引。"
CANCELLED = "任务已取消，知识库保持原样。"
COMPLETION_STOPPED = "已停止补全向量：文件已经收录，助手照常按文字回答；以后重新建索引时会补全。"
"""A job cancelled after its documents were committed (searchable first): only their vectors stop."""
FAILED = "更新知识库时出错了，知识库保持原样。请稍后再试，或联系技术人员查看日志。"
EVALUATION_STOPPED = "服务重启了，这次测试没有做完。"

INGEST_KINDS = ("upload", "reindex", "metadata")
EVALUATION = "evaluation"
_STOPPED = {EVALUATION: EVALUATION_STOPPED}
"""What officials read about a job whose server stopped, by kind (ingest jobs: SERVER_STOPPED)."""

COLUMNS = (
    "id",
    "kind",
    "state",
    "stage",
    "done",
    "total",
    "files",
    "report",
    "error",
    "created",
    "finished",
    "message",
    "cancel_requested",
    "owner",
)
_CANCEL_POLL_S = 0.3
_FINISH_ATTEMPTS = 3
UNFINISHED = ("queued", "running")
UPDATABLE = frozenset(COLUMNS) - {"id"}
STOPPED_ERROR = "the server stopped during the job"
"""The row's `error` (for the operator) of a job whose server stopped."""


@dataclass(frozen=True)
class JobRecord:
    """A job's row as stored, whatever its kind; `report` is the kind's own result (JSON)."""

    id: str
    kind: str
    state: str
    stage: str
    done: int
    total: int
    files: list[str]
    report: dict[str, Any]
    error: str
    created: float
    finished: float | None
    message: str
    cancel_requested: bool
    owner: int = 0
    """The process id of the server process that runs the job."""
    host: str = ""
    """That process's host where several hosts share the store; empty in a data home's SQLite file."""
    orphaned: bool = False
    """Queued or running for a server process that has stopped, judged when the row was read: it will
    never finish. A start fails the orphans it finds (`fail_orphans`), but a worker that dies later
    leaves its jobs "running" until the next start, so a reader checks this too."""


class JobStorage(ABC):
    """Where jobs are recorded, so that every worker (and host) sees every job and its progress."""

    @abstractmethod
    def create(self, kind: str, files: Sequence[str], report: Mapping[str, Any] | None = None) -> str:
        """A queued job owned by this process; returns its id."""

    @abstractmethod
    def update(self, job_id: str, **fields: Any) -> None:
        """Sets columns of the job's row (`report` and `files` as JSON text)."""

    @abstractmethod
    def record(self, job_id: str, kinds: Sequence[str]) -> JobRecord | None:
        """The job, when it is one of these kinds."""

    @abstractmethod
    def records(self, kinds: Sequence[str], limit: int = 20) -> list[JobRecord]:
        """The newest jobs of these kinds, newest first."""

    @abstractmethod
    def request_cancel(self, job_id: str) -> JobState | None:
        """A queued job is cancelled at once; a running one is flagged, and stops when its worker reads
        the flag. Returns the job (None when there is none)."""

    @abstractmethod
    def start(self, job_id: str) -> bool:
        """Marks a queued job running; false when it was cancelled while it waited."""

    @abstractmethod
    def cancel_requested(self, job_id: str) -> bool: ...

    @abstractmethod
    def fail_orphans(self) -> None:
        """Jobs of a server process that has stopped will never finish: say so instead of "running"."""

    @abstractmethod
    def close(self) -> None: ...

    def get(self, job_id: str) -> JobState | None:
        """An ingest job (the ingest routes' view)."""
        found = self.record(job_id, INGEST_KINDS)
        return None if found is None else _job(found)

    def recent(self, limit: int = 20) -> list[JobState]:
        """The newest ingest jobs, newest first."""
        return [_job(r) for r in self.records(INGEST_KINDS, limit)]


class SqliteJobStore(JobStorage):
    """Jobs in the data home's SQLite file: every worker of one machine, owners told apart by pid."""

    def __init__(self, path: Path) -> None:
        self._db = open_database(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT, state TEXT, stage TEXT,"
            " done INTEGER, total INTEGER, files TEXT, report TEXT, error TEXT, created REAL, finished REAL,"
            " owner INTEGER)"
        )
        present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, kind in (
            ("message", "TEXT NOT NULL DEFAULT ''"),
            ("cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
        ):
            if column not in present:  # a data home from before jobs could be cancelled
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        self._lock = threading.Lock()

    def create(self, kind: str, files: Sequence[str], report: Mapping[str, Any] | None = None) -> str:
        job_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, kind, state, stage, done, total, files, report, error, created,"
                " finished, owner) VALUES (?, ?, 'queued', '', 0, 0, ?, ?, '', ?, NULL, ?)",
                (
                    job_id,
                    kind,
                    json.dumps(list(files), ensure_ascii=False),
                    json.dumps(dict(report or {}), ensure_ascii=False),
                    time.time(),
                    os.getpid(),
                ),
            )
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        check_columns(fields)
        names = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job_id))

    def record(self, job_id: str, kinds: Sequence[str]) -> JobRecord | None:
        marks = ", ".join("?" for _ in kinds)
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id = ? AND kind IN ({marks})",
                (job_id, *kinds),
            ).fetchone()
        return None if row is None else _record(row)

    def records(self, kinds: Sequence[str], limit: int = 20) -> list[JobRecord]:
        marks = ", ".join("?" for _ in kinds)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE kind IN ({marks}) ORDER BY created DESC"
                " LIMIT ?",
                (*kinds, limit),
            ).fetchall()
        return [_record(row) for row in rows]

    def request_cancel(self, job_id: str) -> JobState | None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = 'cancelled', message = ?, finished = ?"
                " WHERE id = ? AND state = 'queued'",
                (CANCELLED, time.time(), job_id),
            )
            self._db.execute(
                "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'", (job_id,)
            )
        return self.get(job_id)

    def start(self, job_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET state = 'running' WHERE id = ? AND state = 'queued'", (job_id,)
            )
        return cursor.rowcount == 1

    def cancel_requested(self, job_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def fail_orphans(self) -> None:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, owner FROM jobs WHERE state IN ('queued', 'running')"
            ).fetchall()
            for job_id, kind, owner in rows:
                if not process_alive(owner):
                    self._db.execute(
                        "UPDATE jobs SET state = 'failed', error = ?, message = ?, finished = ? WHERE id = ?",
                        (STOPPED_ERROR, stopped_message(kind), time.time(), job_id),
                    )

    def close(self) -> None:
        self._db.close()


JobStore = SqliteJobStore
"""The name the tests construct with a path."""


def open_job_store(settings: ApiSettings) -> JobStorage:
    """PostgreSQL when `database_url` is set (several hosts), else the data home's SQLite file."""
    if settings.database_url:
        from api.jobs_postgres import PostgresJobStore

        return PostgresJobStore(settings.database_url, pool_size=settings.database_pool_size)
    return SqliteJobStore(settings.home / "jobs.sqlite3")


def stopped_message(kind: str) -> str:
    """What officials read about a job whose server stopped."""
    return _STOPPED.get(kind, SERVER_STOPPED)


def check_columns(fields: Mapping[str, Any]) -> None:
    # Column names go into the SQL text itself: only the table's own columns may.
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not a job column: {sorted(unknown)}")


def decode(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row's columns (as named in `COLUMNS`) as JobRecord's fields."""
    return dict(values) | {
        "files": json.loads(values["files"] or "[]"),
        "report": json.loads(values["report"] or "{}"),
        "cancel_requested": bool(values["cancel_requested"]),
        "owner": values["owner"] or 0,
    }


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _record(row: tuple[Any, ...]) -> JobRecord:
    fields = decode(dict(zip(COLUMNS, row, strict=True)))
    return JobRecord(**fields, orphaned=fields["state"] in UNFINISHED and not process_alive(fields["owner"]))


def _job(record: JobRecord) -> JobState:
    """An ingest job as the ingest routes show it."""
    return JobState(
        id=record.id,
        kind=record.kind,  # type: ignore[arg-type]  # one of INGEST_KINDS: only those are read here
        state=record.state,  # type: ignore[arg-type]
        stage=record.stage,
        done=record.done,
        total=record.total,
        files=record.files,
        error=record.error,
        message=record.message,
        cancelling=record.cancel_requested and record.state in ("queued", "running"),
        created=record.created,
        finished=record.finished,
        **record.report,
    )


def _report_fields(report: IngestReport, kb: KnowledgeBase, files: Sequence[str]) -> dict[str, Any]:
    """What the job tells officials. A file refused by an earlier job is not read again; it is reported
    only when this job's upload brought it again (unchanged), so its reason is not lost."""
    skipped = {s.source: s.message for s in report.skipped}
    again = set(report.rejected_before) & set(files)
    if again:
        skipped |= {d.source: d.message for d in kb.rejected_documents() if d.source in again}
    return {"added": report.added, "updated": report.updated, "removed": report.removed, "skipped": skipped}


class IngestJobs:
    """Runs ingests one at a time in a background thread; the knowledge base's writer lock keeps other
    workers' ingests out, so a job waits for them instead of failing."""

    def __init__(
        self,
        store: JobStorage,
        knowledge_base: Callable[[], KnowledgeBase],
        wait_for_writer_s: float = 600.0,
    ) -> None:
        self.store = store
        self._knowledge_base = knowledge_base
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._wait_for_writer_s = wait_for_writer_s
        self._stopping = threading.Event()

    def submit(
        self, kind: str, roots: Sequence[Path], files: Sequence[str] = (), force: Sequence[str] = ()
    ) -> str:
        """`force`: sources read again even when unchanged (re-indexing one document)."""
        job_id = self.store.create(kind, files)
        self._executor.submit(self._run, job_id, list(roots), list(files), list(force))
        return job_id

    def _cancel_check(self, job_id: str) -> Callable[[], bool]:
        """Whether the job should stop: the server is stopping, or someone asked (read at most every
        0.3 s, as ingest asks often)."""
        checked_at = 0.0
        requested = False

        def cancelled() -> bool:
            nonlocal checked_at, requested
            if self._stopping.is_set():
                return True
            if not requested and time.monotonic() - checked_at > _CANCEL_POLL_S:
                checked_at = time.monotonic()
                try:
                    requested = self.store.cancel_requested(job_id)
                except DatabaseUnavailable as exc:  # a shared store's blip must not stop the ingest
                    log.warning("ingest job %s: the cancel flag could not be read: %s", job_id, exc)
            return requested

        return cancelled

    def _run(self, job_id: str, roots: list[Path], files: list[str], force: list[str]) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self._note(job_id, stage=stage, done=done, total=total)

        if self._stopping.is_set() or not self.store.start(job_id):
            return  # cancelled while queued; a job left queued at shutdown is failed at the next start
        cancelled = self._cancel_check(job_id)
        deadline = time.monotonic() + self._wait_for_writer_s
        try:
            while True:
                try:
                    kb = self._knowledge_base()
                    report = ingest(
                        kb, roots, prune=True, progress=progress, cancelled=cancelled, force=force
                    )
                    break
                except IngestInProgress:
                    if time.monotonic() > deadline:
                        raise
                    self._note(job_id, stage="waiting")
                    if self._stopping.wait(1.0) or cancelled():
                        raise IngestCancelled("cancelled while waiting for another ingest") from None
        except IngestCancelled:
            self._stopped(job_id)
            return
        except Exception as exc:
            log.exception("ingest job %s failed", job_id)
            self._finish(job_id, state="failed", error=str(exc), message=FAILED, finished=time.time())
            return
        log.info(
            "ingest job %s: %d added, %d updated, %d removed, %d skipped in %.1f s",
            job_id,
            len(report.added),
            len(report.updated),
            len(report.removed),
            len(report.skipped),
            report.seconds,
        )
        # A cancel that came after the commit stopped only the vectors: the documents are in and answer.
        stopped = report.pending > 0 and cancelled() and not self._stopping.is_set()
        self._finish(
            job_id,
            state="cancelled" if stopped else "done",
            message=COMPLETION_STOPPED if stopped else "",
            report=json.dumps(_report_fields(report, kb, files), ensure_ascii=False),
            finished=time.time(),
        )

    def _note(self, job_id: str, **fields: Any) -> None:
        try:
            self.store.update(job_id, **fields)
        except DatabaseUnavailable as exc:  # progress is for show: the ingest goes on without it
            log.warning("ingest job %s: progress not recorded: %s", job_id, exc)

    def _finish(self, job_id: str, **fields: Any) -> None:
        """Records how the job ended. A shared store is tried a few times (each try waits for the pool),
        since a job left "running" by a live process would read as running until that process stops."""
        for attempt in range(1, _FINISH_ATTEMPTS + 1):
            try:
                self.store.update(job_id, **fields)
                return
            except DatabaseUnavailable as exc:
                log.warning("ingest job %s: its end not recorded (try %d): %s", job_id, attempt, exc)
        log.error("ingest job %s ended %s, but the job store could not record it", job_id, fields["state"])

    def _stopped(self, job_id: str) -> None:
        if self._stopping.is_set():
            log.info("ingest job %s stopped with the server", job_id)
            self._finish(
                job_id,
                state="failed",
                error=STOPPED_ERROR,
                message=SERVER_STOPPED,
                finished=time.time(),
            )
        else:
            log.info("ingest job %s cancelled", job_id)
            self._finish(job_id, state="cancelled", message=CANCELLED, finished=time.time())

    def shutdown(self) -> None:
        """Stops a running ingest within about a second (nothing of it is committed) and drops the queue."""
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
