"""Liveness and readiness for load balancers and the operator."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Still loading, or the index could not be opened."}},
)
def readyz(svc: ServicesDep) -> JSONResponse:
    """Ready to answer: index and embedder loaded; also which speech engine speaks now."""
    s = svc.settings
    catalog = svc.assistant.kb.catalog
    body = Readiness(
        ready=svc.ready,
        documents=len(catalog.documents()),
        chunks=catalog.chunk_count(),
        embedder=s.embedder,
        speech_recognition=svc.asr_state,
        tts_engine=svc.tts_engine,
        tts_engines=s.tts_engines,
        workers_share=s.chroma_url or str(s.index_dir),
    )
    return JSONResponse(body.model_dump(), status_code=200 if svc.ready else 503)
