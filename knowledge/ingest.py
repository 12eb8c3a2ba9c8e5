"""Incremental, idempotent ingest of folders of documents.

An ingest mirrors each given folder into the knowledge base:
1. files are hashed; unchanged files (same bytes, same chunker settings) are skipped, and so are files
   an earlier run refused (same bytes, same settings and budgets): a bad file is read once, not at
   every ingest;
2. changed and new files are parsed and chunked in a worker process (knowledge.parsing) under
   per-document budgets; unreadable files are reported, with a reason in Chinese, and keep their old
   chunks;
3. vectors missing from the store are embedded and written batch by batch (a killed run resumes here);
   chunks whose vector text (knowledge.vector_text, up to whitespace) is the same share one embedding,
   also with vectors already stored; the catalog marks each chunk given a vector;
4. the catalog (texts + BM25, and the refused files) switches to the new state in one SQLite
   transaction;
5. vectors no longer in the catalog are deleted.
Until step 4 commits, queries see the previous state, so an ingest killed or cancelled at any point
leaves the old index answering. Searchable first swaps steps 3 and 4: the documents answer by their
words from the commit on, their vectors follow (stage "complete"), and a crash or cancel after the commit
leaves chunks pending (`pending_by_source`) that the next ingest embeds. Documents under an ingested
folder whose files are gone are removed (`prune=True`, the default); documents ingested from other
folders are never touched.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.catalog import DocumentRecord, DocumentUpdate, MetadataOverride, RejectedDocument
from knowledge.chunking import CHUNKER_VERSION, Chunk
from knowledge.lexical import TOKENIZER_VERSION, lexical_tokens
from knowledge.loaders import LoadError, is_supported
from knowledge.metadata import DocumentMeta
from knowledge.parsing import DocumentParser, ParsedFile, ParserConfig
from knowledge.phonetic import PINYIN_VERSION, pinyin_tokens
from knowledge.vector_text import token_counter, vector_text

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total); stages are "read", "embed" and, when the documents already answer
(searchable first), "complete": their vectors being added."""


class IngestCancelled(Exception):
    """The ingest stopped because its `cancelled` callback said so; nothing was committed."""


