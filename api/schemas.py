"""Request and response bodies of the HTTP API (the assistant's `Answer` is used as it is)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.answer import Answer


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=2000, description="The villager's question or reply.")
    session_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Conversation id returned by an earlier answer; follow-ups need it.",
    )
    speak: bool = Field(
        default=False, description="Stream: also synthesise the answer, sentence by sentence."
    )


class VoiceAnswer(BaseModel):
    transcript: str = Field(description="What the speech recogniser heard.")
    answer: Answer
    audio_url: str | None = Field(description="The spoken answer (MP3), or null when no voice works.")
    notice: str = Field(default="", description="Shown to the user when the answer cannot be spoken.")


class Transcription(BaseModel):
    text: str
    duration_s: float


class SpeechRequest(BaseModel):
    text: str = Field(min_length=1, description="Text to read aloud (numbers and units are read out).")
    rate: float | None = Field(default=None, ge=0.5, le=1.5, description="Speaking speed; 1 is normal.")
    format: Literal["mp3", "wav", "amr"] = "mp3"


class AvatarLook(BaseModel):
    style: str
    outfit: str


class PageConfig(BaseModel):
    assistant_name: str
    avatar: AvatarLook
    suggestions: list[str]
    handoff: str
    max_audio_seconds: float
    max_question_chars: int
    voice: bool = Field(description="Speech recognition is available.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    documents: int
    chunks: int
    embedder: str
    speech_recognition: Literal["loaded", "loading", "failed"]
    tts_engine: str | None = Field(description="The voice answers are spoken with now; null when none works.")
    tts_engines: list[str]
    workers_share: str = Field(description="Where the index lives: a folder (one writer) or a Chroma URL.")


class DocumentInfo(BaseModel):
    source: str
    title: str
    kind: str
    region: str
    chars: int
    chunks: int
    root: str
    status: Literal["indexed", "refused", "ingesting"] = Field(
        default="indexed",
        description="`refused`: the file could not be read; `reason` says why. `ingesting`: a queued or"
        " running job is reading it (a new upload is listed so before it is indexed).",
    )
    reason: str = Field(default="", description="Why the file was refused (Chinese, for officials).")
    valid_from: str = Field(default="", description="First day in force (YYYY-MM-DD), or empty.")
    valid_to: str = Field(default="", description="Last day in force (YYYY-MM-DD), or empty.")
    expired: bool = Field(default=False, description="valid_to has passed.")
    ingested_at: str = Field(default="", description="When it was last indexed (UTC, YYYY-MM-DD HH:MM:SS).")
    bytes: int = Field(default=0, description="Size of the file on the server (0 when it is not there).")
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Metadata an official corrected (field -> value), applied at every ingest of the file.",
    )


class JobState(BaseModel):
    id: str
    kind: Literal["upload", "reindex", "metadata"]
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str = ""
    done: int = 0
    total: int = 0
    files: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: dict[str, str] = Field(
        default_factory=dict,
        description="File -> why this job refused it (Chinese, for officials). A file refused by an"
        " earlier job and not changed since is not read again and not listed here.",
    )
    error: str = Field(default="", description="What went wrong, for the operator (English).")
    message: str = Field(default="", description="What happened, for officials (Chinese), when not done.")
    cancelling: bool = Field(default=False, description="Cancellation was asked for; the job is stopping.")
    created: float
    finished: float | None = None


class Removed(BaseModel):
    removed: list[str]
