"""Evaluation for officials: try a question against the live assistant, keep it as a golden case, run the
saved cases and read the report.

Mounted only when an admin token is configured. Cases live in the data home's `evals/cases.jsonl`, runs
in `evals/runs/<id>/` (state, result and HTML report as files, so any worker can report on any run). A
run asks the live assistant's knowledge base through an assistant of its own with in-memory sessions:
it reads the index and never writes it, and it takes the answering lock one question at a time, so
villagers' questions interleave with a long run instead of waiting for it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ServicesDep, admin, ready
from api.errors import ApiError, responses
from api.jobs import process_alive
from api.page import STATIC
from api.services import Services
from assistant.answer import Answer
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from evals.cases import Case, CaseFileError, HistoryTurn, append_case, case_record, load_cases
from evals.metrics import passage_relevant
from evals.report import render_report
from evals.results import CaseResult, CaseScores, Problem, RunInfo, Summary, save
from evals.runner import InProcessTarget, Reply, Runner, Trial

log = logging.getLogger(__name__)
AUTH_ERRORS = (401, 403)
_TEXT = 2000  # the chat route's limit: a case may hold any question the chat route accepts


class CaseDraft(BaseModel):
    """A question and what a correct answer must contain, as an official types it."""

    # As in case files: a misspelt field is an error, not an expectation silently dropped.
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1, max_length=_TEXT, pattern=r"\S", description="The question, as a villager asks it."
    )
    answer: str | None = Field(default=None, max_length=_TEXT, description="The reference answer.")
    answer_keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20, description="Words a correct answer must contain."
    )
    evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=10, description="Text the right passage contains."
    )
    sources: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=10, description="Documents the answer should come from."
    )
    should_refuse: bool = Field(default=False, description="The documents do not answer it.")
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=10
    )

    @property
    def expects(self) -> bool:
        """Whether there is anything to score the answer against."""
        return bool(
            self.answer or self.answer_keywords or self.evidence or self.sources or self.should_refuse
        )

    def record(self, case_id: str) -> dict[str, object]:
        fields = self.model_dump(exclude_defaults=True)
        if self.answer is not None and not self.answer.strip():
            fields.pop("answer")
        return {"id": case_id, **fields}


class NewCase(CaseDraft):
    id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[\w\u4e00-\u9fff.-]+$",
        description="The case's id; one is made up when it is left out.",
    )


class RankedPassage(BaseModel):
    rank: int
    source: str
    title: str
    section: str
    text: str
    score: float
    relevant: bool | None = Field(description="Matches the expected evidence or sources; null if none given.")


class TryResult(BaseModel):
    """What the assistant said to a tried question, and why."""

    answer: Answer = Field(description="The assistant's answer with its citations and passages (scores).")
    ranking: list[RankedPassage] = Field(description="Retrieval's ranked list (up to 10), with scores.")
    scores: CaseScores | None = Field(description="The harness's measures; null without expectations.")
    passed: bool | None = Field(description="Whether the case would pass; null without expectations.")
    problem: Problem | None = None


RunStateName = Literal["queued", "running", "done", "failed"]


class RunState(BaseModel):
    id: str
    state: RunStateName
    done: int = 0
    total: int = 0
    cases: int = Field(description="Saved cases when the run started.")
    error: str = ""
    created: float
    finished: float | None = None
    summary: Summary | None = Field(default=None, description="The headline numbers, once done.")


class Deleted(BaseModel):
    deleted: str


# Cases


class CaseBook:
    """The deployment's golden cases (one JSONL file); writes are serialised within the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def cases(self) -> list[Case]:
        if not self.path.exists():
            return []
        try:
            return load_cases(self.path)
        except CaseFileError as exc:
            log.warning("the case file is broken: %s", exc)
            raise ApiError(
                409, "case_file_invalid", f"测试题文件有错误，请技术人员修正：{self._plain(exc)}"
            ) from exc

    def add(self, draft: NewCase) -> Case:
        with self._lock:
            existing = {c.id for c in self.cases()}
            case_id = draft.id or _new_id(existing)
            if case_id in existing:
                raise ApiError(409, "case_exists", f"测试题编号 {case_id} 已经有了，请换一个。")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                return append_case(self.path, draft.record(case_id))
            except CaseFileError as exc:
                raise ApiError(422, "invalid_case", f"测试题不符合要求：{self._plain(exc)}") from exc

    def remove(self, case_id: str) -> None:
        with self._lock:
            cases = self.cases()
            kept = [c for c in cases if c.id != case_id]
            if len(kept) == len(cases):
                raise ApiError(404, "case_not_found", "没有这道测试题。")
            text = "".join(json.dumps(case_record(c), ensure_ascii=False) + "\n" for c in kept)
            partial = self.path.with_name(f".{self.path.name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(self.path)

    def _plain(self, exc: CaseFileError) -> str:
        """The harness names the file and line; officials need the line, not the server's paths."""
        text = str(exc).replace(f"{self.path}: 新用例: ", "")
        return re.sub(rf"^{re.escape(str(self.path))}:(\d+): ", r"第\1行：", text)


def _new_id(taken: set[str]) -> str:
    while (case_id := f"q-{uuid.uuid4().hex[:8]}") in taken:
        pass
    return case_id


# Asking the live knowledge base


class LiveTarget(InProcessTarget):
    """The harness's in-process target over the live knowledge base, one question at a time with the
    villagers' questions (the answering lock), remembering its last reply for the try route."""

    def __init__(self, svc: Services) -> None:
        super().__init__(
            Assistant(svc.assistant.settings, knowledge_base=svc.assistant.kb, sessions=_memory_sessions())
        )
        self._lock = svc.answering_lock
        self.last: Reply | None = None

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply:
        with self._lock:
            self.last = super().ask(question, history, spoken)
        return self.last

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        with self._lock:
            return super().sources_loaded(sources)

    def close(self) -> None:
        # Only the sessions are the target's own: the knowledge base is the live one.
        self.assistant.sessions.close()


def _memory_sessions() -> SessionStore:
    # Cases carry their own history; their sessions must not mix with villagers'.
    return SessionStore(Path(":memory:"))


def _ranked(result: CaseResult) -> list[RankedPassage]:
    case = result.case
    judged = bool(case.evidence or case.sources)
    return [
        RankedPassage(
            rank=rank,
            source=p.source,
            title=p.title,
            section=p.section,
            text=p.text,
            score=p.score,
            relevant=passage_relevant(p.text, p.source, case.evidence, case.sources) if judged else None,
        )
        for rank, p in enumerate(result.ranking, start=1)
    ]


# Runs


class RunCancelled(Exception):
    """The server is stopping: the run ends where it is."""


class EvalRuns:
    """Runs the saved cases one run at a time in a background thread; state and results are files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval-run")
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def _dir(self, run_id: str) -> Path:
        return self.folder / run_id

    def _write(self, state: RunState) -> None:
        # The owner (this process) is kept beside the state, so a run whose server died reads as failed.
        path = self._dir(state.id) / "state.json"
        partial = path.with_name(".state.json.partial")
        partial.write_text(json.dumps({"owner": os.getpid(), **state.model_dump()}), encoding="utf-8")
        partial.replace(path)

    def _update(self, run_id: str, **changes: object) -> RunState:
        with self._lock:
            state = self.get(run_id)
            assert state is not None
            state = state.model_copy(update=changes)
            self._write(state)
        return state

    def get(self, run_id: str) -> RunState | None:
        if not run_id.isalnum():
            return None
        path = self._dir(run_id) / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        owner = data.pop("owner", 0)
        state = RunState.model_validate(data)
        if state.state in ("queued", "running") and not process_alive(owner):
            return state.model_copy(update={"state": "failed", "error": "服务重启了，这次测试没有做完。"})
        return state

    def recent(self, limit: int = 10) -> list[RunState]:
        if not self.folder.is_dir():
            return []
        states = [s for d in self.folder.iterdir() if (s := self.get(d.name)) is not None]
        return sorted(states, key=lambda s: s.created, reverse=True)[:limit]

    def report(self, run_id: str) -> Path:
        return self._dir(run_id) / "report.html"

    def submit(self, svc: Services, cases_file: Path, cases: list[Case]) -> RunState:
        run_id = uuid.uuid4().hex
        self._dir(run_id).mkdir(parents=True)
        state = RunState(id=run_id, state="queued", cases=len(cases), created=time.time())
        self._write(state)
        self._executor.submit(self._run, svc, run_id, cases_file, cases)
        return state

    def _run(self, svc: Services, run_id: str, cases_file: Path, cases: list[Case]) -> None:
        def progress(done: int, total: int) -> None:
            if self._stopping.is_set():
                raise RunCancelled
            self._update(run_id, done=done, total=total)

        self._update(run_id, state="running")
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
            self._update(run_id, state="failed", error="服务停止了，这次测试没有做完。", finished=time.time())
            return
        except Exception:
            log.exception("evaluation run %s failed", run_id)
            self._update(
                run_id, state="failed", error="测试运行出错了，请查看服务日志。", finished=time.time()
            )
            return
        finally:
            target.close()
        s = run.summary
        log.info("evaluation run %s: %d/%d passed in %.1f s", run_id, s.passed, s.cases, run.info.duration_s)
        self._update(run_id, state="done", summary=s, finished=time.time())

    def shutdown(self) -> None:
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: Services = app.state.services
    runs = EvalRuns(svc.settings.home / "evals" / "runs")
    app.state.eval_runs = runs
    app.state.case_book = CaseBook(svc.settings.home / "evals" / "cases.jsonl")
    try:
        yield
    finally:
        runs.shutdown()


def _runs(request: Request) -> EvalRuns:
    found: EvalRuns = request.app.state.eval_runs
    return found


def _book(request: Request) -> CaseBook:
    found: CaseBook = request.app.state.case_book
    return found


def _json_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses()` for a route whose own body is not JSON: FastAPI would list the error bodies under
    the route's media type, so they name theirs."""
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {
        status: {"description": entry["description"], "content": {"application/json": {"schema": schema}}}
        for status, entry in responses(*statuses).items()
    }


RunsDep = Annotated[EvalRuns, Depends(_runs)]
BookDep = Annotated[CaseBook, Depends(_book)]

router = APIRouter(
    prefix="/api/v1/admin/evals", tags=["evaluation"], dependencies=[Depends(admin)], lifespan=_lifespan
)


@router.post(
    "/try",
    response_model=TryResult,
    responses=responses(*AUTH_ERRORS, 422, 503),
    dependencies=[Depends(ready)],
)
def try_question(draft: CaseDraft, svc: ServicesDep) -> TryResult:
    """Ask the live assistant a question as a case: its answer, the ranked passages with their scores,
    and, when an expected answer, keywords, evidence or sources are given, the case's measures."""
    target = LiveTarget(svc)
    try:
        case = Case.model_validate(draft.record("try"))
        result = Runner(target).run_one(Trial(case, "typed"))
    finally:
        target.close()
    if result.error or target.last is None:
        log.warning("trying a question failed: %s", result.error)
        raise ApiError(500, "internal_error", "系统出了点问题，请稍后再试。")
    checked = draft.expects
    return TryResult(
        answer=target.last.answer,
        ranking=_ranked(result),
        scores=result.scores if checked else None,
        passed=result.passed if checked else None,
        problem=result.problem if checked else None,
    )


@router.get("/cases", response_model=list[Case], responses=responses(*AUTH_ERRORS, 409))
def list_cases(book: BookDep) -> list[Case]:
    """The saved golden cases, in file order."""
    return book.cases()


@router.post(
    "/cases",
    response_model=Case,
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, 409, 422),
)
def save_case(draft: NewCase, book: BookDep) -> Case:
    """Save a question and its expected answer as a golden case."""
    case = book.add(draft)
    log.info("admin saved evaluation case %s", case.id)
    return case


