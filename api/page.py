"""The digital-human page and the configuration it reads. Every asset is served from the package."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import ServicesDep
from api.schemas import AvatarLook, PageConfig

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(tags=["page"])


@router.get("/", response_class=FileResponse, include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/api/v1/config", response_model=PageConfig)
def config(svc: ServicesDep) -> PageConfig:
    """What the page shows: the assistant's name and look, suggested questions, limits."""
    s = svc.settings
    return PageConfig(
        assistant_name=s.assistant_name,
        avatar=AvatarLook(style=s.avatar_style, outfit=s.avatar_outfit),
        suggestions=s.suggestions,
        handoff=s.handoff,
        max_audio_seconds=s.max_audio_seconds,
        max_question_chars=s.max_question_chars,
        voice=svc.asr_state != "failed",
    )
