"""Per-client limits on the expensive routes (questions, speech), with the `limits` library's moving window.

Counts live in each worker's memory, so with N workers a client gets up to N times the limit: enough to
stop one phone (or script) from starving a township server, not an accounting system.
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError


class RateLimiter:
    def __init__(self, limit: str, trust_forwarded_for: bool = False) -> None:
        self.item = parse(limit)
        self.trust_forwarded_for = trust_forwarded_for
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def client(self, request: Request) -> str:
        if self.trust_forwarded_for and (forwarded := request.headers.get("x-forwarded-for")):
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def check(self, request: Request) -> None:
        """Raises a 429 `ApiError` (with Retry-After) when the client is over its limit."""
        client = self.client(request)
        if self._limiter.hit(self.item, client):
            return
        reset = self._limiter.get_window_stats(self.item, client).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        raise ApiError(
            429,
            "rate_limited",
            f"提问太频繁了，请{retry_after}秒后再问。",
            headers={"Retry-After": str(retry_after)},
        )
