"""Lexical search in PostgreSQL against SQLite FTS5 (issue 18): `python -m benchmarks --only
lexical-postgres`.

Both catalogs hold the same domainrag chunks and jieba tokens: the SQLite catalog of the retrieval
benchmark's domainrag index (`--retrieval-home`, built there by `--only retrieval` when missing) is
copied, and its copy is loaded into a throw-away PostgreSQL cluster with `knowledge.catalog.copy_catalog`;
the dense half of hybrid search reads the copy's Chroma store, so nothing is embedded. Measured:

- quality on domainrag and its lay questions: hit@1, hit@5, MRR@10 of lexical search alone (the matched
  chunks) and of the full hybrid search (read big, as `--only retrieval` scores it), per engine;
- latency p50 / p95 in ms at domainrag size and at a synthetic size (default 100,000 chunks): the BM25
  query alone (40 candidates, the question's tokens included), and the catalog's whole share of a
  query (lexical search, chunk texts, passages widened with their neighbours); at domainrag size also
  the hybrid search with the question's embedding. The synthetic chunks are domainrag's, repeated with
  their numbers changed (as benchmarks/scale.py grows the demo set), added document by document through
  `Catalog.apply` (the seconds that took are the index's ingest cost);
- two other ways PostgreSQL could rank, over a `tsvector` of the same tokens (`to_tsvector('simple',
  ...)`) with a GIN index: ts_rank_cd, and BM25 computed from each matching row's tsvector.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from benchmarks import retrieval
from benchmarks.report import table
from evals.metrics import percentile
from ground.postgres_cluster import postgres_cluster
from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog, DocumentRecord, DocumentUpdate, copy_catalog
from knowledge.chunking import Chunk
from knowledge.lexical import lexical_tokens
from xiangyin.settings import Settings
from zhtext.normalize import normalize_query

Say = Callable[[str], None]
Latency = dict[str, dict[str, tuple[float, float]]]
"""p50 and p95 in ms by measure and by engine."""

ENGINES = ("FTS5", "PostgreSQL")
TRIED = ("tsvector, ts_rank_cd", "tsvector, BM25 per row")


def _ms(times: Sequence[float]) -> tuple[float, float]:
    return percentile(times, 50), percentile(times, 95)


def _timed(fn: Callable[[str], object], queries: Sequence[str]) -> list[float]:
    for query in queries[:3]:  # warm caches
        fn(query)
    times = []
    for query in queries:
        started = time.perf_counter()
        fn(query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _passages(kb: KnowledgeBase, ranked: Sequence[Sequence[str]]) -> list[retrieval.Ranking]:
    """Ranked chunk ids as the (source, text) lists the retrieval benchmark scores."""
    found = kb.catalog.chunks(sorted({cid for ids in ranked for cid in ids}))
    return [[(found[cid].source, found[cid].text) for cid in ids if cid in found] for ids in ranked]


class _Tsvector:
    """The tried alternatives: the PostgreSQL catalog's tokens as a tsvector with a GIN index."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)

    def build(self) -> float:
        started = time.perf_counter()
        self.conn.execute("DROP TABLE IF EXISTS bench_tsv, bench_df")
        self.conn.execute(
            "CREATE TABLE bench_tsv AS SELECT rowid, cardinality(tokens) AS length,"
            " to_tsvector('simple', array_to_string(tokens, ' ')) AS tsv FROM knowledge.chunks"
        )
        self.conn.execute("CREATE INDEX ON bench_tsv USING gin (tsv)")
        self.conn.execute(
            "CREATE TABLE bench_df AS SELECT word AS term, ndoc AS n"
            " FROM ts_stat('SELECT tsv FROM bench_tsv')"
        )
        self.conn.execute("ALTER TABLE bench_df ADD PRIMARY KEY (term)")
        self.conn.execute("VACUUM ANALYZE bench_tsv, bench_df")
        return time.perf_counter() - started

    @staticmethod
    def _tsquery(tokens: Sequence[str]) -> str:
        return " | ".join(
            "'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in dict.fromkeys(tokens)
        )

    def ts_rank_cd(self, tokens: Sequence[str], limit: int) -> list[str]:
        if not tokens:
            return []
        rows = self.conn.execute(
            "SELECT c.id FROM (SELECT rowid, ts_rank_cd(tsv, q) AS score FROM bench_tsv,"
            " to_tsquery('simple', %s) q WHERE tsv @@ q ORDER BY score DESC, rowid LIMIT %s) r"
            " JOIN knowledge.chunks c USING (rowid) ORDER BY r.score DESC, r.rowid",
            (self._tsquery(tokens), limit),
        )
        return [str(row[0]) for row in rows]

    def bm25(self, tokens: Sequence[str], limit: int) -> list[str]:
        if not tokens:
            return []
        rows = self.conn.execute(
            """WITH t AS (SELECT count(*) AS n, avg(length) AS mean FROM bench_tsv),
q AS (SELECT d.term, greatest(ln((t.n - d.n + 0.5) / (d.n + 0.5)), 1e-6) AS idf FROM bench_df d, t
      WHERE d.term = ANY(%s)),
r AS (SELECT v.rowid, sum(q.idf * cardinality(u.positions) * 2.2
          / (cardinality(u.positions) + 1.2 * (0.25 + 0.75 * v.length / t.mean))) AS score
      FROM bench_tsv v CROSS JOIN t
      CROSS JOIN LATERAL unnest(ts_filter(setweight(v.tsv, 'A', %s), '{a}')) u
      JOIN q ON q.term = u.lexeme
      WHERE v.tsv @@ to_tsquery('simple', %s)
      GROUP BY v.rowid ORDER BY score DESC, v.rowid LIMIT %s)
SELECT c.id FROM r JOIN knowledge.chunks c USING (rowid) ORDER BY r.score DESC, r.rowid""",
            (list(tokens), list(tokens), self._tsquery(tokens), limit),
        )
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        self.conn.close()


