"""Documents are read in a worker process that can be limited and killed.

Parsers spend long stretches in C (zlib, lxml, pdfminer's loops), where a thread can be neither
interrupted nor limited: a Word zip bomb read inside the server grew it by gigabytes for minutes and
kept it from stopping. Here one worker process reads the documents of an ingest one after another (so
a folder of many small files pays for one start-up), under a memory limit it sets on itself
(RLIMIT_AS, measured from its size after its imports, so the budget is what one document may take) and
a time budget per document that the parent enforces by killing it; a killed worker is replaced for the
next document. The parent waits in short polls, so a cancellation stops the parse within a poll.

The worker runs `python -c` on this module: a fresh interpreter (the server has threads, so it is never
forked) that imports only the loaders and the chunker, never the embedder or the vector store.
multiprocessing's spawn context would first re-run the server's own entry script (`xiangyin`, which
imports everything) in the child.
"""

from __future__ import annotations

import hashlib
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.chunking import Chunk, chunk_document
from knowledge.loaders import UNREADABLE, LoadError, LoadLimits, load_document
from knowledge.metadata import DocumentMeta, document_meta

if TYPE_CHECKING:  # the worker never needs the settings (pydantic would add a quarter second to its start)
    from knowledge.config import KnowledgeSettings

_POLL_S = 0.1
_AHEAD = 4
"""Files queued in the worker: it reads the next ones while the ingest tokenises the last, instead of
waiting for a round trip each (a scheduler wake-up: milliseconds on a busy machine)."""
_START_TIMEOUT_S = 120.0
"""A cold start (imports from a slow disk) takes seconds; this only catches a worker that hangs."""
_ALARM_GRACE_S = 10
_WORKER = "import knowledge.parsing as p; p.serve()"


@dataclass(frozen=True)
class ParserConfig:
    """What the worker needs: the loaders' limits, the chunker's settings and the per-document budgets."""

    limits: LoadLimits
    max_chunks: int
    timeout_s: float
    memory_mb: int
    chunk_max_chars: int
    chunk_min_chars: int

    @classmethod
    def from_settings(cls, settings: KnowledgeSettings) -> ParserConfig:
        s = settings
        return cls(
            limits=LoadLimits(
                max_document_chars=s.max_document_chars,
                max_decoded_chars=s.max_decoded_chars,
                max_unpacked_bytes=s.max_unpacked_mb * 1_000_000,
                max_docx_xml_bytes=s.max_docx_xml_mb * 1_000_000,
                max_zip_ratio=s.max_zip_ratio,
                max_zip_entries=s.max_zip_entries,
                max_pdf_pages=s.max_pdf_pages,
            ),
            max_chunks=s.max_document_chunks,
            timeout_s=s.parse_timeout_s,
            memory_mb=s.parser_memory_mb,
            chunk_max_chars=s.chunk_max_chars,
            chunk_min_chars=s.chunk_min_chars,
        )

    def fingerprint(self) -> str:
        """Changes with any limit or budget: a file refused under other budgets is read again."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ParsedFile:
    meta: DocumentMeta
    chunks: list[Chunk]


_Reply = ParsedFile | tuple[str, str, str]
"""A parsed file, or (outcome, reason, message) for a refused one; outcome "exhausted" says the worker
ran out of memory and exits after this reply."""


class DocumentParser:
    """Reads documents in a worker process, started at the first document and replaced after one it had
    to be stopped for; close it (or use it as a context manager) to stop the worker."""

    def __init__(self, config: ParserConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> DocumentParser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def parse_all(
        self, files: Sequence[tuple[Path, str]], checkpoint: Callable[[], None]
    ) -> Iterator[ParsedFile | LoadError]:
        """Each (path, source)'s metadata and chunks, in order, or the `LoadError` that refused it
        (unreadable, over a limit, too slow, too big in memory). `checkpoint` is called every poll while
        waiting; whatever it raises (a cancellation) is raised after the worker was killed."""
        queued: deque[int] = deque()
        """Files sent to the worker and not answered yet, in order; the first is the one it reads."""
        following = 0
        turn = 0.0
        """When the worker began reading the first queued file."""
        while queued or following < len(files):
            conn = self._conn or self._start(checkpoint)
            if not queued:
                turn = time.monotonic()
            try:
                while following < len(files) and len(queued) < _AHEAD:
                    path, source = files[following]
                    conn.send((str(path), source))
                    queued.append(following)
                    following += 1
            except OSError:
                pass  # the worker is gone: waiting for its answer says so
            result = self._answer(conn, turn + self.config.timeout_s, checkpoint)
            turn = time.monotonic()
            first = queued.popleft()
            if self._conn is None:  # the worker was stopped: what was queued behind goes to the next one
                following = first + 1
                queued.clear()
            yield result

    def _answer(
        self, conn: Connection, deadline: float, checkpoint: Callable[[], None]
    ) -> ParsedFile | LoadError:
        try:
            while not conn.poll(_POLL_S):
                checkpoint()
                if time.monotonic() > deadline:
                    self._kill()
                    return self._too_slow()
            reply: _Reply = conn.recv()
        except (EOFError, OSError):
            status = self._kill()
            if status == -signal.SIGALRM:  # its own alarm, when this process was late to look
                return self._too_slow()
            return LoadError(
                f"parser process died (exit status {status})",
                "处理时解析程序意外退出，已停止。文件可能已损坏，请检查后重新上传。",
            )
        except BaseException:
            self._kill()
            raise
        if isinstance(reply, ParsedFile):
            return reply
        outcome, reason, message = reply
        if outcome == "exhausted":
            self._kill()
        return LoadError(reason, message)

    def _too_slow(self) -> LoadError:
        timeout = self.config.timeout_s
        return LoadError(
            f"parse took over {timeout:g} s",
            f"处理超过{timeout:g}秒仍未完成，已停止。请检查文件或拆分后再上传。",
        )

    def close(self) -> None:
        self._kill()

    def _kill(self) -> int | None:
        """Stop the worker (a new one starts for the next document); returns its exit status."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is None:
            return None
        process, self._process = self._process, None
        process.kill()
        return process.wait()

    def _start(self, checkpoint: Callable[[], None]) -> Connection:
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=_worker_environment(),
                stdin=subprocess.DEVNULL,
                # stdout may carry a command's output (`--json`); the worker's warnings go to stderr.
                stdout=subprocess.DEVNULL,
            )
        self._conn = conn = Connection(ours.detach())
        started = time.monotonic()
        try:
            conn.send(self.config)
            while not conn.poll(_POLL_S):
                checkpoint()
                if time.monotonic() - started > _START_TIMEOUT_S:
                    raise RuntimeError(f"the document parser did not start in {_START_TIMEOUT_S:g} s")
            conn.recv()
        except (EOFError, OSError) as exc:
            status = self._kill()
            raise RuntimeError(
                f"the document parser process failed to start (exit status {status}); see its errors above"
            ) from exc
        except BaseException:
            self._kill()
            raise
        return conn


