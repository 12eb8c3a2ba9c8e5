"""Knowledge administration for officials: upload, list, delete and re-index documents.

Mounted only when an admin token is configured. Uploads are stored in the data home's `documents/`
folder and ingested by a background job whose progress is polled; a file that cannot be read is
skipped and reported in the job, and the index stays as it was for everything else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, admin, ready
from api.errors import ApiError, responses
from api.schemas import DocumentInfo, JobState, Removed
from api.services import Services
from assistant.expiry import is_expired
from evals.results import Problem, RunResult, load_run
from knowledge.base import IngestInProgress
from knowledge.catalog import DocumentRecord, Filters, MetadataOverride
from knowledge.ingest import pending_by_source
from knowledge.loaders import is_supported

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(admin)])
AUTH_ERRORS = (401, 403)
_FOLDER = re.compile(r"^[\w\u4e00-\u9fff-]{1,40}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def documents_dir(svc: Services) -> Path:
    return svc.uploads.folder


def _safe_name(filename: str | None) -> str:
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    if not name or name.startswith(".") or len(name) > 120 or _CONTROL.search(name):
        raise ApiError(422, "bad_filename", "文件名不合适（不能有特殊字符，不超过120个字），请改名后再上传。")
    return name


def _file_size(root: str, source: str) -> int:
    try:
        return (Path(root) / source).stat().st_size
    except OSError:
        return 0


class DocumentState(DocumentInfo):
    pending: int = Field(
        default=0,
        description="Chunks still without a vector: the document already answers by its words, and its"
        " vectors are being completed (or will be, by the next re-index).",
    )


class KnowledgeState(BaseModel):
    documents: int
    chunks: int
    vectors: int
    pending: int = Field(description="Chunks still without a vector (they answer by their words).")
    completing: bool = Field(description="A running job is adding the missing vectors now.")
    embedder: str
    collection: str


def _document_info(
    record: DocumentRecord, override: MetadataOverride | None, busy: bool, pending: int = 0
) -> DocumentState:
    return DocumentState(
        source=record.source,
        title=record.title,
        kind=record.kind,
        region=record.region,
        chars=record.chars,
        chunks=record.chunks,
        root=record.root,
        status="ingesting" if busy else "indexed",
        valid_from=record.valid_from,
        valid_to=record.valid_to,
        expired=is_expired(record.valid_to),
        ingested_at=record.ingested_at,
        bytes=_file_size(record.root, record.source),
        overrides=override.fields() if override else {},
        pending=pending,
    )


# A job at this stage has committed its documents (searchable first) and is adding their vectors.
_COMPLETING = "complete"


def _busy_sources(svc: Services) -> set[str]:
    """Documents a queued or running job is reading: its uploaded files, or the one it re-reads. A job
    that is only completing vectors reads nothing any more: its documents already answer."""
    return {
        f
        for job in svc.jobs.store.recent()
        if job.state in ("queued", "running") and job.stage != _COMPLETING
        for f in job.files
    }


@router.get("/documents", response_model=list[DocumentState], responses=responses(*AUTH_ERRORS))
def list_documents(svc: ServicesDep) -> list[DocumentInfo]:
    """The documents in the knowledge base (with their validity, size, when indexed, any metadata an
    official corrected, and how many of their chunks still wait for a vector), then uploads still being
    read, then the files it refused (with the reason) so an official can fix and upload them again, or
    delete them."""
    kb = svc.assistant.kb
    busy = _busy_sources(svc)
    overrides = kb.catalog.overrides()
    records = kb.documents()
    pending = pending_by_source(kb)
    indexed = [
        _document_info(d, overrides.get(d.source), d.source in busy, pending.get(d.source, 0))
        for d in records
    ]
    refused_records = kb.rejected_documents()
    known = {d.source for d in records} | {d.source for d in refused_records}
    uploads = documents_dir(svc)
    arriving = [
        DocumentInfo(
            source=source,
            title=PurePosixPath(source).name,
            kind="",
            region="",
            chars=0,
            chunks=0,
            root=str(uploads),
            status="ingesting",
            bytes=_file_size(str(uploads), source),
        )
        for source in sorted(busy - known)
    ]
    refused = [
        DocumentInfo(
            source=d.source,
            title=PurePosixPath(d.source).name,
            kind="",
            region="",
            chars=0,
            chunks=0,
            root=d.root,
            status="ingesting" if d.source in busy else "refused",
            reason=d.message,
            ingested_at=d.rejected_at,
            bytes=_file_size(d.root, d.source),
        )
        for d in refused_records
    ]
    return indexed + arriving + refused


@router.get("/stats", response_model=KnowledgeState, responses=responses(*AUTH_ERRORS))
def knowledge_stats(svc: ServicesDep) -> KnowledgeState:
    """Counts of the knowledge base, with the chunks still waiting for a vector and whether a job is
    adding them now (`pending` > 0 and not `completing`: a re-index completes them)."""
    kb = svc.assistant.kb
    stats = kb.stats()
    completing = any(job.state == "running" and job.stage == _COMPLETING for job in svc.jobs.store.recent())
    return KnowledgeState(
        documents=stats.documents,
        chunks=stats.chunks,
        vectors=stats.vectors,
        pending=sum(pending_by_source(kb).values()),
        completing=completing,
        embedder=stats.embedder,
        collection=stats.collection,
    )


@router.post(
    "/documents",
    response_model=JobState,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*AUTH_ERRORS, 413, 415, 422),
)
async def upload_documents(
    svc: ServicesDep,
    files: Annotated[list[UploadFile], File(description="PDF, Word (.docx), HTML, Markdown or text files.")],
    folder: Annotated[
        str | None, Form(description="Sub-folder, which also sets the kind: policy, handbook, cases ...")
    ] = None,
) -> JobState:
    """Add or replace documents; they are ingested in the background (poll the returned job)."""
    # The token and the request's total size were checked before the body was read (api/limits.py).
    limit = svc.settings.max_upload_bytes
    if len(files) > svc.settings.max_upload_files:
        raise ApiError(
            413, "too_many_files", f"一次最多上传{svc.settings.max_upload_files}个文件，请分几次上传。"
        )
    if folder is not None and not _FOLDER.match(folder):
        raise ApiError(422, "bad_folder", "文件夹名称只能用汉字、字母、数字和横线。")
    target = documents_dir(svc) / (folder or "")
    staged: list[tuple[Path, bytes]] = []
    for upload in files:
        name = _safe_name(upload.filename)
        if not is_supported(Path(name)):
            raise ApiError(
                415, "unsupported_document", f"不支持这种文件：{name}（可以上传PDF、Word、网页、文本）。"
            )
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ApiError(413, "upload_too_large", f"文件太大了：{name}（不能超过{limit // 1_000_000}MB）。")
        staged.append((target / name, data))
    names = [str(path.relative_to(documents_dir(svc))) for path, _ in staged]
    # Off the event loop: with several hosts each file is written to PostgreSQL too.
    for name, (_, data) in zip(names, staged, strict=True):
        await run_in_threadpool(svc.uploads.put, name, data)
    log.info("admin uploaded %d documents: %s", len(names), names)
    # Uploads other hosts received are copied in first: the job reads (and prunes) the whole folder.
    await run_in_threadpool(svc.uploads.sync)
    job_id = svc.jobs.submit("upload", [documents_dir(svc)], names)
    job = svc.jobs.store.get(job_id)
    assert job is not None
    return job


@router.delete(
    "/documents/{source:path}", response_model=Removed, responses=responses(*AUTH_ERRORS, 404, 409)
)
def delete_document(source: str, svc: ServicesDep) -> Removed:
    """Remove a document from the knowledge base, or one that was refused (its reason is forgotten), and
    its uploaded file, so a re-index keeps it out."""
    record = next((d for d in svc.assistant.kb.documents() if d.source == source), None)
    refused = next((d for d in svc.assistant.kb.rejected_documents() if d.source == source), None)
    if record is None and refused is None:
        raise ApiError(404, "document_not_found", "知识库里没有这个文件。")
    removed: list[str] = []
    try:
        if record is not None:
            removed = svc.writer_kb.remove([source])
        if refused is not None and svc.writer_kb.forget_rejected(source):
            removed = sorted({*removed, source})
    except IngestInProgress as exc:
        raise ApiError(409, "index_busy", "知识库正在更新，请稍后再删除。") from exc
    # A document deleted and uploaded again starts from its file's own metadata.
    svc.assistant.kb.catalog.clear_override(source)
    uploaded = documents_dir(svc).resolve()
    root = record.root if record is not None else refused.root if refused is not None else ""
    file = (Path(root) / source).resolve()
    if file.is_relative_to(uploaded):
        svc.uploads.delete(str(file.relative_to(uploaded)))
    elif svc.settings.database_url and root:
        # Received by another host (its own documents folder): the shared copy goes, and every host's
        # copy with it at its next ingest.
        svc.uploads.delete(source)
    log.info("admin removed %s", source)
    return Removed(removed=removed)


@router.post(
    "/reindex",
    response_model=JobState,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*AUTH_ERRORS),
)
def reindex(svc: ServicesDep) -> JobState:
    """Read every document folder again: changed files are re-indexed, deleted files removed."""
    job = svc.jobs.store.get(svc.reindex())
    assert job is not None
    return job


@router.get("/jobs", response_model=list[JobState], responses=responses(*AUTH_ERRORS))
def jobs(svc: ServicesDep) -> list[JobState]:
    """Recent ingest jobs, newest first."""
    return svc.jobs.store.recent()


@router.delete(
    "/jobs/{job_id}",
    response_model=JobState,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*AUTH_ERRORS, 404, 409),
)
def cancel_job(job_id: str, svc: ServicesDep) -> JobState:
    """Cancel a queued or running ingest job: it stops within about a second (also in the middle of
    reading a file) and nothing of it is committed, so the knowledge base stays as it was. Poll the job
    until its state is `cancelled`. A job already at stage `complete` has committed its documents
    (searchable first): cancelling it stops only the adding of their vectors; it ends `done`, the
    documents answer by their words, and the next re-index completes their vectors."""
    found = svc.jobs.store.get(job_id)
    if found is None:
        raise ApiError(404, "job_not_found", "没有这个任务。")
    if found.state not in ("queued", "running"):
        raise ApiError(409, "job_finished", "这个任务已经结束了，不需要取消。")
    cancelled = svc.jobs.store.request_cancel(job_id)
    assert cancelled is not None
    log.info("admin cancelled ingest job %s", job_id)
    return cancelled


@router.get("/jobs/{job_id}", response_model=JobState, responses=responses(*AUTH_ERRORS, 404))
def job(job_id: str, svc: ServicesDep) -> JobState:
    """One ingest job: queued, running (stage, done/total) or done/failed with what was added or skipped."""
    found = svc.jobs.store.get(job_id)
    if found is None:
        raise ApiError(404, "job_not_found", "没有这个任务。")
    return found


# What the assistant reads, and officials' corrections of a document's metadata (issue 19)

Kind = Literal["policy", "handbook", "case", "other"]
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"


def _iso_day(value: str | None) -> str | None:
    """YYYY-MM-DD (a real day), or "" for no date; a plain string so errors name the field alone."""
    if value:
        try:
            value = dt.date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValueError("not a date") from exc
    return value


Day = Annotated[
    str | None, Field(max_length=10, description="YYYY-MM-DD, or empty."), AfterValidator(_iso_day)
]


class ChunkView(BaseModel):
    ordinal: int = Field(description="Position in the document, from 0.")
    id: str
    section: str = Field(description="Where it sits: `第二章 补贴对象和标准 > 第三条`.")
    text: str = Field(description="The text exactly as retrieval returns it; a table row is one line.")
    chars: int


class DocumentChunks(BaseModel):
    document: DocumentInfo
    chunks: list[ChunkView] = Field(description="Every chunk of the document, in order.")


class MetadataChange(BaseModel):
    """An official's correction of a document's metadata. It replaces any earlier correction: a field
    left out (or null) takes the file's own value again; an empty region makes the document national, an
    empty date removes it. `{}` returns the document to its file's metadata."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=_NO_CONTROL)
    kind: Kind | None = None
    region: str | None = Field(default=None, max_length=60, pattern=_NO_CONTROL)
    valid_from: Day = None
    valid_to: Day = None

    def override(self, source: str) -> MetadataOverride:
        title = self.title.strip() if self.title is not None else None
        region = self.region.strip() if self.region is not None else None
        return MetadataOverride(source, title or None, self.kind, region, self.valid_from, self.valid_to)


