"""Incremental, idempotent ingest of folders of documents.

An ingest mirrors each given folder into the knowledge base:
1. files are hashed; unchanged files (same bytes, same chunker settings) are skipped;
2. changed and new files are parsed and chunked; unreadable files are reported and keep their old chunks;
3. vectors missing from the store are embedded and written batch by batch (a killed run resumes here);
4. the catalog (texts + BM25) switches to the new state in one SQLite transaction;
5. vectors no longer in the catalog are deleted.
Until step 4 commits, queries see the previous state, so an ingest killed at any point leaves the old
index answering. Documents under an ingested folder whose files are gone are removed (`prune=True`,
the default); documents ingested from other folders are never touched.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.catalog import DocumentRecord, DocumentUpdate
from knowledge.chunking import CHUNKER_VERSION, Chunk, chunk_document
from knowledge.lexical import TOKENIZER_VERSION, lexical_tokens
from knowledge.loaders import LoadError, is_supported, load_document
from knowledge.metadata import document_meta
from knowledge.phonetic import PINYIN_VERSION, pinyin_tokens

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total); stages are "read" and "embed"."""


@dataclass
class SkippedFile:
    source: str
    reason: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0
    """Chunks in the knowledge base after the ingest."""
    embedded: int = 0
    """Chunks embedded by this run (vectors reused from an interrupted run are not counted)."""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class _SourceFile:
    path: Path
    root: Path
    source: str


def discover(paths: Sequence[Path]) -> list[_SourceFile]:
    """Supported files under the given folders (or the files themselves), hidden ones excluded."""
    found: dict[str, _SourceFile] = {}
    for given in paths:
        path = given.expanduser().resolve()
        if path.is_file():
            found[path.name] = _SourceFile(path, path.parent, path.name)
            continue
        if not path.is_dir():
            raise FileNotFoundError(f"no such file or folder: {given}")
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if any(part.startswith(".") for part in relative.parts) or not file.is_file():
                continue
            if is_supported(file):
                found[relative.as_posix()] = _SourceFile(file, path, relative.as_posix())
    return list(found.values())


def _chunker_id(kb: KnowledgeBase) -> str:
    """The recipe a document was indexed with; a document indexed another way is indexed again."""
    s = kb.settings
    return f"{CHUNKER_VERSION}:{TOKENIZER_VERSION}:{PINYIN_VERSION}:{s.chunk_max_chars}:{s.chunk_min_chars}"


def ingest(
    kb: KnowledgeBase, paths: Sequence[Path], *, prune: bool = True, progress: Progress | None = None
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    notify: Progress = progress or (lambda stage, done, total: None)
    files = discover(paths)
    chunker = _chunker_id(kb)
    with kb.writer():
        updates: list[DocumentUpdate] = []
        seen: set[str] = set()
        for done, file in enumerate(files, start=1):
            notify("read", done - 1, len(files))
            seen.add(file.source)
            update = _read(kb, file, chunker, report)
            if update is not None:
                updates.append(update)
        notify("read", len(files), len(files))

        removed: list[str] = []
        if prune:
            folders = {str(p.expanduser().resolve()) for p in paths if p.is_dir()}
            removed = [d.source for d in kb.catalog.documents() if d.root in folders and d.source not in seen]
        report.removed = removed

        changed = {u.record.source for u in updates} | set(removed)
        kept = sorted(
            kb.catalog.chunk_ids(d.source for d in kb.catalog.documents() if d.source not in changed)
        )
        new_chunks = [c for u in updates for c in u.chunks]
        report.embedded = _embed_missing(kb, new_chunks, kept, notify)

        if updates or removed:
            kb.catalog.apply(updates, removed)
            log.info("catalog committed: %d documents updated, %d removed", len(updates), len(removed))
        stale = sorted(kb.vectors.all_ids() - kb.catalog.chunk_ids())
        if stale:
            kb.vectors.delete(stale)
            log.info("deleted %d stale vectors", len(stale))
    report.chunks = kb.catalog.chunk_count()
    report.seconds = time.perf_counter() - started
    return report


def _read(kb: KnowledgeBase, file: _SourceFile, chunker: str, report: IngestReport) -> DocumentUpdate | None:
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        report.skipped.append(SkippedFile(file.source, f"cannot read file: {exc}"))
        log.warning("skipped %s: %s", file.source, exc)
        return None
    file_hash = hashlib.sha256(data).hexdigest()
    previous = kb.catalog.document(file.source)
    if previous is not None and previous.file_hash == file_hash and previous.chunker == chunker:
        report.unchanged.append(file.source)
        return None
    try:
        parsed = load_document(file.path)
    except LoadError as exc:
        report.skipped.append(SkippedFile(file.source, str(exc)))
        log.warning("skipped %s: %s", file.source, exc)
        return None
    meta = document_meta(parsed, file.source)
    chunks = chunk_document(parsed, meta, kb.settings.chunk_max_chars, kb.settings.chunk_min_chars)
    if not chunks:
        report.skipped.append(SkippedFile(file.source, "no text found"))
        log.warning("skipped %s: no text found", file.source)
        return None
    (report.updated if previous is not None else report.added).append(file.source)
    record = DocumentRecord(
        source=file.source,
        root=str(file.root),
        file_hash=file_hash,
        chunker=chunker,
        title=meta.title,
        kind=meta.kind,
        region=meta.region,
        valid_from=meta.valid_from,
        valid_to=meta.valid_to,
        chunks=len(chunks),
        chars=sum(len(c.text) for c in chunks),
    )
    tokens = [lexical_tokens(c.embedding_text()) for c in chunks]
    pinyin = [pinyin_tokens(c.embedding_text()) for c in chunks]
    return DocumentUpdate(record, chunks, tokens, pinyin)


def _embed_missing(kb: KnowledgeBase, new_chunks: list[Chunk], kept_ids: list[str], notify: Progress) -> int:
    """Embed every chunk of the future state that has no vector yet; returns how many were embedded."""
    wanted = {c.id: c for c in new_chunks}
    have = kb.vectors.existing([*wanted, *kept_ids])
    missing = [c for cid, c in wanted.items() if cid not in have]
    lost = [cid for cid in kept_ids if cid not in have]
    if lost:
        # Unchanged documents without vectors: a new embedder, or a store that was reset.
        missing.extend(kb.catalog.chunks(lost).values())
    total = len(missing)
    batch = max(1, kb.settings.embed_batch_size)
    notify("embed", 0, total)
    for start in range(0, total, batch):
        part = missing[start : start + batch]
        vectors = kb.embeddings.embed_documents([c.embedding_text() for c in part])
        kb.vectors.add(part, vectors)
        done = min(start + batch, total)
        notify("embed", done, total)
        log.info("embedded %d/%d chunks", done, total)
    return total