@dataclass
class SkippedFile:
    source: str
    reason: str
    """What went wrong, in English, for the logs."""
    message: str
    """The same for the officials, in Simplified Chinese, with what to do about it."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    """Files refused by this run."""
    rejected_before: list[str] = field(default_factory=list)
    """Files an earlier run refused, unchanged since: not read again (`KnowledgeBase.rejected_documents`
    says why; `forget_rejected` has them read at the next ingest)."""
    chunks: int = 0
    """Chunks in the knowledge base after the ingest."""
    embedded: int = 0
    """Texts embedded by this run (vectors reused from an interrupted run are not counted)."""
    shared: int = 0
    """Chunks that needed a vector and got a copy of one for the same text (embedded earlier in this run,
    or already in the store) instead of an embedding of their own."""
    seconds: float = 0.0
    searchable_s: float = 0.0
    """Seconds from the start until the documents answered (the catalog's commit)."""
    pending: int = 0
    """Committed chunks still without a vector at the end (only with `searchable_first`)."""

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


def _checkpoint(cancelled: Callable[[], bool] | None) -> Callable[[], None]:
    def check() -> None:
        if cancelled is not None and cancelled():
            raise IngestCancelled("ingest cancelled; the knowledge base is unchanged")

    return check


def ingest(
    kb: KnowledgeBase,
    paths: Sequence[Path],
    *,
    prune: bool = True,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    force: Collection[str] = (),
    searchable_first: bool | None = None,
) -> IngestReport:
    """Mirror the given folders (or files) into the knowledge base. `cancelled` is asked often (while a
    document is parsed, between documents and between embedding batches; keep it cheap): once it says
    true, the ingest stops (within about a second while reading, after the current batch while embedding:
    `embed_batch_size` texts, ~8 s at 64 on 2 cores) and raises `IngestCancelled`, committing nothing.
    `force` names sources to read again even when unchanged (and even when an earlier run refused them).
    Officials' metadata corrections (`Catalog.set_override`) are applied to every document read.
    `searchable_first` (default: the `ingest_searchable_first` setting) commits the documents' chunks and
    lexical index before embedding them, so they answer within seconds, and embeds afterwards; a
    cancellation or a crash during that embedding keeps the commit (the report's `pending` chunks answer
    lexically until the next ingest or `embed_pending` embeds them)."""
    started = time.perf_counter()
    report = IngestReport()
    notify: Progress = progress or (lambda stage, done, total: None)
    check = _checkpoint(cancelled)
    files = discover(paths)
    chunker = _chunker_id(kb)
    config = ParserConfig.from_settings(kb.settings)
    with kb.writer():
        recipe = f"{chunker}:{config.fingerprint()}"
        run = _Run(kb, check, chunker, recipe, report, kb.catalog.overrides(), set(force))
        refused = {r.source: r for r in kb.catalog.rejected_documents()}
        to_read: list[_Changed] = []
        for file in files:
            check()
            if (needed := run.triage(file, refused.get(file.source))) is not None:
                to_read.append(needed)
        done = len(files) - len(to_read)
        notify("read", done, len(files))
        # The parser's worker lives while files are read, not while they are embedded.
        with DocumentParser(config) as parser:
            readings = parser.parse_all([(c.file.path, c.file.source) for c in to_read], check)
            for needed, parsed in zip(to_read, readings, strict=True):
                run.take(needed, parsed)
                done += 1
                notify("read", done, len(files))
        seen = {file.source for file in files}

        removed: list[str] = []
        if prune:
            folders = {str(p.expanduser().resolve()) for p in paths if p.is_dir()}
            removed = [d.source for d in kb.catalog.documents() if d.root in folders and d.source not in seen]
            run.forgotten.extend(s for s, r in refused.items() if r.root in folders and s not in seen)
        report.removed = removed

        updates = run.updates
        changed = {u.record.source for u in updates} | set(removed)
        kept = sorted(
            kb.catalog.chunk_ids(d.source for d in kb.catalog.documents() if d.source not in changed)
        )
        new_chunks = [c for u in updates for c in u.chunks]
        first = kb.settings.ingest_searchable_first if searchable_first is None else searchable_first
        if not first:
            report.embedded = _embed_missing(kb, new_chunks, kept, notify, check, report)

        check()
        if updates or removed or run.rejected or run.forgotten:
            kb.catalog.apply(updates, removed, run.rejected, run.forgotten)
            log.info(
                "catalog committed: %d documents updated, %d removed, %d refused",
                len(updates),
                len(removed),
                len(run.rejected),
            )
        report.searchable_s = time.perf_counter() - started
        if first:
            # Committed: every chunk answers lexically now, and each batch of vectors joins the dense
            # search as it is written. Stopping here leaves chunks without vectors; any later ingest
            # (or `embed_pending`) embeds them.
            def completing(stage: str, done: int, total: int) -> None:
                notify("complete" if stage == "embed" else stage, done, total)

            try:
                report.embedded = _embed_missing(
                    kb, [], sorted(kb.catalog.chunk_ids()), completing, check, report
                )
            except IngestCancelled:
                # Too late to commit nothing: the documents stay, answering by their words, and the
                # next ingest (any re-index) completes their vectors.
                log.warning("embedding stopped; the committed documents answer lexically until embedded")
        stale = sorted(kb.vectors.all_ids() - kb.catalog.chunk_ids())
        if stale:
            kb.vectors.delete(stale)
            kb.catalog.mark_embedded(kb.vectors.name, stale, embedded=False)
            log.info("deleted %d stale vectors", len(stale))
        report.pending = pending_embeddings(kb) if first else 0
    report.chunks = kb.catalog.chunk_count()
    report.seconds = time.perf_counter() - started
    return report


def _file_hash(path: Path) -> str:
    """Read in blocks: the server never holds a whole file, however large, to hash it."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Changed:
    """A file to read: new, changed, or indexed with another recipe."""

    file: _SourceFile
    file_hash: str
    previous: DocumentRecord | None


@dataclass
class _Run:
    """One ingest: what it reads with, and what it will commit."""

    kb: KnowledgeBase
    check: Callable[[], None]
    chunker: str
    recipe: str
    """The chunker and the parser's budgets: a refusal stands for the same bytes under the same recipe."""
    report: IngestReport
    overrides: dict[str, MetadataOverride] = field(default_factory=dict)
    """Officials' metadata corrections by source."""
    force: set[str] = field(default_factory=set)
    """Sources read again even when unchanged."""
    updates: list[DocumentUpdate] = field(default_factory=list)
    rejected: list[RejectedDocument] = field(default_factory=list)
    """Files refused by this run, to record."""
    forgotten: list[str] = field(default_factory=list)
    """Sources whose earlier refusal no longer stands: changed, indexed after all, or gone."""

    def chunker_of(self, source: str) -> str:
        """The recipe a document is indexed with, its metadata correction included: a document whose
        correction changed (or was removed) since it was indexed is read again, with the new one."""
        override = self.overrides.get(source)
        return f"{self.chunker}:meta={override.fingerprint()}" if override else self.chunker

    def triage(self, file: _SourceFile, refused: RejectedDocument | None) -> _Changed | None:
        """The file, when it has to be read; unchanged and still refused files are only counted."""
        report = self.report
        try:
            file_hash = _file_hash(file.path)
        except OSError as exc:
            report.skipped.append(
                SkippedFile(file.source, f"cannot read file: {exc}", "无法打开文件，请重新上传。")
            )
            log.warning("skipped %s: %s", file.source, exc)
            return None
        if refused is not None:
            same = refused.file_hash == file_hash and refused.chunker == self.recipe
            if same and file.source not in self.force:
                report.rejected_before.append(file.source)
                return None
            self.forgotten.append(file.source)
        previous = self.kb.catalog.document(file.source)
        if (
            previous is not None
            and previous.file_hash == file_hash
            and previous.chunker == self.chunker_of(file.source)
            and file.source not in self.force
        ):
            report.unchanged.append(file.source)
            return None
        return _Changed(file, file_hash, previous)

    def take(self, changed: _Changed, parsed: ParsedFile | LoadError) -> None:
        file, report = changed.file, self.report
        if isinstance(parsed, LoadError):
            report.skipped.append(SkippedFile(file.source, parsed.reason, parsed.message))
            self.rejected.append(
                RejectedDocument(
                    file.source, str(file.root), changed.file_hash, self.recipe, parsed.reason, parsed.message
                )
            )
            log.warning("skipped %s: %s", file.source, parsed.reason)
            return
        meta, chunks = parsed.meta, parsed.chunks
        override = self.overrides.get(file.source)
        if override is not None:
            meta, chunks = _corrected(meta, chunks, override)
        (report.updated if changed.previous is not None else report.added).append(file.source)
        record = DocumentRecord(
            source=file.source,
            root=str(file.root),
            file_hash=changed.file_hash,
            chunker=self.chunker_of(file.source),
            title=meta.title,
            kind=meta.kind,
            region=meta.region,
            valid_from=meta.valid_from,
            valid_to=meta.valid_to,
            chunks=len(chunks),
            chars=sum(len(c.text) for c in chunks),
        )
        tokens: list[list[str]] = []
        pinyin: list[list[str]] = []
        for chunk in chunks:
            self.check()  # tokenising a long document takes seconds
            tokens.append(lexical_tokens(chunk.embedding_text()))
            pinyin.append(pinyin_tokens(chunk.embedding_text()))
        self.updates.append(DocumentUpdate(record, chunks, tokens, pinyin))


def _corrected(
    meta: DocumentMeta, chunks: Sequence[Chunk], override: MetadataOverride
) -> tuple[DocumentMeta, list[Chunk]]:
    """The document's metadata with an official's correction, on the document and on every chunk (they
    carry it for filtering and citing). A chunk's id names its metadata, so corrected chunks get ids of
    their own, derived from the file's ids: stable across ingests, never shared with the uncorrected
    version's vectors (whose metadata, used by the vector store's filters, is the old one)."""
    fields = override.fields()
    corrected = replace(meta, **fields)
    fingerprint = override.fingerprint()
    return corrected, [
        replace(
            chunk,
            id=hashlib.sha256(f"{chunk.id}\x1f{fingerprint}".encode()).hexdigest()[:32],
            title=corrected.title,
            kind=corrected.kind,
            region=corrected.region,
            valid_from=corrected.valid_from,
            valid_to=corrected.valid_to,
        )
        for chunk in chunks
    ]


def embed_hash(text: str) -> str:
    """The key under which a text's vector is shared: texts equal up to whitespace (runs of spaces,
    line breaks, leading and trailing blanks) are embedded once."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:32]


def _embed_missing(
    kb: KnowledgeBase,
    new_chunks: list[Chunk],
    kept_ids: list[str],
    notify: Progress,
    check: Callable[[], None],
    report: IngestReport | None = None,
) -> int:
    """Give every chunk of the future state that has no vector one; returns how many texts were embedded.
    Chunks with the same normalised text (repeated boilerplate, a notice published twice) share one
    embedding, within this run and with vectors already in the store (looked up by text hash)."""
    wanted = {c.id: c for c in new_chunks}
    have = kb.vectors.existing([*wanted, *kept_ids])
    missing = [c for cid, c in wanted.items() if cid not in have]
    lost = [cid for cid in kept_ids if cid not in have]
    _reconcile_marks(kb, have, {*wanted, *kept_ids})
    if lost:
        # Unchanged documents without vectors: a new embedder, or a store that was reset.
        missing.extend(kb.catalog.chunks(lost).values())
    cap, count = kb.vector_tokens, token_counter(kb.embeddings)
    texts: dict[str, str] = {}
    groups: dict[str, list[Chunk]] = {}
    for chunk in missing:
        text = vector_text(chunk, cap, count)
        digest = embed_hash(text)
        texts.setdefault(digest, text)
        groups.setdefault(digest, []).append(chunk)
    stored = kb.vectors.by_hash(list(groups)) if kb.settings.embed_dedup and groups else {}
    reused = [(digest, chunks) for digest, chunks in groups.items() if digest in stored]
    for start in range(0, len(reused), 256):
        check()
        part = reused[start : start + 256]
        chunks = [c for _, cs in part for c in cs]
        hashes = [d for d, cs in part for _ in cs]
        kb.vectors.add(chunks, [stored[d] for d in hashes], hashes)
        kb.catalog.mark_embedded(kb.vectors.name, (c.id for c in chunks))
    if kb.settings.embed_dedup:
        todo = [(digest, chunks) for digest, chunks in groups.items() if digest not in stored]
    else:
        todo = [(digest, [c]) for digest, chunks in groups.items() for c in chunks]
    total = len(todo)
    batch = max(1, kb.settings.embed_batch_size)
    notify("embed", 0, total)

    def write(part: list[tuple[str, list[Chunk]]], vectors: list[list[float]]) -> None:
        written = [c for _, cs in part for c in cs]
        kb.vectors.add(
            written,
            [v for (_, cs), v in zip(part, vectors, strict=True) for _ in cs],
            [d for d, cs in part for _ in cs],
        )
        kb.catalog.mark_embedded(kb.vectors.name, (c.id for c in written))

    def written(pending: Future[None], done: int) -> None:
        pending.result()
        notify("embed", done, total)
        log.info("embedded %d/%d chunks", done, total)

    # Each batch's vectors are written while the next batch embeds (the writes took ~5% of the time).
    # A cancel or an error still waits for the batch being written, so vectors and marks stay together.
    with ThreadPoolExecutor(1, thread_name_prefix="vector-writer") as writer:
        pending: tuple[Future[None], int] | None = None
        try:
            for start in range(0, total, batch):
                check()
                part = todo[start : start + batch]
                vectors = kb.embeddings.embed_documents([texts[digest] for digest, _ in part])
                if pending is not None:
                    previous, pending = pending, None
                    written(*previous)
                pending = (writer.submit(write, part, vectors), min(start + batch, total))
        finally:
            if pending is not None:
                written(*pending)
    if report is not None:
        report.shared = len(missing) - total
    return total


def _reconcile_marks(kb: KnowledgeBase, have: set[str], future: set[str]) -> None:
    """Make the catalog's marks of embedded chunks agree with the store for the chunks of the state
    being built (a crash between a vector's write and its mark, a document deleted and uploaded again,
    an index from before the marks)."""
    marks = kb.catalog.embedded_ids(kb.vectors.name)
    kb.catalog.mark_embedded(kb.vectors.name, sorted(have - marks))
    kb.catalog.mark_embedded(kb.vectors.name, sorted((future - have) & marks), embedded=False)


def pending_by_source(kb: KnowledgeBase) -> dict[str, int]:
    """Committed chunks without a vector, per document (documents with none left out): they answer
    lexically only until embedded (after a searchable-first commit, or an embedding that was
    interrupted or cancelled). Read from the catalog's marks, or from the store for an index whose marks
    were never reconciled (built before them and not ingested since)."""
    collection = kb.vectors.name
    if kb.catalog.embedded_known(collection):
        return kb.catalog.pending_by_source(collection)
    ids = sorted(kb.catalog.chunk_ids())
    missing = set(ids) - kb.vectors.existing(ids)
    counts: dict[str, int] = {}
    for chunk in kb.catalog.chunks(sorted(missing)).values():
        counts[chunk.source] = counts.get(chunk.source, 0) + 1
    return counts


def pending_embeddings(kb: KnowledgeBase) -> int:
    """Committed chunks without a vector (`pending_by_source`, summed)."""
    return sum(pending_by_source(kb).values())


def embed_pending(
    kb: KnowledgeBase, progress: Progress | None = None, cancelled: Callable[[], bool] | None = None
) -> int:
    """Embed the committed chunks that have no vector (for a background worker after a searchable-first
    ingest); returns how many texts were embedded. Takes the writer's lock like an ingest."""
    with kb.writer():
        return _embed_missing(
            kb, [], sorted(kb.catalog.chunk_ids()), progress or (lambda *_: None), _checkpoint(cancelled)
        )
