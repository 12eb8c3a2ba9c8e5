"""Evaluation runs as jobs of the data home's job store (api/jobs.py), beside ingest jobs: one run at a
time in a background thread, its progress and headline numbers in the job's row, its result and HTML
report as files in `evals/runs/<id>/`, so any worker can report on any run.

A run asks the live knowledge base through an assistant of its own with in-memory sessions: it reads the
index and never writes it, and it takes the answering lock one question at a time, so villagers'
questions interleave with a long run instead of waiting for it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from api.evaluation.schemas import RunState
from api.evaluation.target import LiveTarget
from api.jobs import EVALUATION, EVALUATION_STOPPED, JobRecord, JobStorage
from api.services import Services
from evals.cases import Case
from evals.report import render_report
from evals.results import RunInfo, Summary, save
from evals.runner import Runner

log = logging.getLogger(__name__)

STOPPED = "服务停止了，这次测试没有做完。"
FAILED = "测试运行出错了，请查看服务日志。"


class RunCancelled(Exception):
    """The server is stopping: the run ends where it is."""


def _state(job: JobRecord) -> RunState:
    """A run as the evaluation routes show it: officials read `message` as its error."""
    if job.orphaned:
        # Its worker stopped mid-run (the row says "running" until a server starts again).
        job = replace(job, state="failed", message=EVALUATION_STOPPED)
    summary = job.report.get("summary")
    return RunState(
        id=job.id,
        state="failed" if job.state == "cancelled" else job.state,  # type: ignore[arg-type]
        done=job.done,
        total=job.total,
        cases=job.report.get("cases", 0),
        error=job.message if job.state != "done" else "",
        created=job.created,
        finished=job.finished,
        summary=None if summary is None else Summary.model_validate(summary),
    )


class EvalRuns:
    """Runs the saved cases one run at a time in a background thread (apart from ingest jobs, which
    have their own), recorded in the job store as jobs of kind `evaluation`."""

    def __init__(self, store: JobStorage, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval-run")
        self._stopping = threading.Event()

    def _dir(self, run_id: str) -> Path:
        return self.folder / run_id

    def get(self, run_id: str) -> RunState | None:
        job = self.store.record(run_id, (EVALUATION,))
        return None if job is None else _state(job)

    def recent(self, limit: int = 10) -> list[RunState]:
        return [_state(job) for job in self.store.records((EVALUATION,), limit)]

    def report(self, run_id: str) -> Path:
        """The run's HTML report; only for an id `get` knows, so the path is never made up by a caller."""
        return self._dir(run_id) / "report.html"

    def submit(self, svc: Services, cases_file: Path, cases: list[Case]) -> RunState:
        run_id = self.store.create(EVALUATION, [], {"cases": len(cases)})
        self._dir(run_id).mkdir(parents=True)
        self._executor.submit(self._run, svc, run_id, cases_file, cases)
        state = self.get(run_id)
        assert state is not None
        return state

    def _run(self, svc: Services, run_id: str, cases_file: Path, cases: list[Case]) -> None:
        def progress(done: int, total: int) -> None:
            if self._stopping.is_set():
                raise RunCancelled
            self.store.update(run_id, done=done, total=total)

        if self._stopping.is_set() or not self.store.start(run_id):
            return  # the server is stopping: a run left queued is failed at the next start
        info = RunInfo(
            cases_file=str(cases_file.relative_to(svc.settings.home)),
            target="in-process",
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            settings={"embedder": svc.settings.embedder, "fusion": svc.settings.fusion},
        )
        target = LiveTarget(svc)
        try:
            # A run resumes nothing: each run answers every case again (partial=None).
            run = Runner(target, cases_file.parent).run(cases, info, progress=progress)
            save(run, self._dir(run_id) / "result.json")
            self.report(run_id).write_text(render_report(run), encoding="utf-8")
        except RunCancelled:
            self._failed(run_id, "the server stopped during the run", STOPPED)
            return
        except Exception as exc:
            log.exception("evaluation run %s failed", run_id)
            self._failed(run_id, repr(exc), FAILED)
            return
        finally:
            target.close()
        s = run.summary
        log.info("evaluation run %s: %d/%d passed in %.1f s", run_id, s.passed, s.cases, run.info.duration_s)
        # The row keeps the headline numbers, so listing runs reads no result file.
        report = {"cases": len(cases), "summary": s.model_dump(mode="json")}
        self.store.update(
            run_id, state="done", report=json.dumps(report, ensure_ascii=False), finished=time.time()
        )

    def _failed(self, run_id: str, error: str, message: str) -> None:
        """`error` for the operator's log and row, `message` for officials."""
        self.store.update(run_id, state="failed", error=error, message=message, finished=time.time())

    def shutdown(self) -> None:
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
