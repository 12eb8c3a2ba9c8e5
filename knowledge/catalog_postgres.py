"""The catalog in PostgreSQL (`XIANGYIN_DATABASE_URL`), shared by several API hosts.

The SQLite engine's tables, in a schema of their own (`knowledge`), and the same BM25 over the same jieba
tokens. Each chunk's lexical tokens and pinyin keys become postings (field, term, chunk, tf, length)
whose primary key carries tf and the chunk's length, so a query's terms are scored from one index-only
scan with FTS5's formula (k1 1.2, b 0.75, idf floored at 1e-6), the document frequency counted in the
same scan and the index's totals kept by each ingest.

Measured against FTS5 by `python -m benchmarks --only lexical-postgres` (2026-11-30, 2 shared cores):
the same rankings (domainrag lexical hit@1 / hit@5 / MRR@10 .542 / .729 / .634 in both; 99.6% of the
top 10 alike, the rest ties and tokens FTS5 splits at punctuation), BM25 p50 / p95 4.5 / 8.8 ms against
4.6 / 5.7 at domainrag's 3,729 chunks and 135 / 263 ms against 120 / 197 at 100,000. Not clearly worse,
so every host reads PostgreSQL itself and keeps no FTS5 copy. The price is room (2.6 GB against 345 MB
at 100,000 chunks: a row and an index entry per posting) and writing (2 ms a chunk, against 0.2; an
embedding takes 100). A tsvector with a GIN index (the issue's first idea) ranked badly with ts_rank_cd
(no idf: hit@1 .168) and, with BM25 computed from each matching row's tsvector, took 690 ms at 100,000.

Nothing is cached on a host, so a document ingested through one host is found by every other host's
next query, and `generation()` is the count they share: what a host derives from the index
(knowledge.soundalike) is rebuilt after another host's ingest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg

from ground.postgres import advisory_key
from ground.postgres_access import connection, open_schema, transaction
from knowledge.catalog import (
    CHUNK_COLUMNS,
    Catalog,
    DocumentUpdate,
    Filters,
    Statements,
    checked_index,
    chunk_row,
)

_NOW = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

STEPS = (
    f"""
CREATE SCHEMA IF NOT EXISTS knowledge;
CREATE TABLE knowledge.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE knowledge.documents (
    source text PRIMARY KEY,
    root text NOT NULL,
    file_hash text NOT NULL,
    chunker text NOT NULL,
    title text NOT NULL,
    kind text NOT NULL,
    region text NOT NULL,
    valid_from text NOT NULL,
    valid_to text NOT NULL,
    chunks integer NOT NULL,
    chars integer NOT NULL,
    ingested_at text NOT NULL DEFAULT {_NOW}
);
CREATE TABLE knowledge.chunks (
    rowid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    source text NOT NULL REFERENCES knowledge.documents(source),
    ordinal integer NOT NULL,
    text text NOT NULL,
    title text NOT NULL,
    section text NOT NULL,
    kind text NOT NULL,
    region text NOT NULL,
    valid_from text NOT NULL,
    valid_to text NOT NULL,
    content_hash text NOT NULL,
    tokens text[] NOT NULL,
    pinyin text[] NOT NULL
);
CREATE INDEX chunks_by_source ON knowledge.chunks(source, ordinal);
CREATE TABLE knowledge.postings (
    field smallint NOT NULL,
    term text NOT NULL,
    chunk bigint NOT NULL,
    tf integer NOT NULL,
    length integer NOT NULL,
    PRIMARY KEY (field, term, chunk) INCLUDE (tf, length)
);
CREATE TABLE knowledge.lexical_totals (
    field smallint PRIMARY KEY,
    chunks bigint NOT NULL,
    tokens bigint NOT NULL
);
INSERT INTO knowledge.lexical_totals VALUES (0, 0, 0), (1, 0, 0);
CREATE TABLE knowledge.rejected (
    source text PRIMARY KEY,
    root text NOT NULL,
    file_hash text NOT NULL,
    chunker text NOT NULL,
    reason text NOT NULL,
    message text NOT NULL,
    rejected_at text NOT NULL DEFAULT {_NOW}
);
CREATE TABLE knowledge.embedded (
    collection text NOT NULL,
    chunk_id text NOT NULL,
    PRIMARY KEY (collection, chunk_id)
);
CREATE TABLE knowledge.overrides (
    source text PRIMARY KEY,
    title text,
    kind text,
    region text,
    valid_from text,
    valid_to text,
    updated_at text NOT NULL DEFAULT {_NOW}
);
""",
)
"""The schema, one step a version (ground.postgres.migrate); a shipped step is never edited."""

_FIELDS = {"chunks_fts": (0, "tokens"), "chunks_pinyin": (1, "pinyin")}
"""Each lexical index: its `field` in the postings and the chunks' column of its tokens."""

# FTS5's bm25(): idf = ln((N - n + 0.5) / (n + 0.5)), at least 1e-6; each term adds
# idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average length)), k1 = 1.2, b = 0.75.
# The inner LIMIT is NULL (none) when filters must see every match before the best are taken.
_BM25 = """
WITH hits AS (
    SELECT chunk, tf, length, count(*) OVER (PARTITION BY term) AS n
    FROM knowledge.postings WHERE field = %s AND term = ANY(%s)
), ranked AS (
    SELECT h.chunk, sum(
        greatest(ln((t.chunks - h.n + 0.5::float8) / (h.n + 0.5::float8)), 1e-6) * h.tf * 2.2
        / (h.tf + 1.2 * (0.25 + 0.75::float8 * h.length * t.chunks / t.tokens))
    ) AS score
    FROM hits h JOIN knowledge.lexical_totals t ON t.field = %s
    GROUP BY h.chunk ORDER BY score DESC, h.chunk LIMIT %s
)
SELECT c.id, r.score FROM ranked r JOIN knowledge.chunks c ON c.rowid = r.chunk WHERE true{where}
ORDER BY r.score DESC, r.chunk LIMIT %s
"""

