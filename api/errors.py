"""One error shape for every route: `{"error": {"code": ..., "message": <Chinese, for the villager>}}`.

The message is for people; the code is for programs. Operators get an English log line instead.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `rate_limited`.")
    message: str = Field(description="What went wrong, in Chinese, for the user.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


_STATUS_MESSAGES = {
    400: ("bad_request", "请求有误，请检查后再试。"),
    401: ("unauthorized", "需要管理员口令。"),
    403: ("forbidden", "没有权限进行这个操作。"),
    404: ("not_found", "没有找到这个地址或内容。"),
    405: ("method_not_allowed", "不支持这种请求方式。"),
    409: ("conflict", "操作冲突，请稍后再试。"),
    413: ("too_large", "上传的内容太大了。"),
    415: ("unsupported_media_type", "不支持这种文件格式。"),
    422: ("invalid_request", "请求的内容不符合要求。"),
    429: ("rate_limited", "提问太频繁了，请稍等一会儿再问。"),
    503: ("not_ready", "服务还在准备中，请稍后再试。"),
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error shape for the given statuses."""
    return {
        status: {"model": ErrorBody, "description": _STATUS_MESSAGES.get(status, ("", "错误"))[1]}
        for status in statuses
    }


_LOCATIONS = ("body", "query", "path", "form", "header")


def _validation_message(exc: RequestValidationError) -> str:
    fields = []
    for error in exc.errors():
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "form")
        ]
        if location:
            fields.append(".".join(location))
    if fields:
        return f"请求的内容不符合要求（{'、'.join(dict.fromkeys(fields))}）。"
    return "请求的内容不符合要求。"


def document_errors(app: FastAPI) -> None:
    """FastAPI documents its own 422 body for every route with parameters; ours is `ErrorBody`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        ref = "#/components/schemas/ErrorBody"
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                invalid = operation.get("responses", {}).get("422")
                if invalid is not None:
                    invalid["content"] = {"application/json": {"schema": {"$ref": ref}}}
                    invalid["description"] = _STATUS_MESSAGES[422][1]
        # ErrorBody is there already: the routes' documented errors reference it.
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    document_errors(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        log.info("%s %s -> %d %s", request.method, request.url.path, exc.status, exc.code)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        log.info("%s %s -> 422 invalid request: %s", request.method, request.url.path, exc.errors()[:3])
        return error_response(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _STATUS_MESSAGES.get(exc.status_code, ("error", "请求没有成功，请稍后再试。"))
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "系统出了点问题，请稍后再试。")
