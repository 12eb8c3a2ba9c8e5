"""The knowledge base: catalog (texts + BM25) and vector store, opened from the settings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any

from langchain_core.embeddings import Embeddings

from knowledge.aliases import DocumentAliases
from knowledge.catalog import DocumentRecord, Filters, RejectedDocument, copy_catalog, open_catalog
from knowledge.chunking import Chunk
from knowledge.config import KnowledgeSettings
from knowledge.embeddings import embedder_id, make_embeddings
from knowledge.holders import asked_role
from knowledge.hybrid import FusionWeights, HybridRetriever, SearchHit, SearchMode, fuse
from knowledge.lexical import query_tokens
from knowledge.passages import asked_first, years_in
from knowledge.passages import read_big as read_big_passages
from knowledge.phonetic import pinyin_tokens
from knowledge.vector_text import recipe
from knowledge.vectors import VectorStore, make_client
from zhtext.normalize import normalize_query


class IngestInProgress(RuntimeError):
    """Another process is writing to this knowledge base."""


@dataclass(frozen=True)
class KnowledgeStats:
    documents: int
    chunks: int
    vectors: int
    chars: int
    rejected: int = 0
    """Files the ingest refused (`KnowledgeBase.rejected_documents`)."""
    by_kind: dict[str, int] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    embedder: str = ""
    collection: str = ""
    store: str = ""


class KnowledgeBase:
    def __init__(self, settings: KnowledgeSettings, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self.catalog = open_catalog(settings)
        if embeddings is not None:
            # Pre-fills the cached property below, so a given embedder is used instead of building one.
            self.__dict__["embeddings"] = embeddings
        self.weights = FusionWeights(
            settings.fusion,
            settings.dense_weight,
            settings.lexical_weight,
            settings.fusion_k,
            settings.phonetic_weight,
        )

    @cached_property
    def aliases(self) -> DocumentAliases:
        """The names the documents define (居民医保 for 城乡居民基本医疗保险): a search by one is a search by
        both (knowledge.aliases)."""
        return DocumentAliases(self.catalog)

    @cached_property
    def embeddings(self) -> Embeddings:
        s = self.settings
        return make_embeddings(
            s.embedder,
            model_path=s.embedder_model_path,
            threads=s.embed_threads,
            batch_size=s.embed_batch_size,
            e5_engine=s.e5_engine,
            e5_precision=None if s.e5_precision == "auto" else s.e5_precision,
        )

    @cached_property
    def vector_tokens(self) -> int | None:
        """Tokens each vector embeds (knowledge.vector_text); None: the whole chunk."""
        return self.settings.embed_max_tokens

    @cached_property
    def vectors(self) -> VectorStore:
        client = make_client(self.settings.chroma_url, self.settings.index_dir / "chroma")
        # Vectors of another model or of another text recipe live in a collection of their own: a
        # change of either embeds the knowledge base again instead of mixing vector spaces.
        suffix = recipe(self.vector_tokens)
        name = f"{self.settings.collection_prefix}_{embedder_id(self.embeddings)}"
        return VectorStore(
            client, f"{name}_{suffix}" if suffix else name, self.embeddings, self.settings.dense_search_ef
        )

    def close(self) -> None:
        self.catalog.close()

    @contextmanager
    def writer(self) -> Iterator[None]:
        """One writer at a time (readers are never blocked): per data home, or, with `database_url`,
        across every host sharing the database."""
        with self.catalog.writer_lock() as taken:
            if not taken:
                raise IngestInProgress("another ingest is running on this knowledge base")
            yield

    # Retrieval

    def dense_search(self, query: str, limit: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        vector = self.embeddings.embed_query(normalize_query(query))
        return self.vectors.search(vector, limit, filters)

    def lexical_search(
        self, query: str, limit: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        return self.catalog.lexical_search(query_tokens(normalize_query(query)), limit, filters)

    def phonetic_search(
        self, query: str, limit: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        return self.catalog.lexical_search(
            pinyin_tokens(normalize_query(query)), limit, filters, "chunks_pinyin"
        )

    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode = "hybrid",
        filters: Filters | None = None,
        spoken: bool = False,
        read_big: bool | None = None,
    ) -> list[SearchHit]:
        """`spoken` adds a pinyin-keyed list to the hybrid fusion, for questions that came through speech
        recognition (a misheard character usually keeps its sound). `read_big` (default: the `read_big`
        setting, on) returns k different places of the documents, each hit with its `passage`
        (`places`); off, the k best chunks alone."""
        ranking = self.ranking(query, mode, filters, spoken, k)
        wide = self.settings.read_big if read_big is None else read_big
        return self.places(ranking, k, query) if wide else ranking[:k]

    def ranking(
        self,
        query: str,
        mode: SearchMode = "hybrid",
        filters: Filters | None = None,
        spoken: bool = False,
        k: int = 0,
    ) -> list[SearchHit]:
        """Every candidate chunk the retrievers found (`candidates` each, at least `k`), fused, best
        first, as hits without passages: the list `places` reads big from. The query is searched with the
        other names of each name the documents define in it (knowledge.aliases)."""
        if not query.strip():
            return []
        query = self.aliases.expand(query)
        limit = max(k, self.settings.candidates)
        dense = self.dense_search(query, limit, filters) if mode in ("hybrid", "dense") else []
        lexical = self.lexical_search(query, limit, filters) if mode in ("hybrid", "lexical") else []
        phonetic = self.phonetic_search(query, limit, filters) if spoken and mode == "hybrid" else []
        if mode == "hybrid":
            unembedded = self.pending([chunk_id for chunk_id, _ in lexical]) if lexical else set()
            ranked = fuse(dense, lexical, self.weights, phonetic, unembedded)
        else:
            ranked = dense or lexical
        # Only chunks in the committed catalog count: vectors left by an interrupted ingest are ignored.
        chunks = self.catalog.chunks([chunk_id for chunk_id, _ in ranked[: limit * 2]])
        dense_info = {cid: (rank, score) for rank, (cid, score) in enumerate(dense, start=1)}
        lexical_info = {cid: (rank, score) for rank, (cid, score) in enumerate(lexical, start=1)}
        hits: list[SearchHit] = []
        for chunk_id, score in ranked:
            chunk = chunks.get(chunk_id)
            if chunk is None or (filters is not None and not filters.accepts(chunk)):
                continue
            d_rank, d_score = dense_info.get(chunk_id, (None, None))
            l_rank, l_score = lexical_info.get(chunk_id, (None, None))
            hits.append(SearchHit(chunk, score, d_score, l_score, d_rank, l_rank))
        return hits

    def places(self, ranking: Sequence[SearchHit], k: int, query: str) -> list[SearchHit]:
        """Retrieve small, read big (knowledge.passages): from chunk hits ranked best first, the k best
        different places, each hit with its `passage` (the matched chunk widened with its neighbours)
        and `members`; near repeats are left out, and places whose passage names a year of `query`, or
        the holder of the role it asks about, come first."""
        by_id = {hit.chunk.id: hit for hit in ranking}
        # A neighbour that is among the k best chunks itself (a table's next rows) was matched too.
        best = {hit.chunk.id for hit in ranking[:k]}
        budget = self.passage_chars
        around = lru_cache(maxsize=None)(self._neighbours)
        ordered = asked_first(
            [(h.chunk, h.score) for h in ranking], years_in(query), asked_role(query), budget, around
        )
        return [
            replace(
                by_id[core.id],
                passage=passage,
                members=members,
                also_matched=tuple(by_id[m] for m in members if m in best and m != core.id),
            )
            for passage, core, members in read_big_passages(ordered, k, budget, around)
        ]

    def document_text(self, source: str) -> str:
        """A document's whole text as indexed: its chunks in order."""
        return "\n".join(chunk.text for chunk in self.catalog.chunks_of(source))

    def pending(self, ids: Sequence[str]) -> set[str]:
        """Those of the chunks `ids` still without a vector (a searchable-first ingest is adding them, or
        one was interrupted): the dense search cannot have judged them."""
        collection = self.vectors.name
        if self.catalog.embedded_known(collection):
            return set(ids) - self.catalog.embedded_among(collection, ids)
        return set(ids) - self.vectors.existing(list(ids))

    def share(self, target: KnowledgeBase) -> tuple[int, int]:
        """Copy this knowledge base (catalog, lexical index, officials' corrections and vectors) into
        `target`, the same embedder's stores for several hosts (PostgreSQL and a Chroma server), under
        both writers' locks; returns (chunks, vectors) copied. Nothing is read or embedded again."""
        with self.writer(), target.writer():
            chunks = copy_catalog(self.catalog, target.catalog)
            vectors = self.vectors.copy_to(target.vectors)
        return chunks, vectors

    @property
    def passage_chars(self) -> int:
        """Budget of a returned passage (knowledge.passages); 0 returns the matched chunks alone."""
        return self.settings.passage_chars

    def _neighbours(self, chunk: Chunk, radius: int) -> list[Chunk]:
        return self.catalog.chunks_around(chunk.source, chunk.ordinal, radius)

    def as_retriever(self, **kwargs: Any) -> HybridRetriever:
        return HybridRetriever(knowledge_base=self, **kwargs)

    # Administration

    def documents(self) -> list[DocumentRecord]:
        return self.catalog.documents()

    def remove(self, sources: Sequence[str]) -> list[str]:
        """Remove documents by source path; returns those that were present."""
        with self.writer():
            present = [s for s in sources if self.catalog.document(s) is not None]
            stale = sorted(self.catalog.chunk_ids(present))
            self.catalog.apply([], present)
            self.vectors.delete(stale)
            return present

    def rejected_documents(self) -> list[RejectedDocument]:
        """Files the ingest refused, with why (`message`, in Chinese): they are not read again until they
        change or are forgotten."""
        return self.catalog.rejected_documents()

    def forget_rejected(self, source: str) -> bool:
        """Forget why a file was refused, so the next ingest reads it again (or, once its file is deleted,
        it is gone from the list); false when it was not refused. Raises `IngestInProgress` during an
        ingest, which would write its own verdict."""
        with self.writer():
            return self.catalog.forget_rejected(source)

    def stats(self) -> KnowledgeStats:
        documents = self.catalog.documents()
        by_kind: dict[str, int] = {}
        for doc in documents:
            by_kind[doc.kind] = by_kind.get(doc.kind, 0) + 1
        return KnowledgeStats(
            documents=len(documents),
            chunks=self.catalog.chunk_count(),
            vectors=self.vectors.count(),
            chars=sum(d.chars for d in documents),
            rejected=self.catalog.rejected_count(),
            by_kind=by_kind,
            regions=sorted({d.region for d in documents if d.region}),
            embedder=embedder_id(self.embeddings),
            collection=self.vectors.name,
            store=self.settings.chroma_url or str(self.settings.index_dir / "chroma"),
        )
