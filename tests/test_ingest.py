from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from knowledge.base import IngestInProgress, KnowledgeBase
from knowledge.ingest import IngestReport, ingest
from xiangyin.settings import Settings

EXPECTED_SOURCES = [
    "handbook/broadcast.docx",
    "policy/dibao.txt",
    "policy/grain.md",
    "policy/homestead.html",
    "policy/machinery.pdf",
    "policy/medical.md",
    "policy/pension.txt",
]


def vector_ids(kb: KnowledgeBase) -> set[str]:
    return kb.vectors.all_ids()


def test_first_ingest_loads_every_format(loaded: tuple[KnowledgeBase, IngestReport]) -> None:
    kb, report = loaded
    assert sorted(report.added) == EXPECTED_SOURCES
    assert report.skipped == []
    assert report.chunks == kb.catalog.chunk_count() == report.embedded
    assert vector_ids(kb) == kb.catalog.chunk_ids()
    kinds = {d.source: d.kind for d in kb.documents()}
    assert kinds["handbook/broadcast.docx"] == "handbook"
    assert kinds["policy/homestead.html"] == "policy"


def test_reingest_changes_nothing(loaded: tuple[KnowledgeBase, IngestReport], corpus: Path) -> None:
    kb, _ = loaded
    ids_before = kb.catalog.chunk_ids()
    documents_before = kb.documents()
    report = ingest(kb, [corpus])
    assert sorted(report.unchanged) == EXPECTED_SOURCES
    assert not report.changed
    assert report.embedded == 0
    assert kb.catalog.chunk_ids() == ids_before
    assert vector_ids(kb) == ids_before
    assert kb.documents() == documents_before


def test_edited_file_replaces_its_old_chunks(
    loaded: tuple[KnowledgeBase, IngestReport], corpus: Path
) -> None:
    kb, _ = loaded
    grain = corpus / "policy" / "grain.md"
    others_before = kb.catalog.chunk_ids(s for s in EXPECTED_SOURCES if s != "policy/grain.md")
    grain.write_text(grain.read_text(encoding="utf-8").replace("每亩120元", "每亩135元"), encoding="utf-8")
    report = ingest(kb, [corpus])
    assert report.updated == ["policy/grain.md"]
    assert report.embedded == 1  # only the edited article is new; the others keep their vectors
    texts = "\n".join(c.text for c in kb.catalog.chunks_of("policy/grain.md"))
    assert "每亩135元" in texts and "每亩120元" not in texts
    assert kb.catalog.chunk_ids(s for s in EXPECTED_SOURCES if s != "policy/grain.md") == others_before
    assert vector_ids(kb) == kb.catalog.chunk_ids()
    hit = kb.search("耕地地力保护补贴每亩多少钱", k=1)[0]
    assert "每亩135元" in hit.chunk.text


def test_deleted_file_is_pruned_by_default(loaded: tuple[KnowledgeBase, IngestReport], corpus: Path) -> None:
    kb, _ = loaded
    (corpus / "policy" / "pension.txt").unlink()
    kept = ingest(kb, [corpus], prune=False)
    assert kept.removed == []
    assert kb.catalog.document("policy/pension.txt") is not None
    report = ingest(kb, [corpus])
    assert report.removed == ["policy/pension.txt"]
    assert kb.catalog.document("policy/pension.txt") is None
    assert kb.catalog.chunks_of("policy/pension.txt") == []
    assert vector_ids(kb) == kb.catalog.chunk_ids()
    assert all(h.chunk.source != "policy/pension.txt" for h in kb.search("养老保险缴费档次", k=10))


def test_ingesting_another_folder_does_not_prune_the_first(
    loaded: tuple[KnowledgeBase, IngestReport], tmp_path: Path
) -> None:
    kb, _ = loaded
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "notice.txt").write_text("停水通知\n本周六上午8点至12点桃源村停水检修。", encoding="utf-8")
    report = ingest(kb, [extra])
    assert report.added == ["notice.txt"]
    assert report.removed == []
    assert len(kb.documents()) == len(EXPECTED_SOURCES) + 1


def test_corrupt_file_is_reported_and_the_rest_goes_on(kb: KnowledgeBase, corpus: Path) -> None:
    (corpus / "policy" / "broken.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 definitely not a pdf")
    (corpus / "policy" / "empty.txt").write_text("   \n", encoding="utf-8")
    report = ingest(kb, [corpus])
    assert sorted(report.added) == EXPECTED_SOURCES
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons["policy/broken.pdf"].startswith("unreadable PDF")
    assert reasons["policy/empty.txt"] == "no text found"
    messages = {s.source: s.message for s in report.skipped}
    assert messages == {
        "policy/broken.pdf": "文件损坏，无法读取。",
        "policy/empty.txt": "文件里没有可以读取的文字。",
    }
    assert sorted(r.source for r in kb.rejected_documents()) == ["policy/broken.pdf", "policy/empty.txt"]


