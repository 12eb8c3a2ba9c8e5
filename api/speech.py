"""Voice: a spoken question answered (and spoken back), speech recognition alone, speech synthesis alone,
and the synthesised clips."""

from __future__ import annotations

import functools
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from api.clips import MEDIA_TYPES, FileClipStore, media_type
from api.deps import ServicesDep, rate_limited, ready
from api.errors import ApiError, responses
from api.schemas import SpeechRequest, Transcription, VoiceAnswer
from api.services import Services
from assistant.answer import Answer
from voice.asr import Transcript
from voice.audio import AudioError
from voice.tts import NothingToSpeak, SynthesisFailed

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["voice"])
limited = [Depends(ready), Depends(rate_limited)]

NO_VOICE = "暂时无法播放语音，请看文字回答。"
CLIP_EXPIRED = "这段语音已经过期，请重新提问。"
_BINARY = {"type": "string", "format": "binary"}


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    """The request as a whole is capped while it streams in (`api.limits`); this is the file's own cap."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "audio_too_large", "语音文件太大了，请说短一点。")
    return data


def _transcribe(svc: Services, data: bytes) -> Transcript:
    try:
        return svc.recognize(data)
    except AudioError as exc:
        log.info("voice upload rejected: %s", exc)
        raise ApiError(422, "audio_unusable", exc.message) from exc


async def answer_spoken(svc: Services, transcript: Transcript, session_id: str | None) -> Answer:
    """What every spoken question gets, uploaded or streamed: all of Whisper's hypotheses searched, and
    perhaps a question back (answer.kind == "confirm", issue 16)."""
    ask = functools.partial(
        svc.ask_web, transcript.text, session_id, spoken=True, alternatives=transcript.alternatives()
    )
    return await run_in_threadpool(ask)


def clip_url(clip_id: str) -> str:
    return f"/api/v1/audio/{clip_id}"


SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
SESSION_ID_MAX = 128

AudioUpload = Annotated[UploadFile, File(description="WAV, MP3, M4A, OGG/Opus, WebM, AMR or SILK.")]


@router.post(
    "/voice", response_model=VoiceAnswer, dependencies=limited, responses=responses(413, 422, 429, 503)
)
async def voice(
    svc: ServicesDep,
    audio: AudioUpload,
    session_id: Annotated[str | None, Form(max_length=SESSION_ID_MAX, pattern=SESSION_ID_PATTERN)] = None,
    speak: Annotated[bool, Form(description="Also return the answer as speech.")] = True,
) -> VoiceAnswer:
    """A spoken question: what was heard, the answer, and the answer spoken (MP3 URL)."""
    data = await _read_upload(audio, svc.settings.max_audio_bytes)
    transcript = await run_in_threadpool(_transcribe, svc, data)
    answer = await answer_spoken(svc, transcript, session_id)
    audio_url, notice = None, ""
    if speak:
        try:
            speech = await run_in_threadpool(svc.speak, answer.speech, None)
            audio_url = clip_url(svc.clips.put(speech.encode("mp3")))
        except SynthesisFailed:
            notice = NO_VOICE
    return VoiceAnswer(transcript=transcript.text, answer=answer, audio_url=audio_url, notice=notice)


@router.post(
    "/asr", response_model=Transcription, dependencies=limited, responses=responses(413, 422, 429, 503)
)
async def asr(svc: ServicesDep, audio: AudioUpload) -> Transcription:
    """Speech recognition only: the text of a recording (simplified Chinese)."""
    data = await _read_upload(audio, svc.settings.max_audio_bytes)
    transcript = await run_in_threadpool(_transcribe, svc, data)
    return Transcription(text=transcript.text, duration_s=round(transcript.duration_s, 2))


@router.post(
    "/tts",
    dependencies=limited,
    response_class=Response,
    responses={
        200: {
            "description": "The text read aloud.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()
            },
        },
        **responses(400, 413, 422, 429, 503),
    },
)
def tts(body: SpeechRequest, svc: ServicesDep) -> Response:
    """Read a text aloud (numbers, dates and units are read out the Chinese way)."""
    if len(body.text) > svc.settings.max_tts_chars:
        raise ApiError(413, "text_too_long", f"文字太长了，请不要超过{svc.settings.max_tts_chars}个字。")
    try:
        speech = svc.speak(body.text, body.rate)
    except NothingToSpeak as exc:
        raise ApiError(422, "nothing_to_speak", "这段文字里没有可以朗读的内容，请换一段文字。") from exc
    except SynthesisFailed as exc:
        log.warning("no speech engine could read a text: %s", exc)
        raise ApiError(503, "tts_unavailable", NO_VOICE) from exc
    return Response(speech.encode(body.format), media_type=MEDIA_TYPES[body.format])


@router.get(
    "/audio/{clip_id}",
    response_class=Response,
    responses={
        200: {
            "description": "A spoken answer.",
            "content": {"audio/mpeg": {}, "audio/wav": {}, "audio/amr": {}},
        },
        **responses(404),
    },
)
def clip(clip_id: str, svc: ServicesDep) -> Response:
    """A synthesised answer, kept for `audio_ttl_s` seconds."""
    if isinstance(svc.clips, FileClipStore):
        # A file is served with byte ranges, which some phones' audio players ask for.
        path = svc.clips.path(clip_id)
        if path is None:
            raise ApiError(404, "audio_not_found", CLIP_EXPIRED)
        return FileResponse(path, media_type=media_type(clip_id))
    data = svc.clips.read(clip_id)
    if data is None:
        raise ApiError(404, "audio_not_found", CLIP_EXPIRED)
    return Response(data, media_type=media_type(clip_id))
