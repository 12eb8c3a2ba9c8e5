"""FastAPI dependencies: the process's services, rate limits and the admin token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def admin(
    svc: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    token = svc.settings.admin_token
    if token is None:  # the routes are not mounted then; kept as a second lock
        raise ApiError(403, "forbidden", "管理功能没有开启。")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "需要管理员口令。", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), token.get_secret_value().encode()):
        raise ApiError(403, "forbidden", "管理员口令不对。")
