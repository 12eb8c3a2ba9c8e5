"""Synthesised clips on disk: unguessable ids, expiry, and the sweep that deletes expired files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from api.clips import ClipStore


def test_clips_are_served_until_they_expire_and_then_swept(tmp_path: Path) -> None:
    store = ClipStore(tmp_path / "clips", ttl_s=60, sweep_every=3)
    fresh = store.put(b"ID3 fresh", "mp3")
    old = store.put(b"ID3 old", "mp3")
    served = store.path(fresh)
    assert served is not None and served.read_bytes() == b"ID3 fresh"
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / "clips" / old, (an_hour_ago, an_hour_ago))
    assert store.path(old) is None, "an expired clip is not served"
    store.put(b"ID3 third", "mp3")  # the third put sweeps
    assert not (tmp_path / "clips" / old).exists() and (tmp_path / "clips" / fresh).exists()


def test_only_clip_shaped_ids_are_looked_up(tmp_path: Path) -> None:
    store = ClipStore(tmp_path / "clips", ttl_s=60)
    (tmp_path / "secret.mp3").write_bytes(b"x")
    for bad in ("../secret.mp3", "secret.mp3", "a" * 32 + ".exe", "A" * 32 + ".mp3"):
        assert store.path(bad) is None
