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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from xiangyin.settings import Settings

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
        deadline = time.monotonic() + start_timeout_s
        while not _alive(url):
            if process.poll() is not None:
                raise RuntimeError(f"chroma run exited with status {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("chroma run did not start in time")
            time.sleep(0.3)
        log.info("shared vector store: chroma run on %s over %s", url, path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def serve(
    settings: Settings,
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
