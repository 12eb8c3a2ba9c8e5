"""Retrieval side by side: a plain Langchain-Chatchat-style pipeline against ours, on every set.

`python -m benchmarks --only retrieval` prints hit@1, hit@5 and MRR@10 for each set (domainrag, the demo
golden set and the two lay-question sets), on its tuning half, its held-back half and all of it.

The baseline row is the few lines of LangChain a Langchain-Chatchat deployment runs: the documents' text
cut by `RecursiveCharacterTextSplitter` (750 characters, 150 overlap, Chinese separators), LangChain's
`BM25Retriever` over jieba words (rank-bm25), an in-memory vector store with our e5 embedder, and
`EnsembleRetriever` fusing the two 50/50 (weighted reciprocal rank). Its chunk vectors are cached on
disk (LangChain's `CacheBackedEmbeddings`), so only the first run embeds (~10 minutes for domainrag on
two cores). Ours is `KnowledgeBase.search` on the question as the assistant sends it (villagers' words
mapped by `assistant.normalize.normalize_question`), over an index built by `xiangyin ingest`, in two
rows: the matched chunks alone (what the assistant read before issue 15) and `read_big=True` passages (each
matched chunk widened with its neighbours, knowledge.passages).

A hit is scored by `evals.metrics` (the same definition as `xiangyin eval`): a returned passage contains
one of the case's evidence strings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import table
from evals.cases import Case, load_cases, load_rewordings
from evals.metrics import first_relevant_rank, hit_at, passage_relevant, percentile, reciprocal_rank

Ranking = list[tuple[str, str]]
"""(source, text) of the returned passages, best first."""
Say = Callable[[str], None]

SPLITS = ("tune", "held")


@dataclass
class EvalSet:
    name: str
    corpus: Path
    cases: list[Case]
    split: dict[str, str] = field(default_factory=dict)
    """Case id -> "tune" or "held": settings are chosen on the tuning half only."""


def parity_split(cases: Sequence[Case]) -> dict[str, str]:
    """Even lines tune, odd lines are held back (the halves benchmarks/quality.py already reports)."""
    return {case.id: SPLITS[i % 2] for i, case in enumerate(cases)}


def answerable(cases: Sequence[Case]) -> list[Case]:
    return [c for c in cases if c.evidence and not c.should_refuse]


def load_sets(root: Path, domainrag: Path) -> list[EvalSet]:
    sets: list[EvalSet] = []
    demo_cases = answerable(load_cases(root / "evals" / "demo_cases.jsonl"))
    demo_split = parity_split(demo_cases)
    if (domainrag / "cases.jsonl").exists():
        dr_cases = answerable(load_cases(domainrag / "cases.jsonl"))
        dr_split = parity_split(dr_cases)
        sets.append(EvalSet("domainrag", domainrag / "corpus", dr_cases, dr_split))
        lay_path = root / "evals" / "lay_domainrag.jsonl"
        if lay_path.exists():
            lay, split = load_rewordings(lay_path, dr_cases)
            _check_split(lay_path, lay, split, dr_split)
            sets.append(EvalSet("lay domainrag", domainrag / "corpus", lay, split))
    sets.append(EvalSet("demo", root / "knowledge" / "demo", demo_cases, demo_split))
    lay_demo = root / "evals" / "lay_demo.jsonl"
    if lay_demo.exists():
        lay, split = load_rewordings(lay_demo, demo_cases)
        _check_split(lay_demo, lay, split, demo_split)
        sets.append(EvalSet("lay demo", root / "knowledge" / "demo", lay, split))
    return sets


def _check_split(path: Path, lay: Sequence[Case], split: dict[str, str], base: dict[str, str]) -> None:
    """A lay case is in the half of the case it rewrites, so tuning never sees a held question twice."""
    for case in lay:
        original = case.id.removeprefix("lay-")
        if split[case.id] != base.get(original, split[case.id]):
            raise ValueError(f"{path}: {case.id} is in the {split[case.id]} half, its original is not")


@dataclass(frozen=True)
class Scores:
    n: int
    hit1: float
    hit5: float
    mrr10: float


def score(cases: Sequence[Case], rankings: Sequence[Ranking]) -> Scores:
    """hit@1, hit@5 and MRR@10 with the evaluation harness's relevance rule (evals.metrics)."""
    ranks = [
        first_relevant_rank([passage_relevant(text, source, c.evidence, c.sources) for source, text in r])
        for c, r in zip(cases, rankings, strict=True)
    ]
    n = max(len(ranks), 1)
    return Scores(
        len(ranks),
        sum(hit_at(r, 1) for r in ranks) / n,
        sum(hit_at(r, 5) for r in ranks) / n,
        sum(reciprocal_rank(r, 10) for r in ranks) / n,
    )


