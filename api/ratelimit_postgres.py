"""Rate-limit counts in PostgreSQL, behind the `limits` library's storage interface, so that every host
behind a load balancer counts a client's questions together.

`limits` ships memory, Redis, Memcached and MongoDB storages but none for PostgreSQL (5.x), and the hosts
already share PostgreSQL: adding a Redis only for counters would be one more server to run in a county
machine room. So this is a `limits` storage, and `limits` keeps the strategies (the moving window we use,
the fixed window too) and their arithmetic; only the counting is here.

A moving window keeps one row per client key with the times of its recent hits (at most the limit, 30 by
default), locked while a hit is decided, so two hosts never both let the 31st question through. Times are
the database's clock, one clock for every host.
"""

from __future__ import annotations

from limits.storage import MovingWindowSupport, Storage

from ground.postgres import DatabaseUnavailable
from ground.postgres_access import connection, open_schema, transaction

_SCHEMA = (
    "CREATE TABLE rate_limit_windows (key text PRIMARY KEY, hits double precision[] NOT NULL,"
    " expires double precision NOT NULL);"
    " CREATE INDEX rate_limit_windows_by_expiry ON rate_limit_windows (expires);"
    " CREATE TABLE rate_limit_counters (key text PRIMARY KEY, count integer NOT NULL,"
    " expires double precision NOT NULL);"
    " CREATE INDEX rate_limit_counters_by_expiry ON rate_limit_counters (expires)",
)


class PostgresStorage(Storage, MovingWindowSupport):
    """`sweep_every`: hits between two deletions of the keys of clients that went quiet."""

    STORAGE_SCHEME = None  # built with the project's pool, never from a `limits` storage URI

    def __init__(self, url: str, pool_size: int = 8, sweep_every: int = 500) -> None:
        super().__init__(url)
        self.sweep_every = sweep_every
        self._hits = 0
        self._db = open_schema(url, pool_size, "ratelimit", _SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return DatabaseUnavailable

    # The moving window (MovingWindowRateLimiter)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        self._hits += 1
        if self._hits % self.sweep_every == 0:
            self.sweep()
        with transaction(self._db) as conn:
            # The row exists before it is locked, so a client's first two hits on two hosts queue too.
            conn.execute(
                "INSERT INTO rate_limit_windows (key, hits, expires) VALUES (%s, '{}', 0)"
                " ON CONFLICT (key) DO NOTHING",
                (key,),
            )
            # clock_timestamp(): the time the lock was won, not the time the transaction began waiting.
            row = conn.execute(
                "SELECT hits, extract(epoch FROM clock_timestamp())::float8 FROM rate_limit_windows"
                " WHERE key = %s FOR UPDATE",
                (key,),
            ).fetchone()
            assert row is not None  # inserted above, and only a sweep of expired keys deletes
            hits, now = row
            recent = [hit for hit in hits if hit > now - expiry]
            if len(recent) + amount > limit:
                return False
            conn.execute(
                "UPDATE rate_limit_windows SET hits = %s, expires = %s WHERE key = %s",
                ([*recent, *[now] * amount], now + expiry, key),
            )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with connection(self._db) as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM now())::float8,"
                " (SELECT hits FROM rate_limit_windows WHERE key = %s)",
                (key,),
            ).fetchone()
        assert row is not None
        now, hits = row
        recent = [hit for hit in hits or () if hit > now - expiry]
        return (min(recent), len(recent)) if recent else (now, 0)

    # The fixed window (FixedWindowRateLimiter)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with connection(self._db) as conn:
            row = conn.execute(
                "INSERT INTO rate_limit_counters AS c (key, count, expires)"
                " VALUES (%(key)s, %(amount)s, extract(epoch FROM now()) + %(expiry)s)"
                " ON CONFLICT (key) DO UPDATE SET"
                " count = CASE WHEN c.expires <= extract(epoch FROM now()) THEN EXCLUDED.count"
                " ELSE c.count + EXCLUDED.count END,"
                " expires = CASE WHEN c.expires <= extract(epoch FROM now()) THEN EXCLUDED.expires"
                " ELSE c.expires END"
                " RETURNING count",
                {"key": key, "amount": amount, "expiry": expiry},
            ).fetchone()
        assert row is not None
        return int(row[0])

    def get(self, key: str) -> int:
        with connection(self._db) as conn:
            row = conn.execute(
                "SELECT count FROM rate_limit_counters"
                " WHERE key = %s AND expires > extract(epoch FROM now())",
                (key,),
            ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        with connection(self._db) as conn:
            row = conn.execute(
                "SELECT coalesce((SELECT expires FROM rate_limit_counters WHERE key = %s),"
                " extract(epoch FROM now())::float8)",
                (key,),
            ).fetchone()
        assert row is not None
        return float(row[0])

    # Upkeep

    def clear(self, key: str) -> None:
        with transaction(self._db) as conn:
            conn.execute("DELETE FROM rate_limit_windows WHERE key = %s", (key,))
            conn.execute("DELETE FROM rate_limit_counters WHERE key = %s", (key,))

    def reset(self) -> int | None:
        with transaction(self._db) as conn:
            windows = conn.execute("DELETE FROM rate_limit_windows").rowcount
            counters = conn.execute("DELETE FROM rate_limit_counters").rowcount
        return windows + counters

    def check(self) -> bool:
        try:
            with connection(self._db) as conn:
                conn.execute("SELECT 1")
        except DatabaseUnavailable:
            return False
        return True

    def sweep(self) -> int:
        """Deletes the keys of clients with no hit in their window; returns how many."""
        # SKIP LOCKED: a key being hit right now is not idle, and hosts sweeping at once share the work.
        with connection(self._db) as conn:
            windows = conn.execute(
                "DELETE FROM rate_limit_windows WHERE key IN (SELECT key FROM rate_limit_windows"
                " WHERE expires < extract(epoch FROM now()) FOR UPDATE SKIP LOCKED)"
            ).rowcount
            counters = conn.execute(
                "DELETE FROM rate_limit_counters WHERE key IN (SELECT key FROM rate_limit_counters"
                " WHERE expires < extract(epoch FROM now()) FOR UPDATE SKIP LOCKED)"
            ).rowcount
        return windows + counters
