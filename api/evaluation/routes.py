"""The evaluation routes, `/api/v1/admin/evals`: try a question, keep and list cases, run them, read the
report."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep, admin, ready
from api.errors import ApiError, responses
from api.evaluation.cases import CaseBook
from api.evaluation.runs import EvalRuns
from api.evaluation.schemas import CaseDraft, Deleted, NewCase, RunState, TryResult
from api.evaluation.target import LiveTarget, ranked
from api.services import Services
from evals.cases import Case
from evals.runner import Runner, Trial

log = logging.getLogger(__name__)
AUTH_ERRORS = (401, 403)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: Services = app.state.services
    runs = EvalRuns(svc.jobs.store, svc.settings.home / "evals" / "runs")
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
        ranking=ranked(result),
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