def halves(s: EvalSet, rankings: Sequence[Ranking]) -> dict[str, Scores]:
    out = {}
    for half in SPLITS:
        chosen = [i for i, c in enumerate(s.cases) if s.split.get(c.id) == half]
        out[half] = score([s.cases[i] for i in chosen], [rankings[i] for i in chosen])
    out["all"] = score(s.cases, rankings)
    return out


# The baseline


def document_text(path: Path) -> str:
    """A file's text as a loader hands it to a splitter: our parser's blocks (tables as self-describing
    rows, so both pipelines read the same words), paragraphs separated by blank lines."""
    from knowledge.chunking import render_table
    from knowledge.loaders import load_document

    parts = []
    for block in load_document(path).blocks:
        if block.kind == "table":
            parts.append("\n".join(render_table(block.rows, block.header)))
        elif block.text.strip():
            parts.append(block.text.strip())
    return "\n\n".join(parts)


class BaselinePipeline:
    """The plain LangChain pipeline, built once per corpus."""

    def __init__(self, corpus: Path, cache: Path, k: int = 10) -> None:
        import jieba
        from langchain_classic.embeddings import CacheBackedEmbeddings
        from langchain_classic.retrievers import EnsembleRetriever
        from langchain_classic.storage import LocalFileStore
        from langchain_community.retrievers import BM25Retriever
        from langchain_core.documents import Document
        from langchain_core.vectorstores import InMemoryVectorStore
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from knowledge.embeddings import E5Embeddings
        from knowledge.ingest import discover

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=750,
            chunk_overlap=150,
            separators=["\n\n", "\n", "。", "！", "？", "；", "，", " ", ""],
            keep_separator="end",
        )
        documents = [
            Document(page_content=document_text(f.path), metadata={"source": f.source})
            for f in discover([corpus])
        ]
        self.chunks = splitter.split_documents(documents)
        self.e5 = E5Embeddings()
        cached = CacheBackedEmbeddings.from_bytes_store(
            self.e5,
            LocalFileStore(str(cache)),
            namespace=self.e5.model_id,
            key_encoder="sha256",
            batch_size=32,  # written to disk batch by batch: an interrupted first run keeps its work
        )
        started = time.perf_counter()
        store = InMemoryVectorStore.from_documents(self.chunks, cached)
        self.embed_seconds = time.perf_counter() - started
        jieba.setLogLevel(60)
        bm25 = BM25Retriever.from_documents(self.chunks, preprocess_func=jieba.lcut, k=k)
        self.retriever = EnsembleRetriever(
            retrievers=[bm25, store.as_retriever(search_kwargs={"k": k})], weights=[0.5, 0.5]
        )
        self.k = k

    def rank(self, question: str) -> Ranking:
        docs = self.retriever.invoke(question)[: self.k]
        return [(str(d.metadata["source"]), d.page_content) for d in docs]


# Ours


@dataclass
class OursRun:
    rankings: list[Ranking]
    latencies_ms: list[float]


