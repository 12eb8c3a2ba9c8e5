"""The clip store's contract, the same assertions against files (one machine) and PostgreSQL (several
hosts), and a clip made on one host served by another."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from api.clips import ClipStorage, FileClipStore, PostgresClipStore, media_type, open_clip_store
from xiangyin.settings import Settings

TTL = 60
Ager = Callable[[str, float], None]
"""Makes a stored clip look `seconds` older, the way each backend keeps its age."""


@pytest.fixture(params=["files", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ClipStorage, Ager]:
    if request.param == "files":
        folder = tmp_path / "clips"

        def age_file(clip_id: str, seconds: float) -> None:
            then = time.time() - seconds
            os.utime(folder / clip_id, (then, then))

        return FileClipStore(folder, ttl_s=TTL, sweep_every=3), age_file
    url = request.getfixturevalue("database_url")

    def age_row(clip_id: str, seconds: float) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE answer_clips SET created = created - %s WHERE id = %s", (seconds, clip_id))

    return PostgresClipStore(url, ttl_s=TTL, sweep_every=3), age_row


def test_clips_are_served_until_they_expire_and_then_swept(backend: tuple[ClipStorage, Ager]) -> None:
    store, age = backend
    fresh = store.put(b"ID3 fresh", "mp3")
    old = store.put(b"ID3 old", "mp3")
    assert store.read(fresh) == b"ID3 fresh" and media_type(fresh) == "audio/mpeg"
    assert store.read(fresh, now=time.time() + TTL + 5) is None, "a clip past its TTL is not served"
    age(old, 3600)
    assert store.read(old) is None, "an expired clip is not served"
    store.put(b"ID3 third", "mp3")  # the third put sweeps
    assert store.read(fresh) == b"ID3 fresh"
    assert store.sweep(now=time.time() + TTL + 5) == 2, "only the fresh and the third clip were left"


def test_sweep_deletes_only_expired_clips(backend: tuple[ClipStorage, Ager]) -> None:
    store, _ = backend
    wav = store.put(b"RIFF" + bytes(range(256)), "wav")
    assert media_type(wav) == "audio/wav" and store.read(wav) == b"RIFF" + bytes(range(256))
    assert store.sweep() == 0
    assert store.sweep(now=time.time() + TTL + 5) == 1
    assert store.read(wav) is None


def test_only_clip_shaped_ids_are_looked_up(backend: tuple[ClipStorage, Ager], tmp_path: Path) -> None:
    store, _ = backend
    (tmp_path / "secret.mp3").write_bytes(b"x")
    for bad in ("../secret.mp3", "secret.mp3", "a" * 32 + ".exe", "A" * 32 + ".mp3", "' OR 1=1 --"):
        assert store.read(bad) is None
    assert store.read("0" * 32 + ".mp3") is None, "a well-formed id that was never stored"


def test_the_factory_picks_postgres_by_database_url(tmp_path: Path, database_url: str) -> None:
    embedded = open_clip_store(Settings(home=tmp_path / "home"))
    shared = open_clip_store(Settings(home=tmp_path / "home", database_url=database_url))
    assert isinstance(embedded, FileClipStore) and isinstance(shared, PostgresClipStore)


def test_a_clip_made_on_host_a_is_served_and_swept_by_host_b(database_url: str) -> None:
    host_a = PostgresClipStore(database_url + "?application_name=host-a", ttl_s=TTL)
    host_b = PostgresClipStore(database_url + "?application_name=host-b", ttl_s=TTL)
    clip_id = host_a.put(b"ID3 answer", "mp3")
    assert host_b.read(clip_id) == b"ID3 answer"
    assert host_b.sweep(now=time.time() + TTL + 5) == 1
    assert host_a.read(clip_id) is None
