"""The FastAPI application: `create_app(settings)` for tests and embedding, `from_environment` for workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import admin, chat, evaluation, health, openai_compat, page, speech, speech_stream
from api.config import ApiSettings
from api.errors import install_error_handlers
from api.limits import RequestLimits
from api.services import Services
from api.wechat import wechat_routers

log = logging.getLogger(__name__)

DESCRIPTION = """乡音 (Xiangyin): answers villagers' questions from the documents a village or county loaded,
with the sources named, by text or by voice. Errors are JSON `{"error": {"code", "message"}}` with a
Chinese message for the user."""


def create_app(settings: ApiSettings, services: Services | None = None) -> FastAPI:
    svc = services or Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        (settings.home / "documents").mkdir(parents=True, exist_ok=True)
        svc.load_in_background()
        try:
            yield
        finally:
            svc.close()

    app = FastAPI(title="Xiangyin 乡音", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.services = svc
    install_error_handlers(app)
    app.add_middleware(RequestLimits, settings=settings)
    # After RequestLimits: /v1's key check and error dialect must wrap the body cap (see the module).
    openai_compat.install(app, settings)
    app.include_router(health.router)
    app.include_router(page.router)
    app.include_router(chat.router)
    app.include_router(speech.router)
    app.include_router(speech_stream.router)
    if settings.admin_token is not None:
        app.include_router(admin.router)
        app.include_router(evaluation.router)
        app.include_router(evaluation.page_router)
    else:
        log.info("no admin token configured: knowledge administration routes are off")
    # WeChat authenticates its callbacks by signature; the routes exist only for configured channels.
    for router in wechat_routers(settings, svc, svc):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=page.STATIC), name="static")
    return app


def from_environment() -> FastAPI:
    """The app factory uvicorn workers call (`XIANGYIN_*` variables carry the settings to them)."""
    return create_app(ApiSettings())