@router.delete("/cases/{case_id}", response_model=Deleted, responses=responses(*AUTH_ERRORS, 404, 409))
def delete_case(case_id: str, book: BookDep) -> Deleted:
    """Remove a saved case."""
    book.remove(case_id)
    log.info("admin deleted evaluation case %s", case_id)
    return Deleted(deleted=case_id)


@router.post(
    "/runs",
    response_model=RunState,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*AUTH_ERRORS, 409, 422, 503),
    dependencies=[Depends(ready)],
)
def start_run(svc: ServicesDep, book: BookDep, runs: RunsDep) -> RunState:
    """Run every saved case against the live knowledge base in the background (poll the run)."""
    cases = book.cases()
    if not cases:
        raise ApiError(422, "no_cases", "还没有保存测试题，请先保存几道。")
    return runs.submit(svc, book.path, cases)


@router.get("/runs", response_model=list[RunState], responses=responses(*AUTH_ERRORS))
def recent_runs(runs: RunsDep) -> list[RunState]:
    """Recent runs, newest first."""
    return runs.recent()


@router.get("/runs/{run_id}", response_model=RunState, responses=responses(*AUTH_ERRORS, 404))
def run_state(run_id: str, runs: RunsDep) -> RunState:
    """One run: queued, running (done/total cases) or done with its headline numbers, or failed."""
    found = runs.get(run_id)
    if found is None:
        raise ApiError(404, "run_not_found", "没有这次测试。")
    return found


@router.get(
    "/runs/{run_id}/report",
    response_class=HTMLResponse,
    responses=_json_errors(*AUTH_ERRORS, 404, 409),
)
def run_report(run_id: str, runs: RunsDep) -> HTMLResponse:
    """The run's report for officials: a self-contained HTML page in Chinese."""
    found = runs.get(run_id)
    if found is None:
        raise ApiError(404, "run_not_found", "没有这次测试。")
    if found.state != "done":
        raise ApiError(409, "run_not_finished", "这次测试还没有做完，做完以后才有报告。")
    try:
        return HTMLResponse(runs.report(run_id).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ApiError(404, "report_not_found", "这次测试的报告找不到了，请重新运行。") from exc


page_router = APIRouter(tags=["page"])


@page_router.get("/admin", response_class=FileResponse, include_in_schema=False)
def admin_page() -> FileResponse:
    """The officials' page; it asks for the admin token itself, so the page is not secret."""
    return FileResponse(STATIC / "admin" / "index.html", media_type="text/html")