def _worker_environment() -> dict[str, str]:
    """The parent's environment, with this package importable however the parent found it."""
    root = str(Path(__file__).resolve().parent.parent)
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, inherited] if inherited else [root])}


# The worker


def serve() -> None:
    """The worker's loop: a config, then (path, source) requests answered one by one until the parent
    closes the connection."""
    conn = Connection(int(sys.argv[1]))
    # Ctrl-C in a terminal reaches the whole process group; the parent decides, and kills the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config: ParserConfig = conn.recv()
    _limit_memory(config.memory_mb)
    conn.send("ready")
    while True:
        try:
            path, source = conn.recv()
        except EOFError:
            return
        # SIGALRM's default action ends the process even inside C code: a worker whose parent died
        # without killing it (SIGKILL), or is busy elsewhere, stops soon after the document's budget.
        signal.alarm(math.ceil(config.timeout_s) + _ALARM_GRACE_S)
        try:
            reply = _parse(Path(path), source, config)
        except MemoryError:
            conn.send(
                (
                    "exhausted",
                    f"parser went over its memory budget of {config.memory_mb} MB",
                    f"处理时占用内存超过{config.memory_mb}MB，已停止。请检查文件或拆分后再上传。",
                )
            )
            return  # its heap may be left in pieces: a fresh worker takes the next document
        finally:
            signal.alarm(0)
        conn.send(reply)


def _parse(path: Path, source: str, config: ParserConfig) -> _Reply:
    try:
        parsed = load_document(path, config.limits)
        meta = document_meta(parsed, source)
        chunks = chunk_document(parsed, meta, config.chunk_max_chars, config.chunk_min_chars)
    except LoadError as exc:
        return ("refused", exc.reason, exc.message)
    except MemoryError:
        raise
    except Exception as exc:  # a chunker bug on one odd file must not stop the ingest
        return ("refused", f"cannot chunk file: {type(exc).__name__}: {exc}", UNREADABLE)
    if not chunks:
        return ("refused", "no text found", "文件里没有可以读取的文字。")
    if len(chunks) > config.max_chunks:
        return (
            "refused",
            f"{len(chunks)} chunks, over the budget of {config.max_chunks}",
            f"文件太长，分段超过{config.max_chunks}段，请拆成几个文件再上传。",
        )
    return ParsedFile(meta, chunks)


def _limit_memory(megabytes: int) -> None:
    """Cap the address space at the worker's size now plus the budget: past it, allocations fail
    (MemoryError in Python) instead of growing until the machine swaps."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return  # not Linux: the size is unknown, and only the time budget applies
    size = int(statm.read_text().split()[0]) * resource.getpagesize()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + megabytes * 1_000_000
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
