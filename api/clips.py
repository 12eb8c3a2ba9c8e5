"""Synthesised answers kept on disk for a while, so any worker can serve a clip another one made."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

_CLIP_ID = re.compile(r"^[a-f0-9]{32}\.(mp3|wav|amr)$")
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "amr": "audio/amr"}


class ClipStore:
    def __init__(self, folder: Path, ttl_s: int, sweep_every: int = 200) -> None:
        self.folder = folder
        self.ttl_s = ttl_s
        self.sweep_every = sweep_every
        self._puts = 0
        folder.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, fmt: str = "mp3") -> str:
        """Store a clip; returns its id (the file name, unguessable). Now and then expired clips go."""
        self._puts += 1
        if self._puts % self.sweep_every == 0:
            self.sweep()
        clip_id = f"{secrets.token_hex(16)}.{fmt}"
        partial = self.folder / f".{clip_id}.partial"
        partial.write_bytes(data)
        partial.replace(self.folder / clip_id)
        return clip_id

    def path(self, clip_id: str) -> Path | None:
        if not _CLIP_ID.match(clip_id):
            return None
        path = self.folder / clip_id
        if not path.is_file() or time.time() - path.stat().st_mtime > self.ttl_s:
            return None
        return path

    def sweep(self) -> int:
        """Delete expired clips; returns how many."""
        now, removed = time.time(), 0
        for path in self.folder.iterdir():
            try:
                if now - path.stat().st_mtime > self.ttl_s:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
