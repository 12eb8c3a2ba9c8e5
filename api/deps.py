"""FastAPI dependencies: the process's services, rate limits and the admin token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import ApiSettings
from api.errors import ApiError
from api.services import Services

_bearer = HTTPBearer(auto_error=False, description="The admin token from XIANGYIN_ADMIN_TOKEN.")


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def rate_limited(request: Request, svc: ServicesDep) -> None:
    svc.limiter.check(request)


def ready(svc: ServicesDep) -> None:
    if not svc.ready:
        raise ApiError(503, "not_ready", "服务还在准备中，请稍后再试。", headers={"Retry-After": "5"})


def check_admin_token(settings: ApiSettings, authorization: str | None) -> None:
    """Raises 401 without a bearer token, 403 with a wrong one (or while administration is off)."""
    token = settings.admin_token
    if token is None:  # the routes are not mounted then; kept as a second lock
        raise ApiError(403, "forbidden", "管理功能没有开启。")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", "需要管理员口令。", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise ApiError(403, "forbidden", "管理员口令不对。")


def admin(
    svc: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """The same check as `api.limits` makes before a body is read; here it also documents the scheme."""
    given = None if credentials is None else f"{credentials.scheme} {credentials.credentials}"
    check_admin_token(svc.settings, given)
