"""The catalog: the committed state of the knowledge base.

It holds every document, every chunk's text and metadata, two BM25 indexes (over the chunks' lexical
tokens and over their pinyin keys), and the files the ingest refused (with why, for the officials). An
ingest changes it in a single transaction, so readers always see either the old or the new state; the
vector store is reconciled against it (a vector whose id is not in the catalog is never returned).

Two engines keep it: one SQLite file in the data home (the default, BM25 by FTS5), and PostgreSQL shared
by several API hosts (knowledge.catalog_postgres, chosen by `database_url`), which ranks the same tokens
with the same BM25. `Catalog` is the interface; what both engines do alike is written here once, over a
few primitives each engine supplies (read rows, run one statement, a write transaction).
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ground.sqlite import open_database, write_transaction
from knowledge.chunking import Chunk
from knowledge.config import KnowledgeSettings

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    chunker TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    chars INTEGER NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL REFERENCES documents(source),
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source, ordinal);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(tokens, tokenize = 'unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_pinyin USING fts5(tokens, tokenize = 'unicode61');
CREATE TABLE IF NOT EXISTS rejected (
    source TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    chunker TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    rejected_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS embedded (
    collection TEXT NOT NULL,
    chunk_id TEXT NOT NULL,
    PRIMARY KEY (collection, chunk_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS overrides (
    source TEXT PRIMARY KEY,
    title TEXT,
    kind TEXT,
    region TEXT,
    valid_from TEXT,
    valid_to TEXT,
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
"""

_WRITTEN_DOCUMENT_COLUMNS = (
    "source, root, file_hash, chunker, title, kind, region, valid_from, valid_to, chunks, chars"
)
_DOCUMENT_COLUMNS = f"{_WRITTEN_DOCUMENT_COLUMNS}, ingested_at"
CHUNK_COLUMNS = "id, source, ordinal, text, title, section, kind, region, valid_from, valid_to, content_hash"
_WRITTEN_REJECTED_COLUMNS = "source, root, file_hash, chunker, reason, message"


@dataclass(frozen=True)
class DocumentRecord:
    source: str
    root: str
    file_hash: str
    chunker: str
    title: str
    kind: str
    region: str
    valid_from: str
    valid_to: str
    chunks: int
    chars: int
    ingested_at: str = ""


@dataclass(frozen=True)
class RejectedDocument:
    """A file the ingest refused. The same bytes under the same recipe are not read again until the file
    changes, the budgets change or the record is forgotten."""

    source: str
    root: str
    file_hash: str
    chunker: str
    """The chunker's and the parser's budgets' recipe the file was refused under."""
    reason: str
    """For the logs, in English."""
    message: str
    """For the officials, in Simplified Chinese, with what to do."""
    rejected_at: str = ""


OVERRIDABLE = ("title", "kind", "region", "valid_from", "valid_to")
"""Document metadata an official may correct without editing the file."""


