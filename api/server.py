"""`xiangyin serve`: uvicorn with one or more workers over one data home.

Several workers cannot share Chroma's embedded store (each process would hold its own copy of the
vector index), so with more than one worker and no `XIANGYIN_CHROMA_URL` a local `chroma run` server
is started over the same folder and every worker talks to it. The SQLite catalog, sessions, jobs and
clips are files in the data home that all workers share.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from api.config import ApiSettings

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def chroma_server(path: Path, start_timeout_s: float = 60.0) -> Iterator[str]:
    """A `chroma run` process (from the chromadb package) on 127.0.0.1; yields its URL."""
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if executable is None:
        raise RuntimeError("the `chroma` command of the chromadb package was not found")
    port = free_port()
    path.mkdir(parents=True, exist_ok=True)
    command = [executable, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        stopped = functools.partial(process_exit, "chroma run", process)
        wait_until_ready(f"{url}/api/v2/heartbeat", stopped, start_timeout_s)
        log.info("shared vector store: chroma run on %s over %s", url, path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_ready(
    url: str,
    stopped: Callable[[], str | None],
    timeout_s: float,
    accept: Callable[[bytes], bool] = lambda body: True,
    in_a_row: int = 1,
) -> None:
    """Poll `url` until it answers 200 with a body `accept`s, `in_a_row` times in a row: each poll is a
    new connection, so with several workers enough good polls in a row have reached every one of them.
    Raises RuntimeError as soon as `stopped()` gives a reason (the server died), TimeoutError at the end."""
    deadline = time.monotonic() + timeout_s
    good = 0
    while good < in_a_row:
        reason = stopped()
        if reason is not None:
            raise RuntimeError(reason)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} was not ready after {timeout_s:.0f} s")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                ok = response.status == 200 and accept(response.read())
        except (OSError, ValueError):
            ok = False
        good = good + 1 if ok else 0
        time.sleep(0.1 if ok else 0.3)


def process_exit(name: str, process: subprocess.Popen[bytes]) -> str | None:
    """For `wait_until_ready`: why `process` is gone, or None while it runs."""
    return None if process.poll() is None else f"{name} exited with status {process.returncode}"


def serve(
    settings: ApiSettings,
    host: str,
    port: int,
    workers: int,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
) -> None:
    # Workers are fresh processes: the settings reach them through the environment.
    os.environ["XIANGYIN_HOME"] = str(settings.home)
    run = functools.partial(_run, host, port, workers, ssl_certfile, ssl_keyfile)
    if workers > 1 and settings.chroma_url is None:
        with chroma_server(settings.index_dir / "chroma") as url:
            os.environ["XIANGYIN_CHROMA_URL"] = url
            run()
    else:
        run()


def _run(host: str, port: int, workers: int, ssl_certfile: Path | None, ssl_keyfile: Path | None) -> None:
    uvicorn.run(
        "api.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_graceful_shutdown=10,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
