"""A tiny TCP round-robin balancer for the cluster demo and the several-hosts benchmark: each new client
connection goes to the next API host, and bytes are relayed both ways unchanged, so HTTP, Server-Sent
Events and WebSockets pass through alike. A host that refuses the connection is skipped. In production a
real balancer (nginx, HAProxy, a cloud load balancer) takes its place.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class RoundRobin:
    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        if not backends:
            raise ValueError("no backends to balance")
        self.backends = list(backends)
        self._next = itertools.cycle(range(len(self.backends)))

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        for _ in self.backends:
            host, port = self.backends[next(self._next)]
            try:
                backend_reader, backend_writer = await asyncio.open_connection(host, port)
            except OSError:
                log.warning("backend %s:%d refused a connection; trying the next", host, port)
                continue
            await asyncio.gather(_relay(client_reader, backend_writer), _relay(backend_reader, client_writer))
            return
        log.error("no backend accepted the connection")
        client_writer.close()

    async def start(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self.handle, host, port)

    async def serve(self, host: str, port: int) -> None:
        async with await self.start(host, port) as server:
            await server.serve_forever()