class SearchRequest(BaseModel):
    """A question searched as the assistant searches it, optionally only in one region's documents
    (and national ones) or one kind."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=200, pattern=r"\S")
    region: str | None = Field(default=None, max_length=60, pattern=_NO_CONTROL)
    kind: Kind | None = None
    k: int = Field(default=5, ge=1, le=10, description="How many passages to return.")


class SearchResultHit(BaseModel):
    rank: int
    source: str
    title: str
    section: str
    text: str
    score: float
    region: str
    valid_to: str
    expired: bool


class FailedCase(BaseModel):
    """A case an evaluation run failed, with what to fix and the documents it expected."""

    id: str
    question: str
    problem: Problem | None
    answer: str
    expected_sources: list[str] = Field(description="Documents the case should be answered from.")
    missing_sources: list[str] = Field(description="Of those, the ones not in the knowledge base now.")
    unknown_terms: list[str] = Field(description="Words of the question no document mentions.")


def _record(svc: Services, source: str) -> DocumentRecord:
    record = svc.assistant.kb.catalog.document(source)
    if record is None:
        raise ApiError(404, "document_not_found", "知识库里没有这个文件。")
    return record


def _job(svc: Services, job_id: str) -> JobState:
    job = svc.jobs.store.get(job_id)
    assert job is not None
    return job


@router.get(
    "/documents/{source:path}/chunks",
    response_model=DocumentChunks,
    responses=responses(*AUTH_ERRORS, 404),
)
def document_chunks(source: str, svc: ServicesDep) -> DocumentChunks:
    """What the assistant reads of a document: its chunks in order with their section paths, exactly as
    retrieval returns them (tables as one line per row). A scanned PDF with no text has no chunks."""
    catalog = svc.assistant.kb.catalog
    record = _record(svc, source)
    chunks = [
        ChunkView(ordinal=c.ordinal, id=c.id, section=c.section, text=c.text, chars=len(c.text))
        for c in catalog.chunks_of(source)
    ]
    info = _document_info(record, catalog.override(source), source in _busy_sources(svc))
    return DocumentChunks(document=info, chunks=chunks)


@router.put(
    "/documents/{source:path}/metadata",
    response_model=JobState,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*AUTH_ERRORS, 404, 409, 422),
)
def correct_metadata(source: str, change: MetadataChange, svc: ServicesDep) -> JobState:
    """Correct a document's title, kind, region or validity without editing its file. The correction is
    stored apart from the file and applied at every later ingest of it; the document is re-indexed in
    the background (poll the returned job), and until that job is done the old metadata answers."""
    record = _record(svc, source)
    override = change.override(source)
    valid_from = override.valid_from if override.valid_from is not None else record.valid_from
    valid_to = override.valid_to if override.valid_to is not None else record.valid_to
    if valid_from and valid_to and valid_from > valid_to:
        raise ApiError(422, "bad_validity", "生效日期不能晚于截止日期，请改一下再保存。")
    root = Path(record.root)
    if not (root / source).is_file():
        raise ApiError(409, "file_missing", "服务器上找不到这个文件了，无法修改。请重新上传后再改。")
    svc.assistant.kb.catalog.set_override(override)
    log.info("admin corrected the metadata of %s: %s", source, override.fields())
    return _job(svc, svc.jobs.submit("metadata", [root], [source]))


@router.post(
    "/documents/{source:path}/reindex",
    response_model=JobState,
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*AUTH_ERRORS, 404, 409),
)
def reindex_document(source: str, svc: ServicesDep) -> JobState:
    """Read one document again, even unchanged (a refused one too: its reason is forgotten first)."""
    kb = svc.assistant.kb
    record = kb.catalog.document(source)
    refused = next((d for d in kb.rejected_documents() if d.source == source), None)
    if record is None and refused is None:
        raise ApiError(404, "document_not_found", "知识库里没有这个文件。")
    root = Path(record.root if record is not None else refused.root if refused is not None else "")
    if not (root / source).is_file():
        raise ApiError(409, "file_missing", "服务器上找不到这个文件了，请重新上传。")
    return _job(svc, svc.jobs.submit("reindex", [root], [source], force=[source]))


@router.post(
    "/search",
    response_model=list[SearchResultHit],
    responses=responses(*AUTH_ERRORS, 422, 503),
    dependencies=[Depends(ready)],
)
def search(body: SearchRequest, svc: ServicesDep) -> list[SearchResultHit]:
    """The passages retrieval finds for a question, as the assistant reads them, optionally only in one
    region's documents (and national ones) or one kind. With `XIANGYIN_EXPIRED_DOCUMENTS=exclude`
    expired documents are left out, as the assistant leaves them out."""
    filters = Filters(kind=body.kind, region=(body.region or "").strip() or None)
    exclude = svc.settings.expired_documents == "exclude"
    with svc.answering_lock:  # the embedder answers one request at a time
        hits = svc.assistant.kb.search(body.question, k=body.k + 10 if exclude else body.k, filters=filters)
    if exclude:
        hits = [h for h in hits if not is_expired(h.chunk.valid_to)]
    return [
        SearchResultHit(
            rank=rank,
            source=h.chunk.source,
            title=h.chunk.title,
            section=h.chunk.section,
            text=h.chunk.text,
            score=round(h.score, 4),
            region=h.chunk.region,
            valid_to=h.chunk.valid_to,
            expired=is_expired(h.chunk.valid_to),
        )
        for rank, h in enumerate(hits[: body.k], start=1)
    ]


@router.get(
    "/evals/runs/{run_id}/failures",
    response_model=list[FailedCase],
    responses=responses(*AUTH_ERRORS, 404),
)
def run_failures(run_id: str, request: Request, svc: ServicesDep) -> list[FailedCase]:
    """The cases a finished evaluation run failed, with why (missing document, retrieval miss ...) and
    the documents each expected, marked when they are not in the knowledge base now, so the page can
    link them to the document list and to an upload."""
    runs = request.app.state.eval_runs
    state = runs.get(run_id)
    if state is None or state.state != "done":
        raise ApiError(404, "run_not_found", "没有这次测试，或者它还没有做完。")
    try:
        run = load_run(runs.report(run_id).with_name("result.json"))
    except (OSError, ValueError) as exc:
        raise ApiError(404, "run_not_found", "这次测试的结果找不到了。") from exc
    if not isinstance(run, RunResult):
        raise ApiError(404, "run_not_found", "这次测试的结果找不到了。")
    present = {d.source for d in svc.assistant.kb.documents()}
    return [
        FailedCase(
            id=r.case.id,
            question=r.case.question or r.asked,
            problem=r.problem,
            answer=r.answer,
            expected_sources=list(r.case.sources),
            missing_sources=[s for s in r.case.sources if s not in present],
            unknown_terms=r.unknown_terms,
        )
        for r in run.results
        if not r.passed
    ]
