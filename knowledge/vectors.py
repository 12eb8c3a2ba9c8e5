"""Dense vectors in Chroma: embedded `PersistentClient`, or a shared `chroma run` server by URL."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import chromadb
import chromadb.errors
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings

from knowledge.catalog import Filters
from knowledge.chunking import Chunk

log = logging.getLogger(__name__)

_BATCH = 1000
_MODIFY_ATTEMPTS = 6

EMBED_HASH_KEY = "embed_hash"
"""Metadata key of each vector: the hash of the normalised text it embeds (`knowledge.ingest.embed_hash`),
so a chunk whose text is already embedded reuses that vector instead of embedding it again."""


class LangChainEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our LangChain embedder as Chroma's embedding function, so Chroma never falls back to its
    downloading default model."""

    def __init__(self, embeddings: Embeddings) -> None:
        self._embeddings = embeddings

    def __call__(self, input: Documents) -> Any:
        return self._embeddings.embed_documents(list(input))

    def embed_query(self, input: Documents) -> Any:
        return [self._embeddings.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "xiangyin"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LangChainEmbeddingFunction:
        raise NotImplementedError("xiangyin collections are always opened with their embedder")


def make_client(chroma_url: str | None, path: Path) -> ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _where(filters: Filters | None) -> dict[str, Any] | None:
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.kind:
        clauses.append({"kind": filters.kind})
    if filters.region:
        clauses.append({"$or": [{"region": filters.region}, {"region": ""}]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class VectorStore:
    """One Chroma collection per embedding model, so switching models never mixes vector spaces."""

    def __init__(self, client: ClientAPI, name: str, embeddings: Embeddings, search_ef: int = 400) -> None:
        self.name = name
        self._embeddings = embeddings
        self._collection: Collection = client.get_or_create_collection(
            name=name,
            embedding_function=LangChainEmbeddingFunction(embeddings),  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine"},
        )
        # HNSW is approximate: at Chroma's default breadth (100) some questions got 40 copies of one
        # re-published notice instead of the nearest chunks, and which ones changed from process to
        # process. A wider search returns the exact nearest on every question measured (knowledge
        # settings, `dense_search_ef`). Set on collections made before, too.
        if self.search_ef != search_ef:
            self._widen_search(search_ef)

    def _widen_search(self, search_ef: int) -> None:
        # Chroma's embedded SQLite once answered this write "database is locked" at once, with nothing
        # else writing (a clean-clone CI run, on a collection made narrower before): a busy answer that
        # SQLite does not wait out itself, so the write is tried again after a short pause.
        for attempt in range(_MODIFY_ATTEMPTS):
            try:
                self._collection.modify(configuration={"hnsw": {"ef_search": search_ef}})
                return
            except chromadb.errors.InternalError as error:
                if "database is locked" not in str(error) or attempt == _MODIFY_ATTEMPTS - 1:
                    raise
                log.warning("Chroma database locked while widening the search of %s; trying again", self.name)
                time.sleep(0.05 * 2**attempt)

    @property
    def search_ef(self) -> int | None:
        """The collection's HNSW search breadth (ef_search)."""
        hnsw = (self._collection.configuration_json or {}).get("hnsw") or {}
        value = hnsw.get("ef_search")
        return int(value) if value is not None else None

    def count(self) -> int:
        return self._collection.count()

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            found.update(self._collection.get(ids=list(ids[start : start + _BATCH]), include=[])["ids"])
        return found

    def all_ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=_BATCH * 10, offset=offset)["ids"]
            found.update(page)
            if len(page) < _BATCH * 10:
                return found
            offset += len(page)

    def add(
        self,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        hashes: Sequence[str] | None = None,
    ) -> None:
        """Store the chunks' vectors; `hashes` (one per chunk) records what text each one embeds."""
        for start in range(0, len(chunks), _BATCH):
            part = chunks[start : start + _BATCH]
            metadatas: list[dict[str, Any]] = [dict(c.metadata()) for c in part]
            if hashes is not None:
                for metadata, digest in zip(metadatas, hashes[start : start + _BATCH], strict=True):
                    metadata[EMBED_HASH_KEY] = digest
            self._collection.upsert(
                ids=[c.id for c in part],
                embeddings=cast(Any, [list(v) for v in vectors[start : start + _BATCH]]),
                metadatas=cast(Any, metadatas),
            )

    def by_hash(self, hashes: Sequence[str]) -> dict[str, list[float]]:
        """A stored vector for each of the given text hashes that has one (vectors written before text
        hashes were recorded have none and are simply not found)."""
        found: dict[str, list[float]] = {}
        unique = list(dict.fromkeys(hashes))
        step = 200  # an `$in` list per query: Chroma turns it into one SQL IN clause
        for start in range(0, len(unique), step):
            part = unique[start : start + step]
            result = self._collection.get(
                where=cast(Any, {EMBED_HASH_KEY: {"$in": part}}),
                include=cast(Any, ["embeddings", "metadatas"]),
            )
            embeddings = result.get("embeddings")
            metadatas = result.get("metadatas") or []
            if embeddings is None:
                continue
            for metadata, vector in zip(metadatas, embeddings, strict=True):
                digest = str((metadata or {}).get(EMBED_HASH_KEY, ""))
                if digest and digest not in found:
                    found[digest] = [float(x) for x in vector]
        return found

    def copy_to(self, other: VectorStore) -> int:
        """Every vector, with its metadata, into `other` (another client's collection of the same
        embedder, e.g. a Chroma server's); returns how many. Nothing is embedded again."""
        copied = 0
        offset = 0
        while True:
            page = self._collection.get(
                include=cast(Any, ["embeddings", "metadatas"]), limit=_BATCH * 10, offset=offset
            )
            ids = page["ids"]
            if ids:
                embeddings = page.get("embeddings")
                other._collection.upsert(
                    ids=ids,
                    embeddings=cast(Any, [list(v) for v in (embeddings if embeddings is not None else [])]),
                    metadatas=cast(Any, page.get("metadatas")),
                )
                copied += len(ids)
            if len(ids) < _BATCH * 10:
                return copied
            offset += len(ids)

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._collection.delete(ids=list(ids[start : start + _BATCH]))

    def search(
        self, vector: Sequence[float], limit: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        if limit <= 0:
            return []
        result = self._collection.query(
            query_embeddings=cast(Any, [list(vector)]),
            n_results=limit,
            where=cast(Any, _where(filters)),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]
