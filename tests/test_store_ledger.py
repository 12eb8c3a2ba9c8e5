"""The message ledger's guarantees, the same assertions on SQLite (the default) and on a real PostgreSQL
(`database_url`): and across hosts, where WeChat's retries of one message reach different API hosts
(A, B, A) at once, from threads and from separate processes, each with its own connections."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from api.channels.ledger import LEDGER_FILE, Ledger, Part, open_ledger
from api.channels.store import Database, PostgresDatabase, SqliteDatabase
from ground.postgres import pool
from xiangyin.settings import Settings

USER = "oQx7A5N4s3v2WqLm9Zk1hYtRb8Ec"
MORE = "（回复任意内容看下一段）"
PARTS = ["新农合每人每年交400元。", "在村委会或者手机上都能交。", "来源：2025年缴费通知"]

Host = Callable[[str], Database]
"""Opens the shared database as the host named by the argument sees it: its own connections."""


def _open(kind: str, where: str, name: str) -> Database:
    if kind == "sqlite":
        return SqliteDatabase(Path(where))
    # A different URL is a different pool, so each host has connections of its own.
    return PostgresDatabase(f"{where}?application_name={name}", pool_size=4)


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(kind, where): the database every host of a test shares."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / LEDGER_FILE)
    url: str = request.getfixturevalue("database_url")
    return "postgres", url


@pytest.fixture
def host(shared: tuple[str, str]) -> Iterator[Host]:
    kind, where = shared
    names: set[str] = set()

    def open_as(name: str) -> Database:
        names.add(name)
        return _open(kind, where, name)

    yield open_as
    if kind == "postgres":  # the pools are the process's: end this test's, or connections pile up
        for name in names:
            pool(f"{where}?application_name={name}").close()


@pytest.fixture
def ledger(host: Host) -> Iterator[Ledger]:
    opened = Ledger(host("A"), "official")
    yield opened
    opened.close()


def _answered(ledger: Ledger, key: str, parts: list[str] = PARTS) -> bool:
    ledger.register(key, USER, "新农合交多少钱", "", spoken=False, owner="w1", lease_s=60)
    return ledger.finish(key, parts, speech="", voice=False)


# The contract: one behaviour, whichever database


def test_the_first_request_records_the_message_and_retries_are_counted(ledger: Ledger) -> None:
    first = ledger.register("m1", USER, "新农合交多少钱", "", spoken=False, owner="w1", lease_s=60)
    again = ledger.register("m1", USER, "新农合交多少钱", "", spoken=False, owner="w2", lease_s=60)
    assert (first.attempts, first.inserted, first.reply) == (1, True, None)
    assert (again.attempts, again.inserted, again.reply) == (2, False, None)
    job = ledger.job("m1")
    assert (job.user, job.question, job.media_id, job.spoken) == (USER, "新农合交多少钱", "", False)
    ledger.set_reply("m1", "欢迎关注")
    assert ledger.register("m1", USER, "", "", spoken=False).reply == "欢迎关注"
    assert not ledger.state("m1").promised


def test_a_reply_with_the_answer_later_keeps_the_job_and_promises_it(ledger: Ledger) -> None:
    ledger.register("m1", USER, "新农合交多少钱", "", spoken=True, owner="w1", lease_s=-1)
    ledger.set_reply("m1", "上次的答案……", answer_later=True)
    state = ledger.state("m1")
    assert state.promised and state.reply == "上次的答案……" and not state.ready
    assert ledger.take_over("w2", 60) == ["m1"]  # still a job to finish
    ledger.register("m2", USER, "你好", "", spoken=False, owner="w1", lease_s=-1)
    ledger.set_reply("m2", "")
    assert ledger.take_over("w2", 60) == []  # answered by its reply: no job left


def test_the_answer_goes_out_once_by_reply_and_the_rest_by_push(ledger: Ledger) -> None:
    assert not _answered(ledger, "m1")
    assert ledger.state("m1").ready
    reply = ledger.reply_with_answer("m1", MORE)
    assert reply == PARTS[0] + MORE
    assert ledger.reply_with_answer("m1", MORE) == reply  # a retry is given the same reply
    assert ledger.state("m1").promised
    pushes = ledger.claim_pushes("m1")
    assert [(p.key, p.seq, p.user, p.text) for p in pushes] == [
        ("m1", 1, USER, PARTS[1]),
        ("m1", 2, USER, PARTS[2]),
    ]
    assert ledger.claim_pushes() == []
    ledger.pushed(pushes[0], ok=True)
    ledger.pushed(pushes[1], ok=False)  # back to waiting, carried by the user's next message
    assert ledger.carry_owed(USER, "m2", max_bytes=2048, reserve=0) == ([PARTS[2]], False)
    assert ledger.carry_owed(USER, "m3", max_bytes=2048, reserve=0) == ([], False)


def test_a_part_pushed_elsewhere_is_not_given_as_the_reply(ledger: Ledger) -> None:
    ledger.register("m1", USER, "新农合交多少钱", "", spoken=False, owner="w1", lease_s=60)
    assert ledger.promise("m1", "正在查，稍后发给您")
    assert ledger.finish("m1", PARTS, speech="", voice=False)  # promised: to be pushed
    assert len(ledger.claim_pushes("m1")) == 3
    assert ledger.reply_with_answer("m1", MORE) == ""


def test_a_promise_comes_either_before_the_answer_or_not_at_all(ledger: Ledger) -> None:
    ledger.register("m1", USER, "新农合交多少钱", "", spoken=False, owner="w1", lease_s=60)
    assert not ledger.finish("m1", PARTS, speech="", voice=False)
    assert not ledger.promise("m1", "正在查")
    assert ledger.state("m1").reply is None
    assert not ledger.finish("m1", ["又一个答案"], speech="", voice=False)  # finished already
    assert ledger.reply_with_answer("m1", MORE) == PARTS[0] + MORE


def test_owed_parts_are_carried_oldest_first_as_many_as_fit(ledger: Ledger) -> None:
    for n, key in enumerate(["m1", "m2"]):
        ledger.register(key, USER, "问题", "", spoken=False, owner="w1", lease_s=60)
        ledger.promise(key, "正在查")
        ledger.finish(key, [f"第{n}条第一段", f"第{n}条第二段"], speech="", voice=False)
        time.sleep(0.01)
    one_part = len("第0条第一段".encode()) + 2
    assert ledger.carry_owed(USER, "m3", max_bytes=one_part * 3, reserve=one_part) == (
        ["第0条第一段", "第0条第二段"],
        True,
    )
    assert ledger.carry_owed("someone-else", "m4", max_bytes=2048, reserve=0) == ([], False)
    assert ledger.carry_owed(USER, "m5", max_bytes=2048, reserve=0) == (["第1条第一段", "第1条第二段"], False)


def test_the_voice_reply_is_claimed_once(ledger: Ledger) -> None:
    ledger.register("m1", USER, "", "media-1", spoken=True, owner="w1", lease_s=60)
    ledger.finish("m1", PARTS, speech="新农合每人每年交四百元", voice=True)
    assert ledger.claim_voice("m1") == (USER, "新农合每人每年交四百元")
    assert ledger.claim_voice("m1") is None
    ledger.voice_done("m1", ok=True)
    assert ledger.claim_voice("m1") is None
    _answered(ledger, "m2")
    assert ledger.claim_voice("m2") is None  # no voice owed


def test_an_unfinished_job_is_taken_over_once_its_lease_ends(ledger: Ledger) -> None:
    ledger.register("m1", USER, "新农合交多少钱", "", spoken=False, owner="w1", lease_s=60)
    assert ledger.take_over("w2", 60) == []
    ledger.release("w1")
    assert ledger.take_over("w2", 60) == ["m1"]
    assert ledger.take_over("w3", 60) == []
    ledger.register("m2", USER, "", "", spoken=False)  # an event: no job
    ledger.finish("m1", PARTS, speech="", voice=False)
    ledger.release("w2")
    assert ledger.take_over("w3", 60) == []


def test_tidy_returns_cut_off_pushes_and_forgets_old_messages(ledger: Ledger) -> None:
    _answered(ledger, "m1")
    ledger.set_reply("m1", "正在查", answer_later=True)
    assert len(ledger.claim_pushes("m1")) == 3
    ledger.tidy(stale_push_s=3600, keep_s=3600)
    assert ledger.claim_pushes() == []
    time.sleep(0.05)
    ledger.tidy(stale_push_s=0.01, keep_s=3600)
    assert len(ledger.claim_pushes()) == 3
    ledger.tidy(stale_push_s=3600, keep_s=0.0)
    assert ledger.register("m1", USER, "新问题", "", spoken=False).inserted  # forgotten


def test_channels_keep_their_rows_apart(host: Host, ledger: Ledger) -> None:
    wecom = Ledger(host("A"), "wecom")
    try:
        _answered(ledger, "m1")
        assert wecom.register("m1", USER, "别的问题", "", spoken=False).inserted
        ledger.set_reply("m1", "", answer_later=True)
        assert wecom.claim_pushes() == [] and len(ledger.claim_pushes()) == 3
    finally:
        wecom.close()


def test_open_ledger_chooses_the_database_by_the_settings(tmp_path: Path, database_url: str) -> None:
    embedded = open_ledger(Settings(home=tmp_path), "official")
    shared = open_ledger(Settings(home=tmp_path, database_url=database_url), "official")
    try:
        embedded.register("m1", USER, "问题", "", spoken=False)
        assert (tmp_path / LEDGER_FILE).exists()
        assert shared.register("m1", USER, "问题", "", spoken=False).inserted  # a different database
    finally:
        embedded.close()
        shared.close()
        pool(database_url).close()


# Across hosts


def _request(ledger: Ledger, key: str, jobs: list[str]) -> str:
    """One request of a message as a host handles it: the first one answers, every one replies."""
    registration = ledger.register(key, USER, "新农合交多少钱", "", spoken=False, owner="x", lease_s=60)
    if registration.inserted:
        jobs.append(key)
        ledger.finish(key, PARTS, speech="", voice=False)
    deadline = time.monotonic() + 30
    while not ledger.state(key).ready:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return ledger.reply_with_answer(key, MORE)


def test_retries_on_hosts_a_b_a_are_answered_once_and_pushed_once(host: Host) -> None:
    a, b = Ledger(host("A"), "official"), Ledger(host("B"), "official")
    keys = [f"msg-{n}" for n in range(20)]
    jobs: list[str] = []
    try:
        with ThreadPoolExecutor(6) as threads:
            requests = [(ledger, key) for key in keys for ledger in (a, b, a)]
            replies = list(threads.map(lambda request: _request(request[0], request[1], jobs), requests))
            claims = list(threads.map(lambda ledger: ledger.claim_pushes(), [a, b, a, b, a, b]))
    finally:
        a.close()
        b.close()
    assert sorted(jobs) == sorted(keys)  # one answer job per message
    assert set(replies) == {PARTS[0] + MORE}  # every retry is given the one reply
    claimed = [(part.key, part.seq) for parts in claims for part in parts]
    assert sorted(claimed) == sorted((key, seq) for key in keys for seq in (1, 2))  # each part once


def test_a_promise_and_the_answer_racing_on_two_hosts_agree(host: Host) -> None:
    a, b = Ledger(host("A"), "official"), Ledger(host("B"), "official")
    keys = [f"race-{n}" for n in range(30)]
    barrier = threading.Barrier(2)

    def each_key(act: Callable[[str], bool]) -> list[bool]:
        outcomes = []
        for key in keys:
            barrier.wait()
            outcomes.append(act(key))
        return outcomes

    try:
        for key in keys:
            a.register(key, USER, "新农合交多少钱", "", spoken=False, owner="x", lease_s=60)
        with ThreadPoolExecutor(2) as threads:
            finishing = threads.submit(each_key, lambda key: a.finish(key, PARTS, speech="", voice=False))
            promising = threads.submit(each_key, lambda key: b.promise(key, "正在查"))
            finished, promised = finishing.result(), promising.result()
        # Promised before the answer was stored: it is pushed. Stored first: it is the reply. Never both.
        assert finished == promised
        for key, was_promised in zip(keys, promised, strict=True):
            if was_promised:
                assert len(b.claim_pushes(key)) == len(PARTS)
            else:
                assert b.reply_with_answer(key, MORE) == PARTS[0] + MORE
    finally:
        a.close()
        b.close()


def test_two_hosts_sweeping_take_each_stopped_job_once(host: Host) -> None:
    a, b = Ledger(host("A"), "official"), Ledger(host("B"), "official")
    keys = [f"job-{n}" for n in range(30)]
    try:
        for key in keys:
            a.register(key, USER, "新农合交多少钱", "", spoken=False, owner="dead", lease_s=-1)
        barrier = threading.Barrier(4)

        def sweep(args: tuple[Ledger, str]) -> list[str]:
            ledger, owner = args
            barrier.wait()
            ledger.tidy(3600, 3600)
            return ledger.take_over(owner, 60)

        with ThreadPoolExecutor(4) as threads:
            taken = list(threads.map(sweep, [(a, "a1"), (b, "b1"), (a, "a2"), (b, "b2")]))
    finally:
        a.close()
        b.close()
    assert sorted(key for keys_ in taken for key in keys_) == sorted(keys)


def _host_process(kind: str, where: str, name: str, keys: list[str], start: Any, results: Any) -> None:
    """One API host in its own process: every message's request reaches it, then it pushes what it can."""
    ledger = Ledger(_open(kind, where, name), "official")
    jobs: list[str] = []
    start.wait(60)  # a host that died starting breaks the barrier instead of leaving this one waiting
    replies = [_request(ledger, key, jobs) for key in keys]
    claimed: list[Part] = []
    for _ in range(3):
        claimed += ledger.claim_pushes()
    ledger.close()
    results.put((jobs, replies, [(p.key, p.seq) for p in claimed]))


def test_two_host_processes_answer_each_message_once(shared: tuple[str, str]) -> None:
    kind, where = shared
    keys = [f"proc-{n}" for n in range(25)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    hosts = [
        context.Process(target=_host_process, args=(kind, where, name, keys, start, results))
        for name in ("A", "B")
    ]
    for process in hosts:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in hosts]
    finally:
        for process in hosts:
            process.join(30)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in hosts] == [0, 0]
    jobs = [key for host_jobs, _, _ in outcomes for key in host_jobs]
    assert sorted(jobs) == sorted(keys)
    assert {reply for _, replies, _ in outcomes for reply in replies} == {PARTS[0] + MORE}
    claimed = [part for _, _, parts in outcomes for part in parts]
    assert sorted(claimed) == sorted((key, seq) for key in keys for seq in (1, 2))
