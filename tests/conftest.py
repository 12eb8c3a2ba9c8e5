from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from ground.postgres import close_pools
from ground.postgres_cluster import Cluster, postgres_cluster
from knowledge.base import KnowledgeBase
from knowledge.embeddings import E5Embeddings
from knowledge.ingest import IngestReport, ingest
from tests.corpus import write_corpus
from xiangyin.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own XIANGYIN_* variables must not change what the tests see."""
    for name in list(os.environ):
        if name.startswith("XIANGYIN_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def embeddings() -> Embeddings:
    """The real offline default embedder, loaded once for the whole run."""
    return E5Embeddings(threads=2)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


@pytest.fixture
def kb(settings: Settings, embeddings: Embeddings) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(settings, embeddings)
    yield base
    base.close()


@pytest.fixture
def loaded(kb: KnowledgeBase, corpus: Path) -> tuple[KnowledgeBase, IngestReport]:
    return kb, ingest(kb, [corpus])


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[KnowledgeBase]:
    """One ingested corpus for read-only retrieval tests."""
    root = tmp_path_factory.mktemp("shared")
    base = KnowledgeBase(Settings(home=root / "home"), embeddings)
    ingest(base, [write_corpus(root / "docs")])
    yield base
    base.close()


DEMO = Path(__file__).resolve().parent.parent / "knowledge" / "demo"


@pytest.fixture(scope="session")
def demo_kb(tmp_path_factory: pytest.TempPathFactory, embeddings: Embeddings) -> Iterator[KnowledgeBase]:
    """The whole demo knowledge base, ingested once per test run (about a minute with e5)."""
    root = tmp_path_factory.mktemp("demo")
    base = KnowledgeBase(Settings(home=root / "home"), embeddings)
    ingest(base, [DEMO])
    yield base
    base.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throw-away PostgreSQL cluster (Debian's package) for the whole run, started on first use."""
    with postgres_cluster() as cluster:
        yield cluster
    close_pools()


@pytest.fixture
def database_url(postgres: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database of that cluster for one test; this process's pools to it closed after."""
    name = "t" + str(abs(hash(request.node.nodeid)))[:12] + str(os.getpid())
    url = postgres.create_database(name)
    yield url
    close_pools(url)
