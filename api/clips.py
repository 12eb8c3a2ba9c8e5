"""Synthesised answers kept for a while (`audio_ttl_s`), so any worker can serve a clip another one made:
files in the cache folder on one machine (the default), or rows of PostgreSQL when several hosts share
`database_url`, so a clip made on one host is served by whichever host the next request reaches."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Protocol

from api.config import ApiSettings
from ground.postgres_access import connection, open_schema

_CLIP_ID = re.compile(r"^[a-f0-9]{32}\.(mp3|wav|amr)$")
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "amr": "audio/amr"}


def media_type(clip_id: str) -> str:
    """The clip's media type, from the format its id ends with."""
    return MEDIA_TYPES[clip_id.rsplit(".", 1)[-1]]


def _new_id(fmt: str) -> str:
    return f"{secrets.token_hex(16)}.{fmt}"


class ClipStorage(Protocol):
    def put(self, data: bytes, fmt: str = "mp3") -> str:
        """Store a clip; returns its id (unguessable, ending in its format). Now and then expired clips
        go."""
        ...

    def read(self, clip_id: str, now: float | None = None) -> bytes | None:
        """The clip, while it is younger than the TTL; None for an expired, unknown or ill-formed id."""
        ...

    def sweep(self, now: float | None = None) -> int:
        """Delete expired clips; returns how many."""
        ...


class FileClipStore:
    def __init__(self, folder: Path, ttl_s: int, sweep_every: int = 200) -> None:
        self.folder = folder
        self.ttl_s = ttl_s
        self.sweep_every = sweep_every
        self._puts = 0
        folder.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, fmt: str = "mp3") -> str:
        self._puts += 1
        if self._puts % self.sweep_every == 0:
            self.sweep()
        clip_id = _new_id(fmt)
        partial = self.folder / f".{clip_id}.partial"
        partial.write_bytes(data)
        partial.replace(self.folder / clip_id)
        return clip_id

    def path(self, clip_id: str, now: float | None = None) -> Path | None:
        """The clip's file, while it is younger than the TTL."""
        if not _CLIP_ID.match(clip_id):
            return None
        path = self.folder / clip_id
        try:
            if (now if now is not None else time.time()) - path.stat().st_mtime > self.ttl_s:
                return None
        except FileNotFoundError:
            return None
        return path if path.is_file() else None

    def read(self, clip_id: str, now: float | None = None) -> bytes | None:
        path = self.path(clip_id, now)
        try:
            return None if path is None else path.read_bytes()
        except FileNotFoundError:  # swept by another worker in between
            return None

    def sweep(self, now: float | None = None) -> int:
        now, removed = (now if now is not None else time.time()), 0
        for path in self.folder.iterdir():
            try:
                if now - path.stat().st_mtime > self.ttl_s:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


ClipStore = FileClipStore
"""The name the tests construct with a folder."""

_POSTGRES_SCHEMA = (
    "CREATE TABLE answer_clips (id text PRIMARY KEY, data bytea NOT NULL, created double precision NOT NULL);"
    " CREATE INDEX answer_clips_by_age ON answer_clips (created)",
)


class PostgresClipStore:
    """Clips as bytea rows: a clip is tens of kilobytes, read whole, and gone within the hour, which is
    what a row is good at (large objects would only add their own clean-up). Ages are the writing host's
    clock, as the files' mtimes are: hosts a few seconds apart change nothing for a TTL of an hour."""

    def __init__(self, url: str, ttl_s: int, sweep_every: int = 200, pool_size: int = 8) -> None:
        self.ttl_s = ttl_s
        self.sweep_every = sweep_every
        self._puts = 0
        self._db = open_schema(url, pool_size, "clips", _POSTGRES_SCHEMA)

    def put(self, data: bytes, fmt: str = "mp3") -> str:
        self._puts += 1
        if self._puts % self.sweep_every == 0:
            self.sweep()
        clip_id = _new_id(fmt)
        with connection(self._db) as conn:
            conn.execute(
                "INSERT INTO answer_clips (id, data, created) VALUES (%s, %s, %s)",
                (clip_id, data, time.time()),
            )
        return clip_id

    def read(self, clip_id: str, now: float | None = None) -> bytes | None:
        if not _CLIP_ID.match(clip_id):
            return None
        cutoff = (now if now is not None else time.time()) - self.ttl_s
        with connection(self._db) as conn:
            row = conn.execute(
                "SELECT data FROM answer_clips WHERE id = %s AND created >= %s", (clip_id, cutoff)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def sweep(self, now: float | None = None) -> int:
        cutoff = (now if now is not None else time.time()) - self.ttl_s
        # Hosts sweeping at once share the work (SKIP LOCKED) instead of queueing on the same rows.
        with connection(self._db) as conn:
            cursor = conn.execute(
                "DELETE FROM answer_clips WHERE id IN"
                " (SELECT id FROM answer_clips WHERE created < %s FOR UPDATE SKIP LOCKED)",
                (cutoff,),
            )
        return cursor.rowcount


def open_clip_store(settings: ApiSettings) -> ClipStorage:
    """PostgreSQL when `database_url` is set (several hosts), else files in the cache folder."""
    if settings.database_url:
        return PostgresClipStore(
            settings.database_url, settings.audio_ttl_s, pool_size=settings.database_pool_size
        )
    return FileClipStore(settings.cache_dir / "clips", settings.audio_ttl_s)
