"""Background ingest jobs, recorded in SQLite under the data home so any worker can report progress.

A job can be cancelled from any worker: the request is a flag in the job's row, which the worker running
the job reads while it ingests (the ingest then stops within about a second, even mid-parse, and the
previous index keeps answering)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from api.schemas import JobState
from knowledge.base import IngestInProgress, KnowledgeBase
from knowledge.ingest import IngestCancelled, IngestReport, ingest
from xiangyin.database import open_database

log = logging.getLogger(__name__)

SERVER_STOPPED = "服务器在任务进行中停止了，这次更新没有生效，请重新上传或重新建索引。"
CANCELLED = "任务已取消，知识库保持原样。"
FAILED = "更新知识库时出错了，知识库保持原样。请稍后再试，或联系技术人员查看日志。"

_COLUMNS = (
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
)
_CANCEL_POLL_S = 0.3


class JobStore:
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

    def create(self, kind: str, files: Sequence[str]) -> str:
        job_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, kind, state, stage, done, total, files, report, error, created,"
                " finished, owner) VALUES (?, ?, 'queued', '', 0, 0, ?, '{}', '', ?, NULL, ?)",
                (job_id, kind, json.dumps(list(files), ensure_ascii=False), time.time(), os.getpid()),
            )
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job_id))

    def get(self, job_id: str) -> JobState | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        return None if row is None else _job(row)

    def recent(self, limit: int = 20) -> list[JobState]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY created DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_job(row) for row in rows]

    def request_cancel(self, job_id: str) -> JobState | None:
        """A queued job is cancelled at once; a running one is flagged, and stops when its worker reads
        the flag. Returns the job (None when there is none)."""
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
        """Marks a queued job running; false when it was cancelled while it waited."""
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
        """Jobs of a server process that has stopped will never finish: say so instead of "running"."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, owner FROM jobs WHERE state IN ('queued', 'running')"
            ).fetchall()
            for job_id, owner in rows:
                if not process_alive(owner):
                    self._db.execute(
                        "UPDATE jobs SET state = 'failed', error = 'the server stopped during the job',"
                        " message = ?, finished = ? WHERE id = ?",
                        (SERVER_STOPPED, time.time(), job_id),
                    )

    def close(self) -> None:
        self._db.close()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _job(row: tuple[Any, ...]) -> JobState:
    values = dict(zip(_COLUMNS, row, strict=True))
    report = json.loads(values.pop("report") or "{}")
    values["cancelling"] = bool(values.pop("cancel_requested")) and values["state"] in ("queued", "running")
    return JobState(**values | {"files": json.loads(values["files"])}, **report)


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
        store: JobStore,
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
                requested = self.store.cancel_requested(job_id)
            return requested

        return cancelled

    def _run(self, job_id: str, roots: list[Path], files: list[str], force: list[str]) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.store.update(job_id, stage=stage, done=done, total=total)

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
                    self.store.update(job_id, stage="waiting")
                    if self._stopping.wait(1.0) or cancelled():
                        raise IngestCancelled("cancelled while waiting for another ingest") from None
        except IngestCancelled:
            self._stopped(job_id)
            return
        except Exception as exc:
            log.exception("ingest job %s failed", job_id)
            self.store.update(job_id, state="failed", error=str(exc), message=FAILED, finished=time.time())
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
        self.store.update(
            job_id,
            state="done",
            report=json.dumps(_report_fields(report, kb, files), ensure_ascii=False),
            finished=time.time(),
        )

    def _stopped(self, job_id: str) -> None:
        if self._stopping.is_set():
            log.info("ingest job %s stopped with the server", job_id)
            self.store.update(
                job_id,
                state="failed",
                error="the server stopped during the job",
                message=SERVER_STOPPED,
                finished=time.time(),
            )
        else:
            log.info("ingest job %s cancelled", job_id)
            self.store.update(job_id, state="cancelled", message=CANCELLED, finished=time.time())

    def shutdown(self) -> None:
        """Stops a running ingest within about a second (nothing of it is committed) and drops the queue."""
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
