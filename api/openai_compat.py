"""An OpenAI-compatible chat endpoint, so front ends that speak the chat-completions protocol (chatgpt-on-
wechat, Open WebUI, LobeChat, Dify, FastGPT ...) can use Xiangyin as their "model".

`POST /v1/chat/completions` answers the last user message with the assistant; the earlier messages are
the conversation (follow-ups work with no session id: OpenAI clients resend the whole conversation every
time, so nothing is remembered here). `GET /v1/models` lists the one model of this deployment. Citations
ride along where clients ignore them safely: a `citations` field on the completion and on the last
stream chunk, and (by default) a short source list at the end of the text for front ends that only
show text.

Everything under /v1 speaks OpenAI's dialect, whichever layer answers: the API key is checked before the
body is read, and every error (the body cap's 413, the rate limiter's 429, a validation error, an
unknown path) leaves as `{"error": {"message", "type", "param", "code"}}` with the message in Chinese.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_serializer
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import ApiSettings
from api.deps import ServicesDep, rate_limited, ready
from api.services import Services
from assistant.answer import Answer, Citation
from assistant.intents import classify
from assistant.sessions import Turn

log = logging.getLogger(__name__)

PREFIX = "/v1"
_STARTED = int(time.time())
_SEP = "\n"
SOURCES_HEADING = "\n\n来源："
"""Starts the source list appended to answers; also how it is recognised (and dropped) when a client
sends the answer back as history."""

# Request


class ContentPart(BaseModel):
    """One part of a message's content; only `text` parts can be read (images, audio, files are refused)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(max_length=64)
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = Field(default=None, max_length=256)
    tool_calls: list[dict[str, Any]] | None = None
    function_call: dict[str, Any] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's request. Options that change only how a language model samples are accepted and
    ignored (answers are taken from the documents); options whose result a client relies on are refused
    with a 400 (tools, images, several choices, a JSON response format)."""

    # Fields OpenAI adds later must not break a client that sends them: unknown fields are ignored.
    model_config = ConfigDict(extra="allow")
    model: str | None = Field(default=None, max_length=256, description="Any name; this deployment answers.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, description="Only 1.")
    tools: list[Any] | None = Field(default=None, description="Refused: the assistant calls no tools.")
    functions: list[Any] | None = Field(default=None, description="Refused, as `tools`.")
    tool_choice: Any = None
    function_call: Any = None
    response_format: dict[str, Any] | None = Field(default=None, description="Only `{'type': 'text'}`.")
    modalities: list[str] | None = Field(default=None, description="Only `text`.")
    # Accepted and ignored (listed for the documentation; other unknown fields are ignored too).
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None


# Response


class Usage(BaseModel):
    """Counted in characters: the answer is not generated token by token, and a Chinese character is
    about one token for most models, which is what front ends use these numbers for."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None
    """OpenAI's field for safety refusals; a question the documents do not cover is ordinary content."""


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: None = None
    citations: list[Citation] = Field(
        default_factory=list, description="Xiangyin's addition: the passages the [n] marks point at."
    )


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer
    def _present(self) -> dict[str, str]:
        # OpenAI leaves out what a delta does not carry: the last chunk's delta is `{}`.
        pairs = (("role", self.role), ("content", self.content))
        return {key: value for key, value in pairs if value is not None}


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    system_fingerprint: None = None
    usage: Usage | None = Field(default=None, description="Only with stream_options.include_usage.")
    citations: list[Citation] | None = Field(default=None, description="On the chunk that ends the answer.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "xiangyin"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorDetail(BaseModel):
    message: str = Field(description="What went wrong, in Chinese.")
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    error: OpenAIErrorDetail


# Errors

_TYPES = {
    401: "invalid_request_error",
    403: "permission_error",
    429: "rate_limit_error",
}
_MESSAGES = {
    400: "请求有误，请检查后再试。",
    404: "没有这个地址。本服务只提供 /v1/chat/completions 和 /v1/models。",
    405: "不支持这种请求方式。",
    413: "请求的内容太多了，请把问题说短一点再试。",
    429: "提问太频繁了，请稍等一会儿再问。",
    503: "服务还在准备中，请稍后再试。",
}


def _error_type(status: int) -> str:
    return _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error(
    status: int,
    message: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    detail = OpenAIErrorDetail(message=message, type=_error_type(status), param=param, code=code)
    return JSONResponse(OpenAIErrorBody(error=detail).model_dump(), status_code=status, headers=headers)


class RequestRefused(Exception):
    """A request we will not answer (400), with the field at fault."""

    def __init__(self, message: str, param: str | None, code: str = "unsupported_parameter") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def _translated(status: int, body: bytes) -> tuple[int, bytes]:
    """An error produced outside this module (the body cap, the rate limiter, validation, routing) in
    the project's shape `{"error": {"code", "message"}}`, rewritten in OpenAI's. OpenAI answers invalid
    bodies with 400, where FastAPI says 422."""
    status = 400 if status == 422 else status
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    error = found.get("error") if isinstance(found, dict) else None
    if isinstance(error, dict) and "type" in error:
        return status, body  # already OpenAI's (this module's own errors)
    if isinstance(error, dict):
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    else:
        code, message = "", ""
    detail = OpenAIErrorDetail(
        message=message or _MESSAGES.get(status, "请求没有成功，请稍后再试。"),
        type=_error_type(status),
        code=code or None,
    )
    return status, OpenAIErrorBody(error=detail).model_dump_json().encode()


# The edge of /v1: API keys and the error dialect


def is_openai_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def integrator(settings: ApiSettings, authorization: str | None) -> str | None:
    """The name of the integrator whose key the request carries, or None. Every key is compared (in
    constant time), so the time taken says nothing about which key came close."""
    scheme, _, given = (authorization or "").partition(" ")
    token = given.strip().encode()
    found = None
    for name, key in settings.openai_compat_keys.items():
        if secrets.compare_digest(token, key.get_secret_value().encode()):
            found = name
    return found if scheme.lower() == "bearer" and token else None


class OpenAIEdge:
    """Pure ASGI in front of the body cap (`api.limits.RequestLimits`): a request without a valid key
    is answered 401 before a byte of its body is read, and errors from any layer inside leave in
    OpenAI's shape. Other paths pass untouched."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_openai_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        name = integrator(self.settings, headers.get("authorization"))
        if name is None:
            log.info("%s %s -> 401 (no valid API key)", scope["method"], scope["path"])
            response = openai_error(
                401,
                "API密钥不对或者没有提供。请在请求头里带上 Authorization: Bearer <密钥>，密钥向部署方索取。",
                "invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["integrator"] = name
        await self.app(scope, receive, _ErrorTranslator(send))


class _ErrorTranslator:
    """Holds an error response (small JSON) until its body is complete and rewrites it; anything else,
    a stream of chunks included, goes straight through."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] >= 400:
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        status, body = _translated(self.start["status"], b"".join(self.body))
        headers = [(k, v) for k, v in self.start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})
        self.start = None


# The conversation


def _text(message: ChatMessage, index: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for number, part in enumerate(message.content):
        if part.type != "text":
            raise RequestRefused(
                f"不支持“{part.type}”类型的内容：本助手只能读文字问题，不能看图片、听语音附件或读文件。",
                f"messages[{index}].content[{number}].type",
                "unsupported_content",
            )
        texts.append(part.text or "")
    return "".join(texts)


def refuse_what_we_cannot_honour(body: ChatCompletionRequest) -> None:
    """Options whose result the client relies on: pretending to honour them would mislead it."""
    if body.tools or body.functions:
        raise RequestRefused(
            "本助手不支持工具调用（tools/functions），它只根据知识库里的文件回答。请去掉 tools 参数再试。",
            "tools" if body.tools else "functions",
        )
    for name, choice in (("tool_choice", body.tool_choice), ("function_call", body.function_call)):
        if choice not in (None, "none", "auto"):
            raise RequestRefused("本助手不支持工具调用，请去掉这个参数再试。", name)
    if body.n not in (None, 1):
        raise RequestRefused("每次只能生成一个回答，n 只能是 1。", "n")
    if body.response_format and body.response_format.get("type") not in (None, "text"):
        raise RequestRefused(
            "本助手只回答文字，不支持 JSON 格式的输出（response_format）。", "response_format"
        )
    if body.modalities and set(body.modalities) - {"text"}:
        raise RequestRefused("本助手只回答文字，不支持语音输出（modalities）。", "modalities")
    for index, message in enumerate(body.messages):
        if message.role in ("tool", "function") or message.tool_calls or message.function_call:
            raise RequestRefused(
                "本助手不支持工具调用，对话里不能有工具消息（tool/function）。", f"messages[{index}]"
            )


def without_sources(text: str) -> str:
    """An earlier answer as the assistant gave it, without the source list this module appended."""
    head, heading, _ = text.rpartition(SOURCES_HEADING)
    return head if heading else text


def conversation(body: ChatCompletionRequest, settings: ApiSettings) -> tuple[str, list[Turn]]:
    """The question (the last message, which must be the user's) and the turns before it.

    System and developer messages are left out: answers come from the documents in the assistant's own
    words, whatever a front end's prompt asks. An earlier user message is kept as the topic of later
    follow-ups only when it was a question (not a greeting or thanks), as the assistant's own session
    memory keeps it (`assistant.pipeline`): `assistant.followup.rewrite` then builds on it."""
    last = len(body.messages) - 1
    if body.messages[last].role != "user":
        raise RequestRefused(
            "最后一条消息应该是用户的问题（role 为 user）。", f"messages[{last}].role", "invalid_value"
        )
    turns: list[Turn] = []
    for index, message in enumerate(body.messages[:last]):
        text = _text(message, index)
        if message.role == "user":
            classified = classify(text, settings.max_question_chars)
            standalone = classified.text if classified.intent == "question" else ""
            turns.append(Turn("user", classified.text, standalone))
        elif message.role == "assistant":
            turns.append(Turn("assistant", without_sources(text)))
    return _text(body.messages[last], last), turns[-settings.session_max_turns :]


def source_list(citations: Sequence[Citation]) -> str:
    """`来源：` and one line per cited passage: `[1]《title》section`."""
    lines = [f"[{c.number}]《{c.title}》{c.section}".rstrip() for c in citations]
    return SOURCES_HEADING + "\n" + "\n".join(lines) if lines else ""


def _pieces(text: str) -> list[str]:
    """The answer in sentences (cut after 。！？；, nothing lost), so a front end shows it growing."""
    return [piece for piece in re.split(r"(?<=[。！？；!?\n])", text) if piece]


def _usage(body: ChatCompletionRequest, content: str) -> Usage:
    prompt = sum(len(m.content if isinstance(m.content, str) else "") for m in body.messages)
    prompt += sum(len(p.text or "") for m in body.messages if isinstance(m.content, list) for p in m.content)
    return Usage(prompt_tokens=prompt, completion_tokens=len(content), total_tokens=prompt + len(content))


def _ask(svc: Services, question: str, history: list[Turn]) -> Answer:
    # History given, so the assistant remembers nothing: an OpenAI client resends the conversation.
    # One answer at a time per worker, as for the chat API (`Services.answering_lock`).
    with svc.answering_lock:
        return svc.assistant.ask(question, history=history)


# Routes

router = APIRouter(prefix=PREFIX, tags=["openai"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIErrorBody, "description": description}
    for status, description in (
        (400, "Bad request or an option that cannot be honoured (tools, images, n > 1)."),
        (401, "Missing or wrong API key."),
        (413, "Body over XIANGYIN_MAX_REQUEST_BYTES."),
        (429, "Over XIANGYIN_RATE_LIMIT."),
        (503, "Still loading."),
    )
}
_STREAM_DOC = """With `stream: true`, Server-Sent Events in OpenAI's format: `data: <chat.completion.chunk>`
lines (the first with `delta.role`, then the answer text, the last with `finish_reason: "stop"` and
`citations`; a `usage` chunk when `stream_options.include_usage`), then `data: [DONE]`. The text is sent
once the assistant has checked it, so nothing a client shows is ever taken back."""


@router.get("/models", response_model=ModelList, responses={401: _ERRORS[401]})
def models(svc: ServicesDep) -> ModelList:
    """The one model of this deployment: its knowledge base answering."""
    return ModelList(data=[_card(svc.settings)])


@router.get("/models/{model_id}", response_model=ModelCard, responses={401: _ERRORS[401]})
def model_card(model_id: str, svc: ServicesDep) -> ModelCard | JSONResponse:
    """One model by id (404 in OpenAI's shape for any other)."""
    if model_id != svc.settings.openai_compat_model:
        return openai_error(404, f"没有这个模型：{model_id[:64]}。", "model_not_found", "model")
    return _card(svc.settings)


def _card(settings: ApiSettings) -> ModelCard:
    return ModelCard(id=settings.openai_compat_model, created=_STARTED)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    # Questions only: front ends poll /v1/models (Open WebUI on every page), which must not use up a
    # client's question budget, shared with the chat API.
    dependencies=[Depends(ready), Depends(rate_limited)],
    responses={
        200: {"description": _STREAM_DOC, "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        **_ERRORS,
    },
)
def chat_completions(
    body: ChatCompletionRequest, request: Request, svc: ServicesDep
) -> Response | ChatCompletion:
    """Answer the last user message from the documents, the earlier messages being the conversation."""
    try:
        refuse_what_we_cannot_honour(body)
        question, history = conversation(body, svc.settings)
    except RequestRefused as refused:
        log.info("/v1/chat/completions refused: %s (%s)", refused.param, refused.code)
        return openai_error(400, refused.message, refused.code, refused.param)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    who = getattr(request.state, "integrator", "?")
    if body.stream:
        return _stream(svc, body, question, history, completion_id, who)
    try:
        answer = _ask(svc, question, history)
    except Exception:
        log.exception("answer for integrator %s failed", who)
        return openai_error(500, "系统出了点问题，请稍后再试。", "internal_error")
    content = _content(answer, svc.settings)
    log.info("integrator %s: answered (%s, %d citations)", who, answer.kind, len(answer.citations))
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        model=svc.settings.openai_compat_model,
        choices=[Choice(message=AssistantMessage(content=content))],
        usage=_usage(body, content),
        citations=answer.citations,
    )


def _content(answer: Answer, settings: ApiSettings) -> str:
    sources = source_list(answer.citations) if settings.openai_compat_source_list else ""
    return answer.answer + sources


Outcome = Answer | BaseException


def _stream(
    svc: Services,
    body: ChatCompletionRequest,
    question: str,
    history: list[Turn],
    completion_id: str,
    who: str,
) -> EventSourceResponse:
    settings = svc.settings
    outcome: queue.Queue[Outcome] = queue.Queue(maxsize=1)

    def produce() -> None:
        # Runs to the end even when the client has gone, so the assistant is never left half-way.
        try:
            outcome.put(_ask(svc, question, history))
        except Exception as exc:
            log.exception("streamed answer for integrator %s failed", who)
            outcome.put(exc)

    threading.Thread(target=produce, name="openai-stream", daemon=True).start()
    created = int(time.time())
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(delta: Delta, finish: bool = False, citations: list[Citation] | None = None) -> ServerSentEvent:
        choice = ChunkChoice(delta=delta, finish_reason="stop" if finish else None)
        data = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=settings.openai_compat_model,
            choices=[choice],
            citations=citations,
        )
        return _data(data, include_usage)

    async def relay() -> AsyncIterator[ServerSentEvent]:
        # The role first and at once, so a front end shows the assistant typing while it looks things up.
        yield chunk(Delta(role="assistant", content=""))
        result = await anyio.to_thread.run_sync(outcome.get)
        if isinstance(result, BaseException):
            error = OpenAIErrorDetail(
                message="系统出了点问题，请稍后再试。", type="server_error", code="internal_error"
            )
            yield _event(OpenAIErrorBody(error=error).model_dump_json())
            return
        # Only the checked answer is sent: the wire format cannot take back text, and an answer the
        # assistant's check replaces (a generated figure not in the documents) must never be shown.
        for piece in _pieces(result.answer):
            yield chunk(Delta(content=piece))
        if settings.openai_compat_source_list and result.citations:
            yield chunk(Delta(content=source_list(result.citations)))
        yield chunk(Delta(), finish=True, citations=result.citations)
        if include_usage:
            usage = _usage(body, _content(result, settings))
            data = ChatCompletionChunk(
                id=completion_id, created=created, model=settings.openai_compat_model, choices=[], usage=usage
            )
            yield _data(data, include_usage)
        log.info("integrator %s: streamed (%s, %d citations)", who, result.kind, len(result.citations))
        yield _event("[DONE]")

    return EventSourceResponse(relay(), sep=_SEP)


def _data(chunk: ChatCompletionChunk, include_usage: bool) -> ServerSentEvent:
    fields = chunk.model_dump(mode="json")
    if chunk.citations is None:
        del fields["citations"]
    if not include_usage:
        del fields["usage"]  # OpenAI sends `usage` only to clients that asked for it
    return _event(json.dumps(fields, ensure_ascii=False, separators=(",", ":")))


def _event(data: str) -> ServerSentEvent:
    # OpenAI ends lines with \n; sse-starlette's default \r\n is mis-split by some hand-written clients.
    return ServerSentEvent(data=data, sep=_SEP)


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Mount /v1 when integrators' keys are configured. Call after the other middleware is added: this
    one must be outermost, to answer before the body cap reads anything and to see its 413."""
    if not settings.openai_compat_keys:
        log.info("no integrator API keys configured: the OpenAI-compatible /v1 routes are off")
        return
    app.include_router(router)
    app.add_middleware(OpenAIEdge, settings=settings)
    log.info("OpenAI-compatible /v1 on for: %s", ", ".join(settings.openai_compat_keys))
