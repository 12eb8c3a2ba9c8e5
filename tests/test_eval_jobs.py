"""Evaluation runs are jobs of the data home's job store (api/jobs.py), beside ingest jobs (issue 17): a
run's progress and headline numbers are in its row, the ingest routes never see it, and a run whose
server stopped reads as failed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from api.evaluation import runs as runs_module
from api.evaluation.runs import EvalRuns
from api.jobs import EVALUATION, EVALUATION_STOPPED, SERVER_STOPPED, JobStore
from assistant.answer import Answer, Citation
from evals.cases import Case, HistoryTurn
from evals.runner import Reply

EVIDENCE = "耕地地力保护补贴标准为每亩110元"
CASES = [
    Case(id="grain", question="种粮补贴每亩多少钱？", answer_keywords=["110元"], evidence=[EVIDENCE]),
    Case(id="visa", question="签证怎么办？", should_refuse=True),
]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class FakeLiveTarget:
    """The live target without an assistant: the grain question is answered and cited, the rest refused."""

    description = "in-process"
    parallel = False

    def __init__(self, svc: Any) -> None:
        self.closed = False

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply:
        refused = "签证" in question
        citations = (
            []
            if refused
            else [Citation(number=1, chunk_id="c", source="p.md", title="", section="", quote=EVIDENCE)]
        )
        answer = Answer(
            question=question,
            standalone_question=question,
            answer="文件里没有。" if refused else "每亩110元[1]。",
            speech="",
            refused=refused,
            kind="refusal" if refused else "answer",
            citations=citations,
            session_id="s",
        )
        return Reply(answer, [], 1.0)

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        return None

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3")


def test_a_run_is_a_job_of_the_store_and_the_ingest_view_does_not_see_it(
    store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_module, "LiveTarget", FakeLiveTarget)
    home = tmp_path / "home"
    cases_file = home / "evals" / "cases.jsonl"
    cases_file.parent.mkdir(parents=True)
    cases_file.write_text("", encoding="utf-8")
    svc = SimpleNamespace(settings=SimpleNamespace(home=home, embedder="e5", fusion="rrf"))
    ingest_job = store.create("upload", ["a.md"])
    runs = EvalRuns(store, home / "evals" / "runs")
    try:
        started = runs.submit(svc, cases_file, CASES)  # type: ignore[arg-type]
        assert started.state in ("queued", "running", "done") and started.cases == 2
        deadline = time.monotonic() + 30
        while (state := runs.get(started.id)) is not None and state.state not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        runs.shutdown()
    assert state is not None and state.state == "done", state
    assert (state.done, state.total, state.error) == (2, 2, "")
    assert state.summary is not None and state.summary.passed == 2
    assert state.summary.citation_correctness == 1.0 and state.summary.refusal_recall == 1.0
    assert [r.id for r in runs.recent()] == [started.id]
    # Result and report are files; the state is the job's row, not a file beside them.
    assert sorted(p.name for p in (home / "evals" / "runs" / started.id).iterdir()) == [
        "report.html",
        "result.json",
    ]
    record = store.record(started.id, (EVALUATION,))
    assert record is not None and record.kind == EVALUATION and record.report["cases"] == 2
    # The ingest routes' view: only ingest jobs, and a run's id is no ingest job.
    assert [j.id for j in store.recent()] == [ingest_job]
    assert store.get(started.id) is None and runs.get(ingest_job) is None
    assert runs.get("../../etc") is None


def test_a_run_of_a_stopped_server_reads_as_failed(store: JobStore, tmp_path: Path) -> None:
    runs = EvalRuns(store, tmp_path / "runs")
    run_id = store.create(EVALUATION, [], {"cases": 3})
    upload = store.create("upload", ["a.md"])
    store.update(run_id, state="running", owner=dead_pid())
    store.update(upload, owner=dead_pid())
    # Another worker's run whose process died reads as failed at once...
    state = runs.get(run_id)
    assert state is not None and state.state == "failed" and state.error == EVALUATION_STOPPED
    # ...and a starting server marks every orphan failed, each with its own kind's words.
    store.fail_orphans()
    after = store.record(run_id, (EVALUATION,))
    assert after is not None and (after.state, after.message) == ("failed", EVALUATION_STOPPED)
    job = store.get(upload)
    assert job is not None and (job.state, job.message) == ("failed", SERVER_STOPPED)
    runs.shutdown()


def test_runs_of_a_live_server_are_left_alone(store: JobStore, tmp_path: Path) -> None:
    run_id = store.create(EVALUATION, [], {"cases": 1})
    store.update(run_id, state="running", owner=os.getpid())
    store.fail_orphans()
    state = EvalRuns(store, tmp_path / "runs").get(run_id)
    assert state is not None and state.state == "running"
