"""The ground of the PostgreSQL stores: versioned schema steps applied once, also by hosts that start at
the same moment (real PostgreSQL)."""

from __future__ import annotations

import threading

from xiangyin.postgres import migrate, pool

STEPS = (
    "CREATE TABLE notes (id integer PRIMARY KEY)",
    "ALTER TABLE notes ADD COLUMN text text NOT NULL DEFAULT ''",
)


def test_steps_are_applied_once_and_in_order(database_url: str) -> None:
    db = pool(database_url)
    assert migrate(db, "notes", STEPS[:1]) == 1
    assert migrate(db, "notes", STEPS) == 2
    assert migrate(db, "notes", STEPS) == 2  # nothing new: nothing runs again
    with db.connection() as conn:
        conn.execute("INSERT INTO notes (id, text) VALUES (1, '低保')")
        assert conn.execute("SELECT text FROM notes").fetchone() == ("低保",)


def test_hosts_starting_together_apply_each_step_once(database_url: str) -> None:
    """Six hosts (a pool each) migrate a fresh database at the same instant: no error, one version."""
    hosts = 6
    start = threading.Barrier(hosts)
    versions: list[int] = []
    errors: list[BaseException] = []

    def host(number: int) -> None:
        db = pool(f"{database_url}?application_name=host-{number}", size=1)
        start.wait()
        try:
            versions.append(migrate(db, "notes", STEPS))
            versions.append(migrate(db, "other", STEPS[:0]))
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=host, args=(n,)) for n in range(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(versions) == [0] * hosts + [2] * hosts
