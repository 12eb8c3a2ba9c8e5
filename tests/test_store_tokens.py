"""WeChat's token cache, the same assertions on SQLite (the default) and on a real PostgreSQL
(`database_url`); across hosts, a token one host fetched is the one every other host uses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.channels.store import Database, PostgresDatabase, SqliteDatabase
from api.wechat.client import OfficialAccountAPI
from api.wechat.tokens import TOKENS_FILE, TokenStore, open_tokens
from ground.postgres import pool
from tests.wechat.fakes import APP_ID, OPENID, SECRET, FakeWeChatAPI, serve
from xiangyin.settings import Settings

KEY = f"{APP_ID}_access_token"


@pytest.fixture(params=["sqlite", "postgres"])
def hosts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TokenStore, TokenStore]]:
    """Two hosts' caches over one database, each with its own connections."""
    urls: list[str] = []

    def database(name: str) -> Database:
        if request.param == "sqlite":
            return SqliteDatabase(tmp_path / TOKENS_FILE)
        urls.append(f"{request.getfixturevalue('database_url')}?application_name={name}")
        return PostgresDatabase(urls[-1], pool_size=4)

    a, b = TokenStore(database("A")), TokenStore(database("B"))
    yield a, b
    a.close()
    b.close()
    for url in urls:
        pool(url).close()


def test_a_token_is_kept_until_shortly_before_it_expires(hosts: tuple[TokenStore, TokenStore]) -> None:
    a, _ = hosts
    assert a.get(KEY) is None and a.get(KEY, "无") == "无"
    a.set(KEY, "token-1", 7200)
    assert a.get(KEY) == "token-1"
    a.set(KEY, "token-2", 7200)
    assert a.get(KEY) == "token-2"
    a.set(KEY, None, 7200)  # wechatpy may hand over nothing: the token stays
    assert a.get(KEY) == "token-2"
    a.set(KEY, "token-3", 1.0)  # under the margin: kept for half its life
    assert a.get(KEY) == "token-3"
    time.sleep(0.6)
    assert a.get(KEY) is None
    a.set("no-expiry", "given")
    assert a.get("no-expiry") == "given"
    a.delete("no-expiry")
    assert a.get("no-expiry") is None


def test_what_one_host_stores_every_host_reads(hosts: tuple[TokenStore, TokenStore]) -> None:
    a, b = hosts
    a.set(KEY, "token-1", 7200)
    assert b.get(KEY) == "token-1"
    b.set(KEY, "token-2", 7200)  # B was told the token expired and fetched another
    assert a.get(KEY) == "token-2"
    a.delete(KEY)
    assert b.get(KEY) is None


def test_hosts_share_one_fetched_token(hosts: tuple[TokenStore, TokenStore]) -> None:
    fake = FakeWeChatAPI()
    with serve(fake.app()) as url:
        apis = [OfficialAccountAPI(APP_ID, SECRET, f"{url}/cgi-bin/", tokens, 10, 2, 0.1) for tokens in hosts]
        apis[0].send_text(OPENID, "第一条")
        with ThreadPoolExecutor(4) as threads:
            list(threads.map(lambda n: apis[n % 2].send_text(OPENID, f"第{n}条"), range(8)))
    assert fake.token_fetches == 1
    assert len(fake.sent) == 9


def test_open_tokens_chooses_the_database_by_the_settings(tmp_path: Path, database_url: str) -> None:
    embedded = open_tokens(Settings(home=tmp_path))
    shared = open_tokens(Settings(home=tmp_path, database_url=database_url))
    try:
        embedded.set(KEY, "local", 7200)
        assert (tmp_path / TOKENS_FILE).exists()
        assert shared.get(KEY) is None
        shared.set(KEY, "shared", 7200)
        assert embedded.get(KEY) == "local"
    finally:
        embedded.close()
        shared.close()
        pool(database_url).close()
