"""Where officials' uploaded documents are kept. One machine: the data home's `documents` folder. Several
hosts (`database_url`): PostgreSQL holds every uploaded file, and each host copies them into its own
`documents` folder before it ingests or re-indexes, so any host can run any ingest job and a re-index on
one host never prunes a document another host received.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Protocol

from api.config import ApiSettings
from ground.postgres_access import connection, open_schema, transaction

log = logging.getLogger(__name__)


def write_file(path: Path, data: bytes) -> None:
    """Written beside and renamed into place: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


class UploadStore(Protocol):
    folder: Path
    """This host's copy of the uploads, which ingest reads."""

    def put(self, name: str, data: bytes) -> None:
        """Keep `data` as `name` (a path relative to `folder`), replacing an earlier upload."""
        ...

    def delete(self, name: str) -> None: ...

    def sync(self) -> None:
        """Make `folder` hold exactly the uploads (before an ingest reads it)."""
        ...


class LocalUploads:
    """The uploads are the files of the folder: nothing to copy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, name: str, data: bytes) -> None:
        write_file(self.folder / name, data)

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def sync(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)


_SCHEMA = (
    "CREATE TABLE uploaded_files (name text PRIMARY KEY, data bytea NOT NULL, sha256 text NOT NULL,"
    " uploaded double precision NOT NULL DEFAULT extract(epoch from now()))",
)


class PostgresUploads:
    """Every upload in PostgreSQL; the folder is this host's copy, brought in step by `sync`."""

    def __init__(self, folder: Path, url: str, pool_size: int = 8) -> None:
        self.folder = folder
        self._db = open_schema(url, pool_size, "uploads", _SCHEMA)

    def put(self, name: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        with transaction(self._db) as conn:
            conn.execute(
                "INSERT INTO uploaded_files (name, data, sha256) VALUES (%s, %s, %s) ON CONFLICT (name)"
                " DO UPDATE SET data = EXCLUDED.data, sha256 = EXCLUDED.sha256,"
                " uploaded = extract(epoch from now())",
                (name, data, digest),
            )
        write_file(self.folder / name, data)
        self._save_manifest(self._manifest() | {name: digest})

    def delete(self, name: str) -> None:
        with connection(self._db) as conn:
            conn.execute("DELETE FROM uploaded_files WHERE name = %s", (name,))
        (self.folder / name).unlink(missing_ok=True)
        copied = self._manifest()
        copied.pop(name, None)
        self._save_manifest(copied)

    def sync(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with connection(self._db) as conn:
            stored = dict(conn.execute("SELECT name, sha256 FROM uploaded_files").fetchall())
        # What this host copied last time, by digest: a county's archive is not hashed again per upload.
        copied = self._manifest()
        for name in set(copied) - set(stored):
            log.info("upload %s was deleted on another host; removing this host's copy", name)
            (self.folder / name).unlink(missing_ok=True)
            del copied[name]
        missing = [n for n, d in stored.items() if copied.get(n) != d or not (self.folder / n).is_file()]
        for name in missing:
            with connection(self._db) as conn:
                row = conn.execute("SELECT data FROM uploaded_files WHERE name = %s", (name,)).fetchone()
            if row is not None:  # deleted meanwhile: nothing to copy
                write_file(self.folder / name, bytes(row[0]))
                copied[name] = stored[name]
        self._save_manifest(copied)
        if missing:
            log.info("copied %d uploads from the database into %s", len(missing), self.folder)

    @property
    def _manifest_path(self) -> Path:
        return self.folder / ".uploads.json"

    def _manifest(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._manifest_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}

    def _save_manifest(self, copied: dict[str, str]) -> None:
        write_file(self._manifest_path, json.dumps(copied, ensure_ascii=False).encode("utf-8"))


def open_upload_store(settings: ApiSettings) -> UploadStore:
    folder = settings.home / "documents"
    if settings.database_url:
        return PostgresUploads(folder, settings.database_url, settings.database_pool_size)
    return LocalUploads(folder)
