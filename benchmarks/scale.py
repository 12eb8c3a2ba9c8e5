"""Speed and memory: ingest throughput on the demo set, and query latency at 1k / 10k / 100k chunks.

Embedding 100k chunks with e5 on two cores would take hours, so the large indexes are grown
synthetically: every synthetic chunk is a demo chunk with its numbers and village names changed (real
text for BM25) and the demo chunk's real vector plus small noise (distinct vectors for the HNSW index).
Query latency depends on the index size, not on where the vectors came from.
"""

from __future__ import annotations

import random
import re
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt

from benchmarks.report import table
from evals.metrics import percentile
from knowledge.base import KnowledgeBase
from knowledge.catalog import DocumentRecord, DocumentUpdate
from knowledge.chunking import Chunk
from knowledge.ingest import ingest
from knowledge.lexical import lexical_tokens
from knowledge.phonetic import pinyin_tokens
from xiangyin.settings import Settings

VILLAGES = [
    "桃源村",
    "石桥村",
    "柳湾村",
    "青山村",
    "白沙村",
    "杏林村",
    "竹溪村",
    "枫林村",
    "金田村",
    "云岭村",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_ingest(
    demo: Path, embedders: Sequence[str], say: Callable[[str], None]
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for embedder in embedders:
        with tempfile.TemporaryDirectory() as home:
            kb = KnowledgeBase(Settings(home=Path(home), embedder=embedder))  # type: ignore[arg-type]
            try:
                kb.embeddings.embed_query("预热")  # model load is not ingest work
                report = ingest(kb, [demo])
                again = ingest(kb, [demo])
            finally:
                kb.close()
        rows.append((embedder, report.chunks, report.seconds, report.chunks / report.seconds, again.seconds))
        say(f"ingest with {embedder}: {report.chunks} chunks in {report.seconds:.1f} s")
    return rows


def _vary(text: str, rng: random.Random) -> str:
    text = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), text)
    return re.sub("|".join(VILLAGES), lambda _: rng.choice(VILLAGES), text)


def _grow(
    kb: KnowledgeBase, base: list[Chunk], vectors: npt.NDArray[np.float32], target: int, rng: random.Random
) -> None:
    """Add synthetic documents of 100 chunks each until the catalog holds `target` chunks."""
    have = kb.catalog.chunk_count()
    doc = have // 100
    while have < target:
        size = min(100, target - have)
        source = f"synthetic/doc{doc:06d}.txt"
        picks = [rng.randrange(len(base)) for _ in range(size)]
        chunks = [
            replace(base[p], id=f"syn{doc:06d}-{n}", source=source, ordinal=n, text=_vary(base[p].text, rng))
            for n, p in enumerate(picks)
        ]
        noisy = vectors[picks] + np.random.default_rng(doc).normal(0, 0.03, (size, vectors.shape[1]))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        kb.vectors.add(chunks, noisy.tolist())
        record = DocumentRecord(
            source,
            "synthetic",
            str(doc),
            "synthetic",
            "合成文档",
            "policy",
            "",
            "",
            "",
            size,
            sum(len(c.text) for c in chunks),
        )
        kb.catalog.apply(
            [
                DocumentUpdate(
                    record,
                    chunks,
                    [lexical_tokens(c.embedding_text()) for c in chunks],
                    [pinyin_tokens(c.embedding_text()) for c in chunks],
                )
            ],
            [],
        )
        have += size
        doc += 1


def _latency(fn: Callable[[str], object], questions: Sequence[str]) -> tuple[float, float]:
    times = []
    for question in questions:
        started = time.perf_counter()
        fn(question)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95)


def _bm25s_latency(kb: KnowledgeBase, questions: Sequence[str]) -> tuple[float, tuple[float, float]]:
    """The alternative lexical index: bm25s over the same tokens. It has no incremental update, so its
    whole index is rebuilt (seconds returned) whenever a document changes."""
    corpus = [tokens for _, tokens in kb.catalog.indexed_tokens()]
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    rebuild = time.perf_counter() - started

    def query(question: str) -> object:
        return retriever.retrieve([lexical_tokens(question) or ["的"]], k=40, show_progress=False)

    return rebuild, _latency(query, questions)


def measure_latency(
    demo: Path, questions: Sequence[str], sizes: Sequence[int], say: Callable[[str], None]
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as home:
        kb = KnowledgeBase(Settings(home=Path(home)))
        try:
            ingest(kb, [demo])
            base = [c for d in kb.documents() for c in kb.catalog.chunks_of(d.source)]
            vectors = np.asarray(
                kb.embeddings.embed_documents([c.embedding_text() for c in base]), dtype=np.float32
            )
            for size in sizes:
                started = time.perf_counter()
                _grow(kb, base, vectors, size, rng)
                seconds = time.perf_counter() - started
                say(f"grew the index to {kb.catalog.chunk_count()} chunks in {seconds:.0f} s")
                for q in questions[:3]:  # warm caches
                    kb.search(q)
                dense = _latency(lambda q: kb.dense_search(q, 40), questions)
                lexical = _latency(lambda q: kb.lexical_search(q, 40), questions)
                hybrid = _latency(lambda q: kb.search(q, k=5), questions)
                rebuild, alternative = _bm25s_latency(kb, questions)
                rows.append((size, *dense, *lexical, *hybrid, alternative[0], rebuild, peak_rss_mb()))
        finally:
            kb.close()
    return rows


def main(
    demo: Path,
    questions: Sequence[str],
    sizes: Sequence[int],
    embedders: Sequence[str],
    say: Callable[[str], None],
) -> None:
    baseline = peak_rss_mb()
    ingest_rows = measure_ingest(demo, embedders, say)
    say("\nIngest of the demo knowledge base (parse, chunk, embed, index):")
    say(table(["embedder", "chunks", "seconds", "chunks/s", "re-ingest s (unchanged)"], ingest_rows))
    latency_rows = measure_latency(demo, questions, sizes, say)
    say(f"\nQuery latency in ms ({len(questions)} demo questions, e5 embedder, top 40 per retriever):")
    say(
        table(
            [
                "chunks",
                "dense p50",
                "dense p95",
                "BM25 p50",
                "BM25 p95",
                "hybrid p50",
                "hybrid p95",
                "bm25s p50",
                "bm25s rebuild s",
                "peak RSS MB",
            ],
            latency_rows,
        )
    )
    say(f"(process peak RSS before the benchmarks: {baseline:.0f} MB)")
