"""The rate-limit counts' contract, the same assertions against this worker's memory and PostgreSQL
(several hosts), and one client's questions counted together across two hosts, also when they race."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from api.ratelimit import RateLimiter, open_rate_limiter
from api.ratelimit_postgres import PostgresStorage
from xiangyin.settings import Settings


@pytest.fixture(params=["memory", "postgres"])
def storage(request: pytest.FixtureRequest) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    return PostgresStorage(request.getfixturevalue("database_url"))


def test_a_client_over_its_limit_waits_and_others_do_not(storage: Storage) -> None:
    limiter = RateLimiter("3/minute", storage=storage)
    assert [limiter.allow("10.0.0.1") for _ in range(3)] == [None, None, None]
    wait = limiter.allow("10.0.0.1")
    assert wait is not None and 55 <= wait <= 60
    assert limiter.allow("10.0.0.2") is None, "another client has its own count"


def test_the_window_moves(storage: Storage) -> None:
    limiter = RateLimiter("2 per 2 seconds", storage=storage)
    assert limiter.allow("c") is None
    time.sleep(1.0)
    assert limiter.allow("c") is None
    assert limiter.allow("c") in (1, 2)
    time.sleep(1.1)  # the first hit has left the window, the second has not
    assert limiter.allow("c") is None
    assert limiter.allow("c") in (1, 2)


def test_window_stats_clear_and_reset(storage: Storage) -> None:
    item = parse("5/minute")
    limiter = RateLimiter("5/minute", storage=storage)
    for _ in range(2):
        limiter.allow("c")
    stats = limiter._limiter.get_window_stats(item, "c")
    assert stats.remaining == 3 and time.time() + 55 < stats.reset_time < time.time() + 61
    limiter._limiter.clear(item, "c")
    assert limiter._limiter.get_window_stats(item, "c").remaining == 5
    limiter.allow("d")
    assert storage.reset() is not None
    assert limiter._limiter.get_window_stats(item, "d").remaining == 5
    assert storage.check()
    assert not limiter._limiter.hit(item, "e", cost=6), "a cost above the limit is never granted"


def test_fixed_window_counts(storage: Storage) -> None:
    item = parse("2/second")
    fixed = FixedWindowRateLimiter(storage)
    assert fixed.hit(item, "c") and fixed.hit(item, "c") and not fixed.hit(item, "c")
    assert fixed.get_window_stats(item, "c").remaining == 0
    time.sleep(1.05)
    assert fixed.hit(item, "c") and fixed.get_window_stats(item, "c").remaining == 1


def test_the_factory_shares_counts_by_database_url(tmp_path: Path, database_url: str) -> None:
    settings = Settings(home=tmp_path / "home", rate_limit="1/minute", database_url=database_url)
    host_a, host_b = open_rate_limiter(settings), open_rate_limiter(settings)
    assert host_a.allow("10.0.0.1") is None and host_b.allow("10.0.0.1") is not None
    alone_a = open_rate_limiter(Settings(home=tmp_path / "home", rate_limit="1/minute"))
    alone_b = open_rate_limiter(Settings(home=tmp_path / "home", rate_limit="1/minute"))
    assert alone_a.allow("10.0.0.1") is None and alone_b.allow("10.0.0.1") is None, "per worker"


def test_two_hosts_count_one_client_together_even_when_they_race(database_url: str) -> None:
    host_a = RateLimiter("7/minute", storage=PostgresStorage(database_url + "?application_name=a"))
    host_b = RateLimiter("7/minute", storage=PostgresStorage(database_url + "?application_name=b"))
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda n: (host_a if n % 2 else host_b).allow("10.0.0.9"), range(24)))
    assert answers.count(None) == 7, "the row lock lets exactly the limit through, whichever host"
    assert host_a.allow("10.0.0.9") is not None and host_b.allow("10.0.0.9") is not None
    assert host_b.allow("10.0.0.10") is None


def test_keys_of_quiet_clients_are_swept(database_url: str) -> None:
    storage = PostgresStorage(database_url, sweep_every=1000)
    limiter = RateLimiter("2/second", storage=storage)
    FixedWindowRateLimiter(storage).hit(parse("2/second"), "fixed")
    limiter.allow("quiet")
    assert storage.sweep() == 0
    time.sleep(1.1)
    limiter = RateLimiter("2/minute", storage=storage)
    limiter.allow("busy")
    assert storage.sweep() == 2, "the quiet window and the expired counter, not the busy client"
    assert limiter.allow("busy") is None and limiter.allow("busy") is not None
