"""A real uvicorn server on 127.0.0.1 in a background thread, for tests that need a network client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from api.server import free_port, wait_until_ready


@contextmanager
def live_server(app: FastAPI, ready_path: str = "/readyz", timeout_s: float = 300.0) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL once `ready_path` answers 200."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            url + ready_path,
            lambda: None if thread.is_alive() else "the server stopped while starting",
            timeout_s,
        )
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