def _grow(catalog: Catalog, base: Sequence[tuple[Chunk, list[str], list[str]]], target: int) -> float:
    """Add synthetic documents of 100 chunks until the catalog holds `target`; returns the seconds."""
    rng = random.Random(7)
    have = catalog.chunk_count()
    doc = 0
    started = time.perf_counter()
    while have < target:
        size = min(100, target - have)
        source = f"synthetic/doc{doc:06d}.txt"
        picks = [base[rng.randrange(len(base))] for _ in range(size)]
        chunks = [
            replace(chunk, id=f"syn{doc:06d}-{n}", source=source, ordinal=n)
            for n, (chunk, _, _) in enumerate(picks)
        ]
        tokens = [
            [str(int(t) + rng.randint(1, 9)) if t.isdigit() and len(t) < 9 else t for t in words]
            for _, words, _ in picks
        ]
        record = DocumentRecord(
            source, "synthetic", str(doc), "synthetic", "合成文档", "policy", "", "", "", size, 0
        )
        catalog.apply([DocumentUpdate(record, chunks, tokens, [p for _, _, p in picks])], [])
        have += size
        doc += 1
    return time.perf_counter() - started


def _pg_bytes(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = 'knowledge' AND c.relkind = 'r'"
        ).fetchone()
    return int(row[0]) if row else 0


