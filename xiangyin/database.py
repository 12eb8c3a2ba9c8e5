"""The SQLite files of the data home (catalog, sessions, jobs, WeChat ledger and tokens), opened one way.

Every store is shared by the threads of a worker and by the workers of a server: one connection per
store and process, autocommit with explicit transactions, and WAL so readers never wait for a writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path


def open_database(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    return db


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