_WRITER = advisory_key("knowledge:writer")


@lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    """The shared statements' `?` marks as psycopg's `%s` (no catalog statement holds a literal `?`).
    Every statement is the catalog's own text; values always travel as parameters."""
    return sql.replace("?", "%s")


class _Statements:
    """A psycopg connection in a transaction, executing the shared statements."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._conn.execute(_pg(sql), parameters or None)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_pg(sql), parameters)


class PostgresCatalog(Catalog):
    """The catalog in the database at `url`, through the process's pool."""

    _ns = "knowledge."
    _now = _NOW

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self.url = url
        self._pool = open_schema(url, pool_size, "knowledge", STEPS)

    def close(self) -> None:
        """Nothing to close: the pool is the process's, shared with the other stores."""

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with connection(self._pool) as conn:
            return conn.execute(_pg(sql), params or None).fetchall()

    def _change(self, sql: str, params: Sequence[Any] = ()) -> int:
        with connection(self._pool) as conn:
            return conn.execute(_pg(sql), params or None).rowcount

    @contextmanager
    def _transaction(self) -> Iterator[Statements]:
        with transaction(self._pool) as conn:
            yield _Statements(conn)

    @contextmanager
    def writer_lock(self) -> Iterator[bool]:
        """A session-level advisory lock on a connection held for the block: a host that dies while
        writing loses its connection, and the lock with it."""
        with connection(self._pool) as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_WRITER,)).fetchone()
            taken = bool(row and row[0])
            try:
                yield taken
            finally:
                # A broken session has lost its lock already; the pool drops the connection.
                if taken:
                    with suppress(psycopg.OperationalError):
                        conn.execute("SELECT pg_advisory_unlock(%s)", (_WRITER,))

    def _drop_chunks(self, db: Statements, source: str) -> None:
        for field, column in _FIELDS.values():
            db.execute(
                "UPDATE knowledge.lexical_totals t SET chunks = t.chunks - d.n, tokens = t.tokens - d.length"
                f" FROM (SELECT count(*) AS n, coalesce(sum(cardinality({column})), 0) AS length"
                " FROM knowledge.chunks WHERE source = %s) d WHERE t.field = %s",
                (source, field),
            )
            db.execute(
                "DELETE FROM knowledge.postings p USING knowledge.chunks c"
                f" CROSS JOIN LATERAL unnest(c.{column}) AS t(term)"
                " WHERE c.source = %s AND p.field = %s AND p.term = t.term AND p.chunk = c.rowid",
                (source, field),
            )
        db.execute("DELETE FROM knowledge.chunks WHERE source = %s", (source,))

    def _add_chunks(self, db: Statements, update: DocumentUpdate) -> None:
        db.executemany(
            f"INSERT INTO knowledge.chunks({CHUNK_COLUMNS}, tokens, pinyin)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (*chunk_row(chunk), list(tokens), list(pinyin))
                for chunk, tokens, pinyin in zip(update.chunks, update.tokens, update.pinyin, strict=True)
            ],
        )
        source = update.record.source
        for field, column in _FIELDS.values():
            db.execute(
                "INSERT INTO knowledge.postings (field, term, chunk, tf, length)"
                f" SELECT %s, t.term, c.rowid, count(*), cardinality(c.{column})"
                f" FROM knowledge.chunks c CROSS JOIN LATERAL unnest(c.{column}) AS t(term)"
                " WHERE c.source = %s GROUP BY c.rowid, t.term",
                (field, source),
            )
            db.execute(
                "UPDATE knowledge.lexical_totals t SET chunks = t.chunks + d.n, tokens = t.tokens + d.length"
                f" FROM (SELECT count(*) AS n, coalesce(sum(cardinality({column})), 0) AS length"
                " FROM knowledge.chunks WHERE source = %s) d WHERE t.field = %s",
                (source, field),
            )

    def indexed_tokens(self, table: str = "chunks_fts") -> list[tuple[str, list[str]]]:
        column = _FIELDS[checked_index(table)][1]
        rows = self._rows(f"SELECT id, {column} FROM knowledge.chunks ORDER BY rowid")
        return [(str(chunk_id), list(tokens)) for chunk_id, tokens in rows]

    def token_counts(self, tokens: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(tokens))
        rows = self._rows(
            "SELECT term, count(*) FROM knowledge.postings WHERE field = 0 AND term = ANY(%s) GROUP BY term",
            (wanted,),
        )
        found = {str(term): int(n) for term, n in rows}
        return {token: found.get(token, 0) for token in wanted}

    def vocabulary(self) -> dict[str, int]:
        rows = self._rows("SELECT term, count(*) FROM knowledge.postings WHERE field = 0 GROUP BY term")
        return {str(term): int(n) for term, n in rows}

    def lexical_search(
        self, tokens: Sequence[str], limit: int, filters: Filters | None = None, table: str = "chunks_fts"
    ) -> list[tuple[str, float]]:
        field = _FIELDS[checked_index(table)][0]
        terms = list(dict.fromkeys(t for t in tokens if t))
        if not terms:
            return []
        where, params = (filters or Filters()).sql()
        rows = self._rows(
            _BM25.format(where=where), (field, terms, field, None if where else limit, *params, limit)
        )
        return [(str(row[0]), float(row[1])) for row in rows]
