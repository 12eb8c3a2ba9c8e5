"""What a hostile or unlucky client sends, built by the tests: decompression bombs, raw HTTP requests that
lie about their size, and a watch on the bytes a server spools to disk."""

from __future__ import annotations

import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docx

_PARAGRAPH = b"<w:p><w:r><w:t>" + "乡村振兴补贴政策说明".encode() * 8 + b"</w:t></w:r></w:p>"


def docx_bomb(path: Path, expanded_bytes: int) -> Path:
    """A valid Word file whose document.xml expands to `expanded_bytes` (a few hundred KB on disk)."""
    plain = path.with_name(f"plain-{path.name}")
    document = docx.Document()
    document.add_paragraph("乡村振兴补贴政策说明")
    document.save(str(plain))
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, source.read(item))
                continue
            xml = source.read(item)
            head, tail = xml.split(b"<w:body>", 1)
            with bomb.open("word/document.xml", "w", force_zip64=True) as out:
                out.write(head + b"<w:body>")
                block = _PARAGRAPH * (1_000_000 // len(_PARAGRAPH))
                for _ in range(max(1, expanded_bytes // len(block))):
                    out.write(block)
                out.write(tail)
    plain.unlink()
    return path


@dataclass
class RawResponse:
    status: int
    body: bytes
    sent: int
    """Body bytes the client managed to send before the server answered or closed."""


def raw_request(
    url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Iterator[bytes] | bytes = b"",
    timeout_s: float = 30.0,
) -> RawResponse:
    """One HTTP/1.1 request over a plain socket, so a client can lie about or omit Content-Length and
    keep sending after the server has answered (which `httpx` does not allow)."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    chunked = not isinstance(body, bytes) and "Content-Length" not in headers
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        parts = [body] if isinstance(body, bytes) else body
        try:
            for part in parts:
                if not part:
                    continue
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
                sent += len(part)
                if _answered(sock):
                    break
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed while we were still sending: what we want
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            pass
    head, _, payload = bytes(received).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if b"transfer-encoding: chunked" in head.lower():
        payload = _unchunk(payload)
    return RawResponse(status, payload, sent)


def _answered(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


def repeated(piece: bytes, total: int, size: int = 65536) -> Iterator[bytes]:
    block = (piece * (size // max(1, len(piece)) + 1))[:size]
    for _ in range(total // size):
        yield block


class SpoolWatch:
    """The largest number of bytes this process held at once in temporary files under `folder`, found
    through /proc/self/fd (an upload spool is an unnamed file that no directory listing shows)."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)
        self.peak = 0
        self._stop = threading.Event()

    def _held(self) -> int:
        total = 0
        for fd in Path("/proc/self/fd").iterdir():
            try:
                if str(fd.readlink()).startswith(self.folder):
                    total += fd.stat().st_size
            except OSError:
                continue
        return total

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._held())

    @contextmanager
    def running(self) -> Iterator[SpoolWatch]:
        thread = threading.Thread(target=self._watch, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def rss_bytes(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
