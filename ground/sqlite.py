"""The SQLite files of the data home (catalog, sessions, jobs, WeChat ledger and tokens), opened one way.

Every store is shared by the threads of a worker and by the workers of a server: one connection per
store and process, autocommit with explicit transactions, and WAL so readers never wait for a writer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path


def open_database(path: Path, timeout_s: float = 30.0) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
    # Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at once
    # instead of waiting when two workers open it for the first time together: try again for a while.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return db
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                db.close()
                raise
            time.sleep(0.05)


@contextmanager
def write_transaction(
    db: sqlite3.Connection, lock: threading.Lock | None = None
) -> Iterator[sqlite3.Connection]:
    """One transaction that holds SQLite's write lock from its start (so two processes cannot both read
    and then write), committed when the block ends and rolled back when it raises. `lock` serialises
    the threads sharing `db`."""
    with lock or nullcontext():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
