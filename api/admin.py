"""Knowledge administration for officials: upload, list, delete and re-index documents.

Mounted only when an admin token is configured. Uploads are stored in the data home's `documents/`
folder and ingested by a background job whose progress is polled; a file that cannot be read is
skipped and reported in the job, and the index stays as it was for everything else.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from api.deps import ServicesDep, admin
from api.errors import ApiError, responses
from api.schemas import DocumentInfo, JobState, Removed
from api.services import Services
from knowledge.base import IngestInProgress
from knowledge.loaders import is_supported

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(admin)])
AUTH_ERRORS = (401, 403)
_FOLDER = re.compile(r"^[\w\u4e00-\u9fff-]{1,40}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def documents_dir(svc: Services) -> Path:
    return svc.settings.home / "documents"


def _safe_name(filename: str | None) -> str:
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    if not name or name.startswith(".") or len(name) > 120 or _CONTROL.search(name):
        raise ApiError(422, "bad_filename", "文件名不合适（不能有特殊字符，不超过120个字），请改名后再上传。")
    return name


@router.get("/documents", response_model=list[DocumentInfo], responses=responses(*AUTH_ERRORS))
def list_documents(svc: ServicesDep) -> list[DocumentInfo]:
    """The documents in the knowledge base, then the files it refused (with the reason) so an official
    can fix and upload them again, or delete them."""
    kb = svc.assistant.kb
    indexed = [
        DocumentInfo(
            source=d.source,
            title=d.title,
            kind=d.kind,
            region=d.region,
            chars=d.chars,
            chunks=d.chunks,
            root=d.root,
        )
        for d in kb.documents()
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
            status="refused",
            reason=d.message,
        )
        for d in kb.rejected_documents()
    ]
    return indexed + refused


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
    target.mkdir(parents=True, exist_ok=True)
    for path, data in staged:
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        partial.replace(path)
    names = [str(path.relative_to(documents_dir(svc))) for path, _ in staged]
    log.info("admin uploaded %d documents: %s", len(names), names)
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
    uploaded = documents_dir(svc).resolve()
    root = record.root if record is not None else refused.root if refused is not None else ""
    file = (Path(root) / source).resolve()
    if file.is_relative_to(uploaded) and file.is_file():
        file.unlink()
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
    roots = {Path(d.root) for d in svc.assistant.kb.documents()} | {documents_dir(svc)}
    existing = sorted(root for root in roots if root.is_dir())
    job = svc.jobs.store.get(svc.jobs.submit("reindex", existing))
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
    until its state is `cancelled`."""
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