@dataclass(frozen=True)
class MetadataOverride:
    """An official's correction of a document's metadata, kept apart from the document so that every later
    ingest of the same file applies it again. None: the file's own value stands; "" clears it (a region
    of "" makes a document national)."""

    source: str
    title: str | None = None
    kind: str | None = None
    region: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    updated_at: str = ""

    def fields(self) -> dict[str, str]:
        """The overridden fields and their values."""
        return {name: value for name in OVERRIDABLE if (value := getattr(self, name)) is not None}

    def fingerprint(self) -> str:
        """Part of the recipe a document is indexed with: a changed correction re-reads the document."""
        text = "\x1f".join(f"{name}={value}" for name, value in sorted(self.fields().items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DocumentUpdate:
    """A document's new state: its record, chunks, and each chunk's lexical tokens and pinyin keys."""

    record: DocumentRecord
    chunks: Sequence[Chunk]
    tokens: Sequence[Sequence[str]]
    pinyin: Sequence[Sequence[str]]
    """Each chunk's pinyin keys (knowledge.phonetic), for spoken questions."""


@dataclass(frozen=True)
class Filters:
    """Metadata filters. A region filter also keeps documents with no region (national documents)."""

    kind: str | None = None
    region: str | None = None

    def sql(self, alias: str = "c") -> tuple[str, list[str]]:
        clauses: list[str] = []
        params: list[str] = []
        if self.kind:
            clauses.append(f"{alias}.kind = ?")
            params.append(self.kind)
        if self.region:
            clauses.append(f"({alias}.region = ? OR {alias}.region = '')")
            params.append(self.region)
        return (" AND " + " AND ".join(clauses) if clauses else ""), params

    def accepts(self, chunk: Chunk) -> bool:
        if self.kind and chunk.kind != self.kind:
            return False
        return not (self.region and chunk.region not in (self.region, ""))


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _fts_query(tokens: Iterable[str]) -> str:
    unique = dict.fromkeys(t.replace('"', '""') for t in tokens if t)
    return " OR ".join(f'"{t}"' for t in unique)


LEXICAL_INDEXES = ("chunks_fts", "chunks_pinyin")
"""The BM25 indexes `lexical_search` reads: the chunks' lexical tokens (knowledge.lexical) and their pinyin
keys (knowledge.phonetic). The names are SQLite's tables; the PostgreSQL engine keeps both in one table."""


def checked_index(table: str) -> str:
    """`table`, when it names a lexical index (it is written into SQL)."""
    if table not in LEXICAL_INDEXES:
        raise ValueError(f"no lexical index {table!r}")
    return table


def chunk_row(chunk: Chunk) -> tuple[str, str, int, str, str, str, str, str, str, str, str]:
    """A chunk's values in the order of the chunks table's columns."""
    return (
        chunk.id,
        chunk.source,
        chunk.ordinal,
        chunk.text,
        chunk.title,
        chunk.section,
        chunk.kind,
        chunk.region,
        chunk.valid_from,
        chunk.valid_to,
        chunk.content_hash,
    )


class Statements(Protocol):
    """What a write transaction executes through (SQLite's connection, or the PostgreSQL engine's
    adapter of a psycopg connection): SQL with `?` marks."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


class Catalog:
    """The catalog's interface and what its engines share: `SqliteCatalog(path)` and `PostgresCatalog`,
    opened by `open_catalog(settings)` as the settings name. An engine implements the methods below that
    raise NotImplementedError."""

    _ns: ClassVar[str] = ""
    """Prefix of the catalog's table names (PostgreSQL keeps them in a schema of their own)."""
    _now: ClassVar[str] = "datetime('now')"
    """SQL for the current UTC time, written as SQLite's datetime('now') writes it."""

    # What each engine implements

    def close(self) -> None:
        raise NotImplementedError

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query (SQL with `?` marks)."""
        raise NotImplementedError

    def _change(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement, atomic on its own (no transaction a reader could find open); returns the
        number of rows it changed."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Statements]:
        """A write transaction, committed when the block ends and rolled back when it raises."""
        raise NotImplementedError

    def _drop_chunks(self, db: Statements, source: str) -> None:
        """Delete a document's chunks and their rows in the lexical indexes."""
        raise NotImplementedError

    def _add_chunks(self, db: Statements, update: DocumentUpdate) -> None:
        """Insert a document's chunks and index their tokens and pinyin keys (its record is written)."""
        raise NotImplementedError

    def writer_lock(self) -> AbstractContextManager[bool]:
        """Try to become the knowledge base's only writer for the block; yields whether it did (never
        waits). Its scope is the catalog's: the data home, or the database every host shares."""
        raise NotImplementedError

    def indexed_tokens(self, table: str = "chunks_fts") -> list[tuple[str, list[str]]]:
        """(chunk id, tokens) for every chunk, in insertion order: to build other lexical indexes, or to
        copy the catalog (`table="chunks_pinyin"`: the pinyin keys)."""
        raise NotImplementedError

    def token_counts(self, tokens: Iterable[str]) -> dict[str, int]:
        """In how many chunks each lexical token occurs (0: the knowledge base never mentions it)."""
        raise NotImplementedError

    def vocabulary(self) -> dict[str, int]:
        """Every lexical token of the index, with the number of chunks it occurs in."""
        raise NotImplementedError

    def lexical_search(
        self, tokens: Sequence[str], limit: int, filters: Filters | None = None, table: str = "chunks_fts"
    ) -> list[tuple[str, float]]:
        """BM25 (k1 1.2, b 0.75, FTS5's formula) over the chunks' tokens (or, with table="chunks_pinyin",
        their pinyin keys): (chunk id, score), best first; higher is better."""
        raise NotImplementedError

    # Shared by the engines

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def get_meta(self, key: str) -> str | None:
        row = self._one(f"SELECT value FROM {self._ns}meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._change(
            f"INSERT INTO {self._ns}meta(key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # Reads

    def documents(self) -> list[DocumentRecord]:
        rows = self._rows(f"SELECT {_DOCUMENT_COLUMNS} FROM {self._ns}documents ORDER BY source")
        return [DocumentRecord(*row) for row in rows]

    def document(self, source: str) -> DocumentRecord | None:
        row = self._one(f"SELECT {_DOCUMENT_COLUMNS} FROM {self._ns}documents WHERE source = ?", (source,))
        return None if row is None else DocumentRecord(*row)

    def rejected_documents(self) -> list[RejectedDocument]:
        rows = self._rows(
            f"SELECT {_WRITTEN_REJECTED_COLUMNS}, rejected_at FROM {self._ns}rejected ORDER BY source"
        )
        return [RejectedDocument(*row) for row in rows]

    def rejected_count(self) -> int:
        return int(self._rows(f"SELECT count(*) FROM {self._ns}rejected")[0][0])

    def chunk_count(self) -> int:
        return int(self._rows(f"SELECT count(*) FROM {self._ns}chunks")[0][0])

    def chunk_ids(self, sources: Iterable[str] | None = None) -> set[str]:
        if sources is None:
            return {row[0] for row in self._rows(f"SELECT id FROM {self._ns}chunks")}
        ids: set[str] = set()
        for source in sources:
            ids.update(
                row[0] for row in self._rows(f"SELECT id FROM {self._ns}chunks WHERE source = ?", (source,))
            )
        return ids

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            sql = f"SELECT {CHUNK_COLUMNS} FROM {self._ns}chunks WHERE id IN ({_marks(len(part))})"
            for row in self._rows(sql, part):
                found[row[0]] = Chunk(*row)
        return found

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self._rows(
            f"SELECT {CHUNK_COLUMNS} FROM {self._ns}chunks WHERE source = ? ORDER BY ordinal", (source,)
        )
        return [Chunk(*row) for row in rows]

    def chunks_around(self, source: str, ordinal: int, radius: int) -> list[Chunk]:
        """The chunks of one document from `ordinal - radius` to `ordinal + radius`, in order."""
        rows = self._rows(
            f"SELECT {CHUNK_COLUMNS} FROM {self._ns}chunks WHERE source = ? AND ordinal BETWEEN ? AND ?"
            " ORDER BY ordinal",
            (source, ordinal - radius, ordinal + radius),
        )
        return [Chunk(*row) for row in rows]

    def generation(self) -> int:
        """Counts the changes applied, so what is derived from the index knows when to be rebuilt (with
        PostgreSQL, the count every host shares: a host's caches follow another host's ingest)."""
        return int(self.get_meta("generation") or 0)

    def overrides(self) -> dict[str, MetadataOverride]:
        rows = self._rows(
            f"SELECT source, {', '.join(OVERRIDABLE)}, updated_at FROM {self._ns}overrides ORDER BY source"
        )
        return {row[0]: MetadataOverride(*row) for row in rows}

    def override(self, source: str) -> MetadataOverride | None:
        row = self._one(
            f"SELECT source, {', '.join(OVERRIDABLE)}, updated_at FROM {self._ns}overrides WHERE source = ?",
            (source,),
        )
        return None if row is None else MetadataOverride(*row)

    # Writes

    def set_override(self, override: MetadataOverride) -> None:
        """Store an official's correction (replacing an earlier one); an override with no field set is
        removed. It takes effect when the document is next ingested (the recipe it was indexed with no
        longer matches), so the change goes through the same one-transaction switch as any ingest."""
        if not override.fields():
            self.clear_override(override.source)
            return
        replaced = ", ".join(f"{name} = excluded.{name}" for name in OVERRIDABLE)
        self._change(
            f"INSERT INTO {self._ns}overrides(source, {', '.join(OVERRIDABLE)}) VALUES ({_marks(6)})"
            f" ON CONFLICT(source) DO UPDATE SET {replaced}, updated_at = {self._now}",
            (override.source, *(getattr(override, name) for name in OVERRIDABLE)),
        )

    def clear_override(self, source: str) -> bool:
        """Forget a document's corrections; false when it had none."""
        return self._change(f"DELETE FROM {self._ns}overrides WHERE source = ?", (source,)) > 0

    def forget_rejected(self, source: str) -> bool:
        """Drop a refused file's record, so the next ingest reads it again; false when there was none."""
        return self._change(f"DELETE FROM {self._ns}rejected WHERE source = ?", (source,)) > 0

    # Which chunks have a vector. The vector store is the truth (an ingest reconciles these marks with
    # it before embedding); the marks let the officials' page and `kb stats` count the chunks still
    # waiting for one, per document, without listing the store.

    def embedded_known(self, collection: str) -> bool:
        """Whether the marks of `collection` were ever reconciled with its store (an index built before
        the marks existed has none until its next ingest)."""
        return self.get_meta(f"embedded:{collection}") is not None

    def embedded_collections(self) -> list[str]:
        """The collections whose marks are kept (`embedded_known`)."""
        rows = self._rows(f"SELECT substr(key, 10) FROM {self._ns}meta WHERE substr(key, 1, 9) = 'embedded:'")
        return sorted(str(row[0]) for row in rows)

    def embedded_ids(self, collection: str) -> set[str]:
        rows = self._rows(f"SELECT chunk_id FROM {self._ns}embedded WHERE collection = ?", (collection,))
        return {row[0] for row in rows}

    def embedded_among(self, collection: str, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that have a vector in `collection`."""
        if not ids:
            return set()
        rows = self._rows(
            f"SELECT chunk_id FROM {self._ns}embedded WHERE collection = ?"
            f" AND chunk_id IN ({_marks(len(ids))})",
            (collection, *ids),
        )
        return {row[0] for row in rows}

    def mark_embedded(self, collection: str, ids: Iterable[str], embedded: bool = True) -> None:
        """Record that the chunks have (or, with `embedded=False`, no longer have) a vector."""
        rows = [(collection, chunk_id) for chunk_id in ids]
        if not rows and self.embedded_known(collection):
            return
        with self._transaction() as db:
            if embedded:
                db.executemany(
                    f"INSERT INTO {self._ns}embedded(collection, chunk_id) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING",
                    rows,
                )
            else:
                db.executemany(f"DELETE FROM {self._ns}embedded WHERE collection = ? AND chunk_id = ?", rows)
            db.execute(
                f"INSERT INTO {self._ns}meta(key, value) VALUES (?, '1') ON CONFLICT(key) DO NOTHING",
                (f"embedded:{collection}",),
            )

    def pending_by_source(self, collection: str) -> dict[str, int]:
        """Committed chunks without a vector in `collection`, per document (documents with none left
        out): they answer lexically only until embedded."""
        rows = self._rows(
            f"SELECT source, count(*) FROM {self._ns}chunks c WHERE NOT EXISTS (SELECT 1"
            f" FROM {self._ns}embedded e WHERE e.collection = ? AND e.chunk_id = c.id) GROUP BY source",
            (collection,),
        )
        return {str(source): int(n) for source, n in rows}

    def apply(
        self,
        updates: Sequence[DocumentUpdate],
        removed: Sequence[str],
        rejected: Sequence[RejectedDocument] = (),
        forgotten: Sequence[str] = (),
    ) -> None:
        """Replace the given documents and remove others, and record refused files and forget earlier
        refusals (`forgotten` first), all in one transaction."""
        ns = self._ns
        with self._transaction() as db:
            if updates or removed:  # refusals change nothing a query sees
                db.execute(
                    f"INSERT INTO {ns}meta(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
                    " DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
                )
            db.executemany(f"DELETE FROM {ns}rejected WHERE source = ?", [(source,) for source in forgotten])
            refreshed = ", ".join(f"{c} = excluded.{c}" for c in _WRITTEN_REJECTED_COLUMNS.split(", ")[1:])
            db.executemany(
                f"INSERT INTO {ns}rejected({_WRITTEN_REJECTED_COLUMNS}) VALUES ({_marks(6)})"
                f" ON CONFLICT(source) DO UPDATE SET {refreshed}, rejected_at = {self._now}",
                [(r.source, r.root, r.file_hash, r.chunker, r.reason, r.message) for r in rejected],
            )
            for source in [*removed, *(u.record.source for u in updates)]:
                self._drop_chunks(db, source)
                db.execute(f"DELETE FROM {ns}documents WHERE source = ?", (source,))
            for update in updates:
                r = update.record
                db.execute(
                    f"INSERT INTO {ns}documents({_WRITTEN_DOCUMENT_COLUMNS}) VALUES ({_marks(11)})",
                    (
                        r.source,
                        r.root,
                        r.file_hash,
                        r.chunker,
                        r.title,
                        r.kind,
                        r.region,
                        r.valid_from,
                        r.valid_to,
                        r.chunks,
                        r.chars,
                    ),
                )
                self._add_chunks(db, update)


class SqliteCatalog(Catalog):
    """The catalog in one SQLite file of the data home, BM25 by FTS5."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_database(path)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        # A per-connection view of the BM25 index's distinct tokens (nothing stored on disk).
        self._db.execute("CREATE VIRTUAL TABLE temp.chunks_vocab USING fts5vocab(main, 'chunks_fts', 'row')")
        version = self.get_meta("schema")
        if version is None:
            self.set_meta("schema", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise RuntimeError(f"index schema {version} is not supported; re-ingest into a new data home")

    def close(self) -> None:
        self._db.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def _change(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db.execute(sql, params).rowcount

    def _transaction(self) -> AbstractContextManager[Statements]:
        return write_transaction(self._db)

    @contextmanager
    def writer_lock(self) -> Iterator[bool]:
        lock_path = self.path.parent / "ingest.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _drop_chunks(self, db: Statements, source: str) -> None:
        for table in LEXICAL_INDEXES:
            db.execute(
                f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM chunks WHERE source = ?)", (source,)
            )
        db.execute("DELETE FROM chunks WHERE source = ?", (source,))

    def _add_chunks(self, db: Statements, update: DocumentUpdate) -> None:
        for chunk, tokens, pinyin in zip(update.chunks, update.tokens, update.pinyin, strict=True):
            cursor = db.execute(
                f"INSERT INTO chunks({CHUNK_COLUMNS}) VALUES ({_marks(11)})", chunk_row(chunk)
            )
            for table, keys in zip(LEXICAL_INDEXES, (tokens, pinyin), strict=True):
                db.execute(
                    f"INSERT INTO {table}(rowid, tokens) VALUES (?, ?)", (cursor.lastrowid, " ".join(keys))
                )

    def indexed_tokens(self, table: str = "chunks_fts") -> list[tuple[str, list[str]]]:
        rows = self._rows(
            f"SELECT c.id, f.tokens FROM chunks c JOIN {checked_index(table)} f ON f.rowid = c.rowid"
            " ORDER BY c.rowid"
        )
        return [(str(chunk_id), str(tokens).split()) for chunk_id, tokens in rows]

    def token_counts(self, tokens: Iterable[str]) -> dict[str, int]:
        counts = {}
        for token in dict.fromkeys(tokens):
            query = _fts_query([token])
            row = self._rows("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (query,))[0]
            counts[token] = int(row[0])
        return counts

    def vocabulary(self) -> dict[str, int]:
        return {str(term): int(n) for term, n in self._rows("SELECT term, doc FROM temp.chunks_vocab")}

    def lexical_search(
        self, tokens: Sequence[str], limit: int, filters: Filters | None = None, table: str = "chunks_fts"
    ) -> list[tuple[str, float]]:
        table = checked_index(table)
        query = _fts_query(tokens)
        if not query:
            return []
        where, params = (filters or Filters()).sql()
        rows = self._rows(
            f"SELECT c.id, -bm25({table}) AS score"
            f" FROM {table} JOIN chunks c ON c.rowid = {table}.rowid"
            f" WHERE {table} MATCH ?{where} ORDER BY bm25({table}) LIMIT ?",
            [query, *params, limit],
        )
        return [(str(row[0]), float(row[1])) for row in rows]


def open_catalog(settings: KnowledgeSettings) -> Catalog:
    """The catalog the settings name: PostgreSQL at `database_url`, shared by every host, or else the
    SQLite file of the data home."""
    if settings.database_url:
        from knowledge.catalog_postgres import PostgresCatalog

        return PostgresCatalog(settings.database_url, settings.database_pool_size)
    return SqliteCatalog(settings.index_dir / "catalog.sqlite3")


def copy_catalog(source: Catalog, target: Catalog) -> int:
    """Copy every document, with its chunks and both lexical indexes' tokens, and the officials'
    corrections from one catalog into another (e.g. a township server's SQLite file into the PostgreSQL
    of several hosts); returns the number of chunks copied. Vectors stay where they are (the marks of
    which chunks have one are copied too), so nothing is embedded again."""
    tokens = dict(source.indexed_tokens())
    pinyin = dict(source.indexed_tokens("chunks_pinyin"))
    copied = 0
    records = source.documents()
    for start in range(0, len(records), 100):
        updates = []
        for record in records[start : start + 100]:
            chunks = source.chunks_of(record.source)
            updates.append(
                DocumentUpdate(record, chunks, [tokens[c.id] for c in chunks], [pinyin[c.id] for c in chunks])
            )
            copied += len(chunks)
        target.apply(updates, [])
    for override in source.overrides().values():
        target.set_override(override)
    for collection in source.embedded_collections():
        target.mark_embedded(collection, sorted(source.embedded_ids(collection)))
    return copied
