"""The shared-index mode: a real `chroma run` server started by the test, used by two workers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from xiangyin.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert executable, "the chromadb package installs the `chroma` command"
    port = _free_port()
    process = subprocess.Popen(
        [
            executable,
            "run",
            "--path",
            str(tmp_path / "chroma-server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, "chroma run exited"
            assert time.monotonic() < deadline, "chroma run did not start"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_two_workers_share_one_index_through_the_chroma_server(
    chroma_url: str, corpus: Path, tmp_path: Path, embeddings: Embeddings
) -> None:
    settings = Settings(home=tmp_path / "home", chroma_url=chroma_url)
    writer = KnowledgeBase(settings, embeddings)
    reader = KnowledgeBase(settings, embeddings)
    try:
        report = ingest(writer, [corpus])
        assert report.embedded == report.chunks > 0
        assert not (settings.index_dir / "chroma").exists()  # vectors live in the server, not locally
        stats = reader.stats()
        assert stats.vectors == stats.chunks == report.chunks
        assert stats.store == chroma_url
        hits = reader.search("低保一个月能领多少", k=3)
        assert hits[0].chunk.source == "policy/dibao.txt"
        assert hits[0].dense_score is not None

        (corpus / "policy" / "dibao.txt").unlink()
        assert ingest(writer, [corpus]).removed == ["policy/dibao.txt"]
        assert all(h.chunk.source != "policy/dibao.txt" for h in reader.search("低保一个月能领多少", k=5))
        assert reader.vectors.all_ids() == reader.catalog.chunk_ids()
    finally:
        writer.close()
        reader.close()
