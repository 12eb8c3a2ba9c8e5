"""Several API hosts on one machine, as a county would run them on several: PostgreSQL (a throw-away
cluster), one `chroma run` server, and N `xiangyin serve` processes, each with its own data home (no
shared files) and the same `XIANGYIN_DATABASE_URL` and `XIANGYIN_CHROMA_URL`, behind a round-robin
balancer. `make cluster-demo` runs it with the demo knowledge base; the several-hosts tests and the
benchmark use the same pieces.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from api.round_robin import RoundRobin
from api.server import chroma_server, free_port, process_exit, wait_until_ready
from ground.postgres_cluster import Cluster, postgres_cluster

log = logging.getLogger(__name__)


@dataclass
class Host:
    name: str
    home: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """Stop the host at once, as a crash or a pulled plug would (no graceful shutdown)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def api_host(
    name: str,
    home: Path,
    environment: Mapping[str, str],
    port: int | None = None,
    start_timeout_s: float = 600.0,
) -> Iterator[Host]:
    """One `xiangyin serve` process (one worker) with `environment` added to ours; yields once ready."""
    port = port or free_port()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home.parent / f"{name}.log"
    command = [sys.executable, "-m", "xiangyin", "--home", str(home), "serve", "--port", str(port)]
    with log_path.open("w") as out:
        process = subprocess.Popen(
            command,
            env=os.environ | dict(environment),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    host = Host(name, home, port, process, log_path)
    try:
        wait_until_ready(f"{host.url}/readyz", lambda: process_exit(name, process), start_timeout_s)
        yield host
    finally:
        host.stop()


@dataclass
class Deployment:
    postgres: Cluster
    chroma_url: str
    environment: dict[str, str] = field(default_factory=dict)
    """What every host is started with: the shared stores' URLs and the caller's settings."""
    hosts: list[Host] = field(default_factory=list)
    balancer_url: str = ""
    _stack: ExitStack = field(default_factory=ExitStack)

    @property
    def database_url(self) -> str:
        return self.postgres.url()

    def start_host(self, name: str, home: Path, port: int | None = None) -> Host:
        return self._stack.enter_context(api_host(name, home, self.environment, port))

    def restart(self, host: Host) -> Host:
        """Start a stopped (or killed) host again on its port and data home."""
        host.stop()
        again = self.start_host(host.name, host.home, host.port)
        self.hosts[self.hosts.index(host)] = again
        return again


@contextmanager
def balancer(backends: Sequence[tuple[str, int]], port: int | None = None) -> Iterator[str]:
    """The round-robin balancer on its own event loop in a background thread; yields its URL."""
    port = port or free_port()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="round-robin", daemon=True)
    thread.start()
    try:
        starting = RoundRobin(backends).start("127.0.0.1", port)
        server = asyncio.run_coroutine_threadsafe(starting, loop).result(30)
        yield f"http://127.0.0.1:{port}"
        loop.call_soon_threadsafe(server.close)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@contextmanager
def deployment(
    hosts: int = 2,
    knowledge: Sequence[Path] = (),
    environment: Mapping[str, str] | None = None,
    root: Path | None = None,
    ports: Sequence[int] = (),
    balancer_port: int | None = None,
) -> Iterator[Deployment]:
    """PostgreSQL, a Chroma server, `knowledge` ingested once through the shared stores, and `hosts` API
    processes behind a round-robin balancer; everything stopped and removed at the end."""
    from api.config import ApiSettings
    from knowledge.base import KnowledgeBase
    from knowledge.ingest import ingest

    with ExitStack() as stack:
        folder = root or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xiangyin-cluster-")))
        database = stack.enter_context(postgres_cluster())
        chroma = stack.enter_context(chroma_server(folder / "chroma"))
        shared = Deployment(database, chroma)
        shared.environment = {
            "XIANGYIN_DATABASE_URL": shared.database_url,
            "XIANGYIN_CHROMA_URL": chroma,
            **(environment or {}),
        }
        if knowledge:
            settings = ApiSettings(
                home=folder / "ingest-home", database_url=shared.database_url, chroma_url=chroma
            )
            kb = KnowledgeBase(settings)
            try:
                report = ingest(kb, list(knowledge))
                log.info(
                    "ingested %d documents, %d chunks, into the shared stores",
                    len(report.added),
                    report.chunks,
                )
            finally:
                kb.close()
        stack.enter_context(shared._stack)
        for number in range(hosts):
            port = ports[number] if number < len(ports) else None
            name = f"host-{chr(ord('a') + number)}"
            shared.hosts.append(shared.start_host(name, folder / name / "home", port))
        shared.balancer_url = stack.enter_context(
            balancer([("127.0.0.1", h.port) for h in shared.hosts], balancer_port)
        )
        yield shared
