"""Fusing dense and lexical rankings, and the LangChain retriever over the knowledge base."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from knowledge.catalog import Filters
from knowledge.chunking import Chunk

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

SearchMode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class SearchHit:
    chunk: Chunk
    """The chunk that matched the question."""
    score: float
    """The fused score (hybrid) or the single retriever's score; higher is better."""
    dense_score: float | None = None
    """Cosine similarity of the passage to the question, when the dense retriever found it."""
    lexical_score: float | None = None
    """BM25 score, when the lexical retriever found it."""
    dense_rank: int | None = None
    lexical_rank: int | None = None
    passage: Chunk | None = None
    """With `search(read_big=True)`: the matched chunk widened with its neighbours into one passage of
    consecutive chunks (knowledge.passages), with the matched chunk's id, title and section."""
    members: tuple[str, ...] = ()
    """Ids of the chunks the passage is made of, in document order, the matched one among them."""
    matched: Chunk | None = None
    """Set by `widened()`: the chunk the question matched, while `chunk` is the passage around it."""
    also_matched: tuple[SearchHit, ...] = ()
    """Other members of the passage that are among the k best chunks themselves (a table's next rows),
    each with its own score: matched by the question, not just read around the match."""

    def widened(self) -> SearchHit:
        """The hit with its passage as the chunk to read and cite (the matched chunk kept as `matched`),
        for readers that know only `chunk`."""
        if self.passage is None:
            return self
        return replace(self, chunk=self.passage, passage=None, matched=self.chunk)

    @property
    def text(self) -> str:
        """What to read: the passage when there is one, else the matched chunk."""
        return (self.passage or self.chunk).text

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.chunk.id,
            "source": self.chunk.source,
            "title": self.chunk.title,
            "section": self.chunk.section,
            "kind": self.chunk.kind,
            "region": self.chunk.region,
            "valid_from": self.chunk.valid_from,
            "valid_to": self.chunk.valid_to,
            "text": self.chunk.text,
            "score": round(self.score, 6),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 6),
            "dense_rank": self.dense_rank,
            "lexical_rank": self.lexical_rank,
        }


FusionMethod = Literal["score", "rrf"]


@dataclass(frozen=True)
class FusionWeights:
    """How two ranked lists become one.

    "score": a weighted sum of each list's scores scaled to [0, 1] over its candidates (a passage missing
    from a list gets 0 there). "rrf": weighted reciprocal rank fusion, sum of weight / (k + rank).
    Score fusion beat every RRF setting tried on shared/data/domainrag (benchmarks/quality.py); the
    equal weights are chosen on end-to-end answer accuracy (benchmarks/answers.py, README)."""

    method: FusionMethod = "score"
    dense: float = 0.5
    lexical: float = 0.5
    k: int = 60
    phonetic: float = 0.0
    """Weight of the pinyin list, used for spoken questions only."""


def _scaled(ranking: Sequence[tuple[str, float]]) -> dict[str, float]:
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    if high - low < 1e-12:
        return {chunk_id: 1.0 for chunk_id, _ in ranking}
    return {chunk_id: (score - low) / (high - low) for chunk_id, score in ranking}


def fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    weights: FusionWeights,
    phonetic: Sequence[tuple[str, float]] = (),
    unembedded: Collection[str] = (),
) -> list[tuple[str, float]]:
    """Fuse ranked lists of (id, score), best first, into one list of (id, fused score). A chunk in
    `unembedded` has no vector yet, so the dense list could not rank it: its lexical score stands in for
    the dense one instead of counting as zero (a document uploaded a minute ago is not second to every
    embedded one)."""
    fused: dict[str, float] = {}
    for ranking, weight in ((dense, weights.dense), (lexical, weights.lexical), (phonetic, weights.phonetic)):
        if weights.method == "rrf":
            for rank, (chunk_id, _) in enumerate(ranking, start=1):
                boost = weights.dense if ranking is lexical and chunk_id in unembedded else 0.0
                fused[chunk_id] = fused.get(chunk_id, 0.0) + (weight + boost) / (weights.k + rank)
        else:
            for chunk_id, scaled in _scaled(ranking).items():
                boost = weights.dense if ranking is lexical and chunk_id in unembedded else 0.0
                fused[chunk_id] = fused.get(chunk_id, 0.0) + (weight + boost) * scaled
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the knowledge base: dense + BM25 fused, with metadata filters."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    knowledge_base: Any
    k: int = 5
    mode: SearchMode = "hybrid"
    kind: str | None = None
    region: str | None = None
    read_big: bool | None = None
    """Documents are the matched chunks widened with their neighbours (knowledge.passages); the matched
    chunk's own text is then in the metadata as `matched_text`. Default: the `read_big` setting (on)."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        kb: KnowledgeBase = self.knowledge_base
        filters = Filters(kind=self.kind, region=self.region)
        hits = kb.search(query, k=self.k, mode=self.mode, filters=filters, read_big=self.read_big)
        documents = []
        for hit in hits:
            metadata = hit.as_dict()
            text = metadata.pop("text")
            if hit.passage is not None:
                metadata["matched_text"], text = text, hit.passage.text
            documents.append(Document(page_content=text, metadata=metadata, id=hit.chunk.id))
        return documents
