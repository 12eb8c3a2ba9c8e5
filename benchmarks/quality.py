"""Retrieval quality on shared/data/domainrag: hit@1, hit@5 and MRR@10 for dense, BM25 and hybrid.

A hit means a returned chunk contains one of the case's `evidence` strings, scored with the evaluation
harness's functions (evals.metrics) over the cases that give evidence. Each embedder indexes the
corpus once into its own data home under benchmarks/results/ (later runs reuse it incrementally).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from benchmarks.report import table
from evals.cases import Case, load_cases
from evals.metrics import (
    RANKING_DEPTH,
    first_relevant_rank,
    hit_at,
    mean,
    passage_relevant,
    reciprocal_rank,
)
from knowledge.base import KnowledgeBase
from knowledge.hybrid import FusionWeights, fuse
from knowledge.ingest import ingest
from knowledge.lexical import lexical_tokens
from xiangyin.settings import Settings
from zhtext.normalize import normalize_query

Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class Scores:
    hit1: float
    hit5: float
    mrr10: float


def score(cases: Sequence[Case], rankings: Sequence[Sequence[str]], texts: dict[str, str]) -> Scores:
    """`rankings[i]` is the ranked chunk ids returned for `cases[i]`. Only chunk texts are at hand, so
    a case is judged by its evidence alone (the harness's rule for a case that gives evidence)."""
    ranks = [
        first_relevant_rank(
            [passage_relevant(texts[cid], "", case.evidence, []) for cid in ranking[:RANKING_DEPTH]]
        )
        for case, ranking in zip(cases, rankings, strict=True)
        if case.evidence
    ]
    return Scores(
        mean([hit_at(r, 1) for r in ranks]) or 0.0,
        mean([hit_at(r, 5) for r in ranks]) or 0.0,
        mean([reciprocal_rank(r, RANKING_DEPTH) for r in ranks]) or 0.0,
    )


@dataclass
class EmbedderRun:
    embedder: str
    chunks: int
    embed_rate: float | None
    dense: list[Ranked]
    lexical: list[Ranked]
    bm25s: list[list[str]]
    texts: dict[str, str]
    query_ms: float


def run_embedder(
    embedder: str, corpus: Path, cases: Sequence[Case], results: Path, depth: int = 40
) -> EmbedderRun:
    settings = Settings(home=results / f"domainrag-{embedder}", embedder=embedder)  # type: ignore[arg-type]
    kb = KnowledgeBase(settings)
    try:
        report = ingest(kb, [corpus])
        rate = report.embedded / report.seconds if report.embedded > 100 else None
        started = time.perf_counter()
        dense = [kb.dense_search(c.question, depth) for c in cases]
        query_ms = (time.perf_counter() - started) / len(cases) * 1000
        lexical = [kb.lexical_search(c.question, depth) for c in cases]
        alternative = bm25s_rankings(kb, cases, depth)
        found = {cid for ranked in (*dense, *lexical) for cid, _ in ranked} | {
            c for r in alternative for c in r
        }
        texts = {cid: chunk.text for cid, chunk in kb.catalog.chunks(sorted(found)).items()}
        return EmbedderRun(
            embedder, kb.catalog.chunk_count(), rate, dense, lexical, alternative, texts, query_ms
        )
    finally:
        kb.close()


def bm25s_rankings(kb: KnowledgeBase, cases: Sequence[Case], depth: int = 40) -> list[list[str]]:
    """The same tokens ranked by the bm25s library, to compare with SQLite FTS5's bm25()."""
    indexed = kb.catalog.indexed_tokens()
    retriever = bm25s.BM25()
    retriever.index([tokens for _, tokens in indexed], show_progress=False)
    rankings = []
    for case in cases:
        tokens = lexical_tokens(normalize_query(case.question)) or ["的"]
        docs, _ = retriever.retrieve([tokens], k=depth, show_progress=False)
        rankings.append([indexed[int(i)][0] for i in np.asarray(docs)[0]])
    return rankings


def ids(ranked: Ranked) -> list[str]:
    return [cid for cid, _ in ranked]


def sweep_fusion(
    run: EmbedderRun, cases: Sequence[Case]
) -> list[tuple[FusionWeights, Scores, Scores, Scores]]:
    """Every fusion setting tried, with scores on all cases and on each half (even / odd lines), so a
    setting that only wins on one half shows up as unstable."""
    settings = [
        FusionWeights("score", dense=round(1 - w, 2), lexical=w) for w in (0.5, 0.6, 0.7, 0.8, 0.9)
    ] + [FusionWeights("rrf", dense=w, lexical=1.0, k=k) for k in (5, 10, 60) for w in (0.2, 0.5, 1.0)]
    halves = (range(0, len(cases), 2), range(1, len(cases), 2))
    results = []
    for weights in settings:
        ranked = [ids(fuse(d, lx, weights)) for d, lx in zip(run.dense, run.lexical, strict=True)]
        whole = score(cases, ranked, run.texts)
        even, odd = (score([cases[i] for i in h], [ranked[i] for i in h], run.texts) for h in halves)
        results.append((weights, whole, even, odd))
    return sorted(results, key=lambda item: (item[1].mrr10, item[1].hit1), reverse=True)


def _describe(weights: FusionWeights) -> str:
    if weights.method == "rrf":
        return f"RRF k={weights.k}, dense {weights.dense:g} : BM25 {weights.lexical:g}"
    return f"score, dense {weights.dense:g} : BM25 {weights.lexical:g}"


def main(
    corpus: Path, cases_path: Path, results: Path, embedders: Sequence[str], say: Callable[[str], None]
) -> dict[str, object]:
    cases = [c for c in load_cases(cases_path) if c.evidence and not c.should_refuse]
    say(f"domainrag: {len(cases)} cases with evidence, corpus {corpus}")
    rows: list[tuple[object, ...]] = []
    summary: dict[str, object] = {}
    configured = Settings()
    current = FusionWeights(
        configured.fusion, configured.dense_weight, configured.lexical_weight, configured.fusion_k
    )
    lexical_done = False
    for embedder in embedders:
        say(f"indexing with {embedder} (first run embeds the whole corpus; later runs reuse it)...")
        run = run_embedder(embedder, corpus, cases, results)
        dense = score(cases, [ids(r) for r in run.dense], run.texts)
        hybrid = score(
            cases,
            [ids(fuse(d, lx, current)) for d, lx in zip(run.dense, run.lexical, strict=True)],
            run.texts,
        )
        if not lexical_done:
            lexical = score(cases, [ids(r) for r in run.lexical], run.texts)
            rows.append(("BM25 (jieba, SQLite FTS5)", "-", lexical.hit1, lexical.hit5, lexical.mrr10, "-"))
            alt_scores = score(cases, run.bm25s, run.texts)
            rows.append(
                ("BM25 (same tokens, bm25s)", "-", alt_scores.hit1, alt_scores.hit5, alt_scores.mrr10, "-")
            )
            lexical_done = True
        rate = f"{run.embed_rate:.1f}" if run.embed_rate else "(cached)"
        rows.append((f"dense {embedder}", run.chunks, dense.hit1, dense.hit5, dense.mrr10, rate))
        rows.append(
            (
                f"hybrid {embedder} + BM25 ({_describe(current)})",
                run.chunks,
                hybrid.hit1,
                hybrid.hit5,
                hybrid.mrr10,
                "",
            )
        )
        best = sweep_fusion(run, cases)
        say(
            f"\nfusion settings for {embedder}, best 6 by MRR@10 (hit@1 / MRR@10 on all, even and odd cases):"
        )
        say(
            table(
                ["fusion", "all", "even half", "odd half"],
                [
                    (_describe(w), *(f"{s.hit1:.3f} / {s.mrr10:.3f}" for s in (a, e, o)))
                    for w, a, e, o in best[:6]
                ],
            )
        )
        summary[embedder] = {"dense": dense.__dict__, "hybrid": hybrid.__dict__, "query_ms": run.query_ms}
    say("\nRetrieval quality on shared/data/domainrag (hit = a returned chunk contains the evidence):")
    say(table(["retriever", "chunks", "hit@1", "hit@5", "MRR@10", "embed chunks/s"], rows))
    return summary
