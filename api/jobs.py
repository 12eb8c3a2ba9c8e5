"""Background ingest jobs, recorded in SQLite under the data home so any worker can report progress."""

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
from knowledge.ingest import IngestReport, ingest
from xiangyin.database import open_database

log = logging.getLogger(__name__)

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
)


class JobStore:
    def __init__(self, path: Path) -> None:
        self._db = open_database(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT, state TEXT, stage TEXT,"
            " done INTEGER, total INTEGER, files TEXT, report TEXT, error TEXT, created REAL, finished REAL,"
            " owner INTEGER)"
        )
        self._lock = threading.Lock()

    def create(self, kind: str, files: Sequence[str]) -> str:
        job_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs VALUES (?, ?, 'queued', '', 0, 0, ?, '{}', '', ?, NULL, ?)",
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
                        " finished = ? WHERE id = ?",
                        (time.time(), job_id),
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
    return JobState(**values | {"files": json.loads(values["files"])}, **report)


def _report_fields(report: IngestReport) -> dict[str, Any]:
    return {
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "skipped": {s.source: s.reason for s in report.skipped},
    }


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

    def submit(self, kind: str, roots: Sequence[Path], files: Sequence[str] = ()) -> str:
        job_id = self.store.create(kind, files)
        self._executor.submit(self._run, job_id, list(roots))
        return job_id

    def _run(self, job_id: str, roots: list[Path]) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.store.update(job_id, stage=stage, done=done, total=total)

        self.store.update(job_id, state="running")
        deadline = time.monotonic() + self._wait_for_writer_s
        try:
            while True:
                try:
                    report = ingest(self._knowledge_base(), roots, prune=True, progress=progress)
                    break
                except IngestInProgress:
                    if time.monotonic() > deadline:
                        raise
                    self.store.update(job_id, stage="waiting")
                    time.sleep(1.0)
        except Exception as exc:
            log.exception("ingest job %s failed", job_id)
            self.store.update(job_id, state="failed", error=str(exc), finished=time.time())
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
            report=json.dumps(_report_fields(report), ensure_ascii=False),
            finished=time.time(),
        )

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
