"""One error shape for every route: `{"error": {"code": ..., "message": <Chinese, for the villager>}}`.

The message is for people; the code is for programs. Operators get an English log line instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.replies import reply
from ground.postgres import DatabaseUnavailable

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


DATABASE_DOWN = "系统的数据库暂时连不上，请过一会儿再试。"


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


# Field names as a villager or an official reads them; the English name follows for integrators.
_FIELD_NAMES = {
    "message": "问题",
    "session_id": "会话编号",
    "speak": "是否朗读",
    "text": "要朗读的文字",
    "rate": "语速",
    "format": "音频格式",
    "audio": "语音文件",
    "files": "文件",
    "folder": "文件夹",
    "question": "问题",
    "title": "标题",
    "kind": "类别",
    "region": "地区",
    "valid_from": "生效日期",
    "valid_to": "截止日期",
    "k": "段落数",
}
_LOCATIONS = frozenset({"body", "query", "path", "form", "header"})


def _field(error: Mapping[str, Any]) -> str:
    parts = [str(part) for part in error.get("loc", ()) if part not in _LOCATIONS]
    if not parts:
        return ""
    name = parts[0] if len(parts) == 1 else ".".join(parts)
    label = _FIELD_NAMES.get(parts[-1])
    return f"{label}（{name}）" if label else name


def _describe(error: Mapping[str, Any], max_question_chars: int) -> str:
    """One validation error as a sentence that says what to do."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    field = _field(error)
    if kind == "json_invalid":
        return "请求的内容不是正确的JSON格式，请检查后再发送。"
    if kind == "model_attributes_type" or (kind.endswith("_type") and not field):
        return "请求的内容格式不对，应该是一个JSON对象，请检查后再发送。"
    if field.endswith("（message）") and kind == "string_too_long":
        return reply("too_long", "", "", max_question_chars)
    if field.endswith("（message）") and kind in ("string_too_short", "missing"):
        return reply("empty", "", "")
    if kind == "missing":
        return f"缺少{field}，请补上后再发送。"
    if kind == "string_too_short":
        return f"{field}不能是空的，请填写后再发送。"
    if kind == "string_too_long":
        return f"{field}太长了，不能超过{context.get('max_length', '')}个字，请改短后再发送。"
    if kind == "string_pattern_mismatch":
        return f"{field}里有不允许的字符，只能用字母、数字和 _ . : - 。"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{field}超出了允许的范围，请改一下再发送。"
    if kind == "literal_error":
        return f"{field}只能是这些值之一：{context.get('expected', '')}。"
    if field:
        return f"{field}不符合要求，请检查后再发送。"
    return "请求的内容不符合要求，请检查后再发送。"


def _validation_message(exc: RequestValidationError, max_question_chars: int) -> str:
    sentences = dict.fromkeys(_describe(error, max_question_chars) for error in exc.errors())
    return "".join(list(sentences)[:3])


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
        services = getattr(request.app.state, "services", None)
        limit = services.settings.max_question_chars if services is not None else 200
        return error_response(422, "invalid_request", _validation_message(exc, limit))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _STATUS_MESSAGES.get(exc.status_code, ("error", "请求没有成功，请稍后再试。"))
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(DatabaseUnavailable)
    async def _database_down(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        # Several hosts share PostgreSQL: while it is down or restarting, nothing can be answered or
        # stored, and a retry shortly after is the right advice (the pool reconnects by itself).
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return error_response(503, "database_unavailable", DATABASE_DOWN, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "系统出了点问题，请稍后再试。")
