"""The catalog: the committed state of the knowledge base in one SQLite file.

It holds every document, every chunk's text and metadata, the BM25 index (SQLite FTS5) over the chunks'
lexical tokens, and the files the ingest refused (with why, for the officials). An ingest changes it in
a single transaction, so readers always see either the old or the new state; the vector store is
reconciled against it (a vector whose id is not in the catalog is never returned).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.chunking import Chunk
from xiangyin.database import open_database, write_transaction

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
_CHUNK_COLUMNS = "id, source, ordinal, text, title, section, kind, region, valid_from, valid_to, content_hash"
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


class Catalog:
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

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # Reads

    def documents(self) -> list[DocumentRecord]:
        rows = self._db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents ORDER BY source").fetchall()
        return [DocumentRecord(*row) for row in rows]

    def document(self, source: str) -> DocumentRecord | None:
        row = self._db.execute(
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE source = ?", (source,)
        ).fetchone()
        return None if row is None else DocumentRecord(*row)

    def rejected_documents(self) -> list[RejectedDocument]:
        rows = self._db.execute(
            f"SELECT {_WRITTEN_REJECTED_COLUMNS}, rejected_at FROM rejected ORDER BY source"
        ).fetchall()
        return [RejectedDocument(*row) for row in rows]

    def rejected_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM rejected").fetchone()[0])

    def chunk_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def chunk_ids(self, sources: Iterable[str] | None = None) -> set[str]:
        if sources is None:
            return {row[0] for row in self._db.execute("SELECT id FROM chunks")}
        ids: set[str] = set()
        for source in sources:
            ids.update(
                row[0] for row in self._db.execute("SELECT id FROM chunks WHERE source = ?", (source,))
            )
        return ids

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({_marks(len(part))})"
            for row in self._db.execute(sql, part):
                found[row[0]] = Chunk(*row)
        return found

    def chunks_of(self, source: str) -> list[Chunk]:
        rows = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE source = ? ORDER BY ordinal", (source,)
        ).fetchall()
        return [Chunk(*row) for row in rows]

    def chunks_around(self, source: str, ordinal: int, radius: int) -> list[Chunk]:
        """The chunks of one document from `ordinal - radius` to `ordinal + radius`, in order."""
        rows = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE source = ? AND ordinal BETWEEN ? AND ?"
            " ORDER BY ordinal",
            (source, ordinal - radius, ordinal + radius),
        ).fetchall()
        return [Chunk(*row) for row in rows]

    def indexed_tokens(self) -> list[tuple[str, list[str]]]:
        """(chunk id, lexical tokens) for every chunk, in insertion order: to build other lexical indexes."""
        rows = self._db.execute(
            "SELECT c.id, f.tokens FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid ORDER BY c.rowid"
        )
        return [(str(chunk_id), str(tokens).split()) for chunk_id, tokens in rows]

    def token_counts(self, tokens: Iterable[str]) -> dict[str, int]:
        """In how many chunks each lexical token occurs (0: the knowledge base never mentions it)."""
        counts = {}
        for token in dict.fromkeys(tokens):
            query = _fts_query([token])
            row = self._db.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (query,)
            ).fetchone()
            counts[token] = int(row[0])
        return counts

    def vocabulary(self) -> dict[str, int]:
        """Every lexical token of the index, with the number of chunks it occurs in."""
        return {str(term): int(n) for term, n in self._db.execute("SELECT term, doc FROM temp.chunks_vocab")}

    def generation(self) -> int:
        """Counts the changes applied, so what is derived from the index knows when to be rebuilt."""
        return int(self.get_meta("generation") or 0)

    def lexical_search(
        self, tokens: Sequence[str], limit: int, filters: Filters | None = None, table: str = "chunks_fts"
    ) -> list[tuple[str, float]]:
        """BM25 over the chunks' tokens (or, with table="chunks_pinyin", their pinyin keys):
        (chunk id, score), best first; higher is better."""
        if table not in ("chunks_fts", "chunks_pinyin"):
            raise ValueError(f"no lexical index {table!r}")
        query = _fts_query(tokens)
        if not query:
            return []
        where, params = (filters or Filters()).sql()
        rows = self._db.execute(
            f"SELECT c.id, -bm25({table}) AS score"
            f" FROM {table} JOIN chunks c ON c.rowid = {table}.rowid"
            f" WHERE {table} MATCH ?{where} ORDER BY bm25({table}) LIMIT ?",
            [query, *params, limit],
        ).fetchall()
        return [(str(row[0]), float(row[1])) for row in rows]

    def overrides(self) -> dict[str, MetadataOverride]:
        rows = self._db.execute(
            f"SELECT source, {', '.join(OVERRIDABLE)}, updated_at FROM overrides ORDER BY source"
        ).fetchall()
        return {row[0]: MetadataOverride(*row) for row in rows}

    def override(self, source: str) -> MetadataOverride | None:
        row = self._db.execute(
            f"SELECT source, {', '.join(OVERRIDABLE)}, updated_at FROM overrides WHERE source = ?", (source,)
        ).fetchone()
        return None if row is None else MetadataOverride(*row)

    # Writes

    def set_override(self, override: MetadataOverride) -> None:
        """Store an official's correction (replacing an earlier one); an override with no field set is
        removed. It takes effect when the document is next ingested (the recipe it was indexed with no
        longer matches), so the change goes through the same one-transaction switch as any ingest."""
        if not override.fields():
            self.clear_override(override.source)
            return
        # One statement, so atomic on its own: no transaction that a reader sharing this connection
        # could find open.
        self._db.execute(
            f"INSERT OR REPLACE INTO overrides(source, {', '.join(OVERRIDABLE)}) VALUES ({_marks(6)})",
            (override.source, *(getattr(override, name) for name in OVERRIDABLE)),
        )

    def clear_override(self, source: str) -> bool:
        """Forget a document's corrections; false when it had none."""
        return self._db.execute("DELETE FROM overrides WHERE source = ?", (source,)).rowcount > 0

    def forget_rejected(self, source: str) -> bool:
        """Drop a refused file's record, so the next ingest reads it again; false when there was none."""
        return self._db.execute("DELETE FROM rejected WHERE source = ?", (source,)).rowcount > 0

    # Which chunks have a vector. The vector store is the truth (an ingest reconciles these marks with
    # it before embedding); the marks let the officials' page and `kb stats` count the chunks still
    # waiting for one, per document, without listing the store.

    def embedded_known(self, collection: str) -> bool:
        """Whether the marks of `collection` were ever reconciled with its store (an index built before
        the marks existed has none until its next ingest)."""
        return self.get_meta(f"embedded:{collection}") is not None

    def embedded_ids(self, collection: str) -> set[str]:
        rows = self._db.execute("SELECT chunk_id FROM embedded WHERE collection = ?", (collection,))
        return {row[0] for row in rows}

    def mark_embedded(self, collection: str, ids: Iterable[str], embedded: bool = True) -> None:
        """Record that the chunks have (or, with `embedded=False`, no longer have) a vector."""
        rows = [(collection, chunk_id) for chunk_id in ids]
        if not rows and self.embedded_known(collection):
            return
        with write_transaction(self._db) as db:
            if embedded:
                db.executemany("INSERT OR IGNORE INTO embedded(collection, chunk_id) VALUES (?, ?)", rows)
            else:
                db.executemany("DELETE FROM embedded WHERE collection = ? AND chunk_id = ?", rows)
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", (f"embedded:{collection}",))

    def pending_by_source(self, collection: str) -> dict[str, int]:
        """Committed chunks without a vector in `collection`, per document (documents with none left
        out): they answer lexically only until embedded."""
        rows = self._db.execute(
            "SELECT source, count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM embedded e"
            " WHERE e.collection = ? AND e.chunk_id = c.id) GROUP BY source",
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
        with write_transaction(self._db) as db:
            if updates or removed:  # refusals change nothing a query sees
                db.execute(
                    "INSERT INTO meta(key, value) VALUES ('generation', '1')"
                    " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
            db.executemany("DELETE FROM rejected WHERE source = ?", [(source,) for source in forgotten])
            db.executemany(
                f"INSERT OR REPLACE INTO rejected({_WRITTEN_REJECTED_COLUMNS}) VALUES ({_marks(6)})",
                [(r.source, r.root, r.file_hash, r.chunker, r.reason, r.message) for r in rejected],
            )
            for source in [*removed, *(u.record.source for u in updates)]:
                for table in ("chunks_fts", "chunks_pinyin"):
                    db.execute(
                        f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM chunks WHERE source = ?)",
                        (source,),
                    )
                db.execute("DELETE FROM chunks WHERE source = ?", (source,))
                db.execute("DELETE FROM documents WHERE source = ?", (source,))
            for update in updates:
                r = update.record
                db.execute(
                    f"INSERT INTO documents({_WRITTEN_DOCUMENT_COLUMNS}) VALUES ({_marks(11)})",
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
                for chunk, tokens, pinyin in zip(update.chunks, update.tokens, update.pinyin, strict=True):
                    cursor = db.execute(
                        f"INSERT INTO chunks({_CHUNK_COLUMNS}) VALUES ({_marks(11)})",
                        (
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
                        ),
                    )
                    db.execute(
                        "INSERT INTO chunks_fts(rowid, tokens) VALUES (?, ?)",
                        (cursor.lastrowid, " ".join(tokens)),
                    )
                    db.execute(
                        "INSERT INTO chunks_pinyin(rowid, tokens) VALUES (?, ?)",
                        (cursor.lastrowid, " ".join(pinyin)),
                    )