def rank_ours(kb: object, questions: Sequence[str], k: int = 10, read_big: bool = True) -> OursRun:
    """Our hybrid search on each question as the assistant sends it (villagers' words mapped to the
    documents' by the synonym table), scored on what a reader gets: the passages with `read_big`, the
    matched chunks without."""
    from assistant.normalize import normalize_question
    from knowledge.base import KnowledgeBase

    assert isinstance(kb, KnowledgeBase)
    rankings, latencies = [], []
    for question in questions:
        query = normalize_question(question)
        started = time.perf_counter()
        hits = kb.search(query, k=k, read_big=read_big)
        latencies.append((time.perf_counter() - started) * 1000)
        rankings.append([(h.chunk.source, h.text) for h in hits])
    return OursRun(rankings, latencies)


def open_ours(corpus: Path, home: Path, say: Say) -> object:
    from knowledge.base import KnowledgeBase
    from knowledge.ingest import ingest
    from xiangyin.settings import Settings

    kb = KnowledgeBase(Settings(home=home))
    report = ingest(kb, [corpus])
    if report.embedded:
        rate = report.embedded / max(report.seconds, 1e-9)
        say(f"  ingested {corpus.name}: {report.embedded} chunks embedded, {rate:.2f} chunks/s")
    return kb


RETRIEVERS = ("baseline", "ours, chunks", "ours, read big")


def main(root: Path, domainrag: Path, home: Path, say: Say) -> dict[str, object]:
    """Every set, baseline and ours, on each half. `home` holds our indexes (one per corpus) and the
    baseline's embedding cache, reused by later runs."""
    sets = load_sets(root, domainrag)
    baselines: dict[Path, BaselinePipeline] = {}
    ours: dict[Path, object] = {}
    rows: list[tuple[object, ...]] = []
    summary: dict[str, object] = {}
    latencies: dict[str, list[float]] = {"chunks": [], "read big": []}
    for s in sets:
        if s.corpus not in baselines:
            say(f"baseline over {s.corpus} (first run embeds every chunk; later runs read the cache)...")
            baselines[s.corpus] = BaselinePipeline(s.corpus, home / "baseline-cache")
            ours[s.corpus] = open_ours(s.corpus, home / f"ours-{s.corpus.parent.name}-{s.corpus.name}", say)
        questions = [c.question for c in s.cases]
        chunks = rank_ours(ours[s.corpus], questions, read_big=False)
        passages = rank_ours(ours[s.corpus], questions, read_big=True)
        latencies["chunks"].extend(chunks.latencies_ms)
        latencies["read big"].extend(passages.latencies_ms)
        scored = {
            "baseline": halves(s, [baselines[s.corpus].rank(q) for q in questions]),
            "ours, chunks": halves(s, chunks.rankings),
            "ours, read big": halves(s, passages.rankings),
        }
        for half in (*SPLITS, "all"):
            base = scored["baseline"][half]
            for name in RETRIEVERS:
                mine = scored[name][half]
                wins = "" if name == "baseline" else _wins(base, mine)
                rows.append((s.name, half, mine.n, name, *_cells(mine), wins))
        summary[s.name] = {
            name: {h: v.__dict__ for h, v in by_half.items()} for name, by_half in scored.items()
        }
    say(
        "\nRetrieval: baseline = LangChain 750/150 splitter, jieba BM25 + e5, EnsembleRetriever 50/50;"
        " ours = hybrid search on the question with the synonym table"
    )
    say(table(["set", "half", "cases", "retriever", "hit@1", "hit@5", "MRR@10", "beats baseline"], rows))
    for name, values in latencies.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        say(f"our hybrid search, {name}, per question: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        summary[f"query_ms {name}"] = {"p50": p50, "p95": p95}
    return summary


def _cells(s: Scores) -> tuple[float, float, float]:
    return (s.hit1, s.hit5, s.mrr10)


def _wins(base: Scores, ours: Scores) -> str:
    """ "yes" when ours is ahead on hit@1, hit@5 and MRR@10 alike."""
    return "yes" if all(o > b for o, b in zip(_cells(ours), _cells(base), strict=True)) else "no"