def test_a_file_that_turns_corrupt_keeps_its_previous_version(
    loaded: tuple[KnowledgeBase, IngestReport], corpus: Path
) -> None:
    kb, _ = loaded
    before = kb.catalog.chunks_of("policy/machinery.pdf")
    (corpus / "policy" / "machinery.pdf").write_bytes(b"%PDF-1.4 truncated")
    report = ingest(kb, [corpus])
    assert [s.source for s in report.skipped] == ["policy/machinery.pdf"]
    assert report.removed == []
    assert kb.catalog.chunks_of("policy/machinery.pdf") == before
    # Both are listed: the indexed version, which still answers, and why the new one was refused.
    assert [r.source for r in kb.rejected_documents()] == ["policy/machinery.pdf"]
    assert kb.catalog.document("policy/machinery.pdf") is not None


def test_only_one_writer_at_a_time(kb: KnowledgeBase, corpus: Path) -> None:
    with kb.writer(), pytest.raises(IngestInProgress):
        ingest(kb, [corpus])


def test_missing_path_is_an_error(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ingest(kb, [tmp_path / "nowhere"])


def _grow(corpus: Path, documents: int) -> None:
    """Enough new text that embedding it takes several seconds."""
    folder = corpus / "cases"
    folder.mkdir(exist_ok=True)
    for n in range(documents):
        lines = [f"第{n}号村庄案例"]
        for item in range(6):
            lines.append(
                f"{item + 1}. 第{n}号村在{2018 + item}年发展特色产业，种植茶叶{100 + n}亩，带动{20 + item}户农户增收，"
                f"每户年均增收{3000 + 100 * n}元，村集体经济收入达到{10 + item}万元。"
            )
        (folder / f"case{n:03d}.txt").write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.slow
def _kill_while_embedding(settings: Settings, corpus: Path, searchable_first: bool) -> None:
    """Change a document, add 40, and kill `xiangyin ingest` (SIGKILL: no clean-up) after three batches
    of vectors."""
    grain = corpus / "policy" / "grain.md"
    grain.write_text(grain.read_text(encoding="utf-8").replace("每亩120元", "每亩150元"), encoding="utf-8")
    _grow(corpus, 40)
    env = {
        **os.environ,
        "XIANGYIN_HOME": str(settings.home),
        "XIANGYIN_EMBED_BATCH_SIZE": "4",
        "XIANGYIN_INGEST_SEARCHABLE_FIRST": str(searchable_first).lower(),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "xiangyin", "--verbose", "ingest", str(corpus)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    embedded_lines = 0
    for line in process.stderr:
        if "embedded" in line:
            embedded_lines += 1
            if embedded_lines == 3:
                break
        assert time.monotonic() < deadline, "the ingest never started embedding"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_killed_ingest_leaves_the_previous_index_answering(
    loaded: tuple[KnowledgeBase, IngestReport], corpus: Path, settings: Settings, embeddings: Embeddings
) -> None:
    """Without searchable first, nothing of an ingest counts until all of its vectors exist."""
    kb, _ = loaded
    sources_before = [(d.source, d.file_hash) for d in kb.documents()]
    ids_before = kb.catalog.chunk_ids()
    _kill_while_embedding(settings, corpus, searchable_first=False)

    # A fresh process view of the same data home: the committed state is the old one, and it answers.
    after = KnowledgeBase(settings, embeddings)
    try:
        assert [(d.source, d.file_hash) for d in after.documents()] == sources_before
        assert after.catalog.chunk_ids() == ids_before
        assert len(after.vectors.all_ids()) > len(ids_before)  # vectors of the unfinished run are there...
        hits = after.search("耕地地力保护补贴每亩多少钱", k=3)
        assert "每亩120元" in hits[0].chunk.text  # ...but only committed chunks are ever returned
        assert all(h.chunk.id in ids_before for h in after.search("茶叶种植带动农户增收", k=10))

        # Running the ingest again finishes the work and reuses the vectors already computed.
        report = ingest(after, [corpus])
        new_chunks = report.chunks - len(ids_before) + 1
        assert 0 < report.embedded < new_chunks
        assert after.vectors.all_ids() == after.catalog.chunk_ids()
        assert "每亩150元" in after.search("耕地地力保护补贴每亩多少钱", k=1)[0].chunk.text
    finally:
        after.close()


def test_killed_searchable_first_ingest_answers_from_what_it_committed(
    loaded: tuple[KnowledgeBase, IngestReport], corpus: Path, settings: Settings, embeddings: Embeddings
) -> None:
    """Searchable first (the default): the new documents were committed before their vectors, so a kill
    while embedding leaves them answering by their words, and the next ingest completes the vectors."""
    kb, _ = loaded
    documents_before = len(kb.documents())
    _kill_while_embedding(settings, corpus, searchable_first=True)

    after = KnowledgeBase(settings, embeddings)
    try:
        assert len(after.documents()) == documents_before + 40
        missing = after.catalog.chunk_ids() - after.vectors.all_ids()
        assert missing, "killed before every vector was written"
        assert "每亩150元" in after.search("耕地地力保护补贴每亩多少钱", k=1)[0].chunk.text
        hits = after.search("第37号村在2021年发展特色产业带动多少户农户增收", k=5)
        assert hits and hits[0].chunk.source == "cases/case037.txt"

        report = ingest(after, [corpus])
        assert report.added == [] and report.updated == []
        assert 0 < report.embedded <= len(missing)
        assert after.vectors.all_ids() == after.catalog.chunk_ids()
    finally:
        after.close()
