"""Per-client limits on the expensive routes (questions, speech), with the `limits` library's moving window.

Counts live in each worker's memory by default, so with N workers a client gets up to N times the limit:
enough to stop one phone (or script) from starving a township server, not an accounting system. Where
several hosts share `database_url`, the counts live in PostgreSQL (api/ratelimit_postgres.py) and a
client gets the limit once, whichever hosts its questions reach.
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from api.config import ApiSettings
from api.errors import ApiError
from api.ratelimit_postgres import PostgresStorage


class RateLimiter:
    """`storage`: where the counts live (a `limits` storage with the moving window); this worker's
    memory if none. A shared storage that cannot be reached raises `DatabaseUnavailable` (503)."""

    def __init__(self, limit: str, trust_forwarded_for: bool = False, storage: Storage | None = None) -> None:
        self.item = parse(limit)
        self.trust_forwarded_for = trust_forwarded_for
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def client(self, request: Request) -> str:
        if self.trust_forwarded_for and (forwarded := request.headers.get("x-forwarded-for")):
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def allow(self, client: str) -> int | None:
        """Counts a question of `client`: None when allowed, else the seconds until it may ask again."""
        if self._limiter.hit(self.item, client):
            return None
        reset = self._limiter.get_window_stats(self.item, client).reset_time
        # A shared storage keeps the database's clock: a host's clock a little off must not make the
        # wait longer than the window itself.
        return min(self.item.get_expiry(), max(1, math.ceil(reset - time.time())))

    def check(self, request: Request) -> None:
        """Raises a 429 `ApiError` (with Retry-After) when the client is over its limit."""
        retry_after = self.allow(self.client(request))
        if retry_after is None:
            return
        raise ApiError(
            429,
            "rate_limited",
            f"提问太频繁了，请{retry_after}秒后再问。",
            headers={"Retry-After": str(retry_after)},
        )


def open_rate_limiter(settings: ApiSettings) -> RateLimiter:
    """Counts shared in PostgreSQL when `database_url` is set (several hosts), else per worker."""
    storage: Storage | None = None
    if settings.database_url:
        storage = PostgresStorage(settings.database_url, settings.database_pool_size)
    return RateLimiter(settings.rate_limit, settings.trust_forwarded_for, storage)