def _sqlite_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _vacuum(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE knowledge.chunks, knowledge.postings, knowledge.lexical_totals")


def domainrag_home(domainrag: Path, retrieval_home: Path, say: Say) -> Path:
    """The retrieval benchmark's domainrag index (its data home), built there when missing."""
    corpus = domainrag / "corpus"
    home = retrieval_home / f"ours-{corpus.parent.name}-{corpus.name}"
    if not (home / "index" / "catalog.sqlite3").exists():
        say(f"building the domainrag index in {home} (embeds every chunk once)...")
        kb = retrieval.open_ours(corpus, home, say)
        assert isinstance(kb, KnowledgeBase)
        kb.close()
    return home


def main(
    root: Path, domainrag: Path, retrieval_home: Path, say: Say, size: int = 100_000
) -> dict[str, object]:
    """Prints the tables and returns their figures. `retrieval_home` holds the retrieval benchmark's
    indexes (read only here); `size` is the synthetic index's number of chunks."""
    source = domainrag_home(domainrag, retrieval_home, say)
    sets = [s for s in retrieval.load_sets(root, domainrag) if s.corpus == domainrag / "corpus"]
    summary: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder, postgres_cluster() as cluster:
        home = Path(folder) / "home"
        # The copy is all this benchmark writes to; the original index is only read.
        shutil.copytree(source / "index", home / "index", ignore=shutil.ignore_patterns("ingest.lock"))
        url = cluster.url()
        fts = KnowledgeBase(Settings(home=home, database_url=None))
        pg = KnowledgeBase(Settings(home=home, database_url=url), fts.embeddings)
        kbs = dict(zip(ENGINES, (fts, pg), strict=True))
        tried = _Tsvector(url)
        try:
            started = time.perf_counter()
            chunks = copy_catalog(fts.catalog, pg.catalog)
            say(f"copied {chunks} chunks into PostgreSQL in {time.perf_counter() - started:.1f} s")
            _vacuum(url)  # statistics and visibility, as autovacuum leaves them within a minute or so
            tried.build()
            quality_rows, agreement = _quality(sets, kbs, tried, say)
            summary["quality"] = quality_rows
            summary["lexical top-10 overlap"] = agreement
            questions = [c.question for s in sets for c in s.cases]
            latency: dict[str, Latency] = {}
            latency["domainrag"] = _latency(kbs, tried, questions, hybrid=True)
            catalog_file = home / "index" / "catalog.sqlite3"
            bytes_at = {"domainrag": (_sqlite_bytes(catalog_file), _pg_bytes(url))}

            words, pinyin = fts.catalog.indexed_tokens(), dict(fts.catalog.indexed_tokens("chunks_pinyin"))
            found = fts.catalog.chunks([chunk_id for chunk_id, _ in words])
            base = [(found[chunk_id], tokens, pinyin[chunk_id]) for chunk_id, tokens in words]
            grow_s = {name: _grow(kb.catalog, base, size) for name, kb in kbs.items()}
            say(
                f"grew both catalogs to {size} chunks: "
                + ", ".join(f"{n} {s:.0f} s" for n, s in grow_s.items())
            )
            latency[f"{size:,}, just ingested"] = _latency({"PostgreSQL": pg}, None, questions, hybrid=False)
            _vacuum(url)
            build_s = tried.build()
            say(f"tsvector + GIN over {size} chunks built in {build_s:.0f} s")
            latency[f"{size:,}"] = _latency(kbs, tried, questions, hybrid=False)
            bytes_at[f"{size:,}"] = (_sqlite_bytes(catalog_file), _pg_bytes(url))
        finally:
            tried.close()
            pg.close()
            fts.close()
    say(
        "\nLexical search, SQLite FTS5 vs PostgreSQL (same jieba tokens, FTS5's BM25 in both;"
        " hit@1 / hit@5 / MRR@10)"
    )
    say(table(["set", "search", *ENGINES, *TRIED], quality_rows))
    say(f"lexical top-10 agreement, PostgreSQL vs FTS5 (share of FTS5's ids): {agreement:.3f}")
    rows: list[tuple[object, ...]] = []
    for where, by_measure in latency.items():
        for measure, by_engine in by_measure.items():
            rows.append(
                (
                    where,
                    measure,
                    *(
                        f"{by_engine[name][0]:.1f} / {by_engine[name][1]:.1f}" if name in by_engine else "-"
                        for name in (*ENGINES, *TRIED)
                    ),
                )
            )
    for where, (lite, post) in bytes_at.items():
        rows.append((where, "index size, MB", f"{lite / 1e6:.0f}", f"{post / 1e6:.0f}", "-", "-"))
    rows.append(
        (
            f"{size:,}",
            f"seconds to add {size - chunks:,} chunks",
            *(f"{grow_s[n]:.0f}" for n in ENGINES),
            "-",
            "-",
        )
    )
    say(f"\nLatency p50 / p95 in ms ({len(questions)} domainrag questions, one process, 2 cores)")
    say(table(["chunks", "measure", *ENGINES, *TRIED], rows))
    summary["latency_ms"] = latency
    summary["grow_s"] = grow_s
    summary["bytes"] = bytes_at
    return summary


def _quality(
    sets: Sequence[retrieval.EvalSet], kbs: dict[str, KnowledgeBase], tried: _Tsvector, say: Say
) -> tuple[list[tuple[object, ...]], float]:
    from assistant.normalize import normalize_question

    rows: list[tuple[object, ...]] = []
    overlap: list[float] = []
    for s in sets:
        queries = [normalize_question(c.question) for c in s.cases]
        lexical: dict[str, list[retrieval.Ranking]] = {}
        ids: dict[str, list[list[str]]] = {}
        for name, kb in kbs.items():
            ids[name] = [[h.chunk.id for h in kb.search(q, k=10, mode="lexical")] for q in queries]
            lexical[name] = _passages(kb, ids[name])
        tokens = [lexical_tokens(normalize_query(q)) for q in queries]
        pg = kbs["PostgreSQL"]
        lexical[TRIED[0]] = _passages(pg, [tried.ts_rank_cd(t, 10) for t in tokens])
        lexical[TRIED[1]] = _passages(pg, [tried.bm25(t, 10) for t in tokens])
        hybrid = {
            name: retrieval.rank_ours(kb, [c.question for c in s.cases], read_big=True).rankings
            for name, kb in kbs.items()
        }
        overlap.extend(
            len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(ids["FTS5"], ids["PostgreSQL"], strict=True)
        )

        def cells(ranking: list[retrieval.Ranking], cases: Sequence[Any] = s.cases) -> str:
            scored = retrieval.score(cases, ranking)
            return f"{scored.hit1:.3f} / {scored.hit5:.3f} / {scored.mrr10:.3f}"

        rows.append(
            (f"{s.name} ({len(s.cases)})", "lexical alone", *(cells(lexical[n]) for n in (*ENGINES, *TRIED)))
        )
        rows.append(
            (f"{s.name} ({len(s.cases)})", "hybrid, read big", *(cells(hybrid[n]) for n in ENGINES), "-", "-")
        )
        say(f"scored {s.name}")
    return rows, sum(overlap) / max(len(overlap), 1)


def _latency(
    kbs: dict[str, KnowledgeBase], tried: _Tsvector | None, questions: Sequence[str], hybrid: bool
) -> Latency:
    from assistant.normalize import normalize_question

    queries = [normalize_question(q) for q in questions]
    out: Latency = {"BM25, 40 candidates": {}, "catalog share of a query": {}}
    if hybrid:
        out["hybrid search, read big"] = {}
    for name, kb in kbs.items():
        out["BM25, 40 candidates"][name] = _ms(_timed(partial(kb.lexical_search, limit=40), queries))
        share = partial(kb.search, k=5, mode="lexical", read_big=True)
        out["catalog share of a query"][name] = _ms(_timed(share, queries))
        if hybrid:
            out["hybrid search, read big"][name] = _ms(
                _timed(partial(kb.search, k=5, read_big=True), queries)
            )
    if tried is not None:
        for label, rank in zip(TRIED, (tried.ts_rank_cd, tried.bm25), strict=True):

            def ranked(query: str, rank: Callable[[Sequence[str], int], list[str]] = rank) -> list[str]:
                return rank(lexical_tokens(normalize_query(query)), 40)

            out["BM25, 40 candidates"][label] = _ms(_timed(ranked, queries))
    return out
