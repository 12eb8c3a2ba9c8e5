"""The officials' page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.page import STATIC

page_router = APIRouter(tags=["page"])


@page_router.get("/admin", response_class=FileResponse, include_in_schema=False)
def admin_page() -> FileResponse:
    """The officials' page; it asks for the admin token itself, so the page is not secret."""
    return FileResponse(STATIC / "admin" / "index.html", media_type="text/html")
