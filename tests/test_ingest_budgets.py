"""Budgets per document, the parser's worker process, cancellation and the record of refused files, on
real hostile files (built here, cheaply: a bomb is mostly repetition, which compresses to almost
nothing), a real worker process and a real catalog."""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest
from langchain_core.embeddings import Embeddings

from knowledge.base import KnowledgeBase
from knowledge.catalog import SqliteCatalog
from knowledge.ingest import IngestCancelled, IngestReport, ingest
from tests.corpus import write_docx
from xiangyin.settings import Settings

BOMB_MESSAGE = "文件解压后超过200MB，可能已损坏或是压缩炸弹，请检查后重新上传。"
_PARAGRAPH = "<w:p><w:r><w:t>啊</w:t></w:r></w:p>".encode()


def write_docx_bomb(path: Path, megabytes: int, declared: int | None = None) -> None:
    """A valid Word file whose body is rewritten to `megabytes` MB of paragraphs, streamed through
    deflate (about 1000:1). With `declared`, the central directory claims the body unzips to that many
    bytes: a lie that only unzipping finds out."""
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("村务公开")
    document.save(buffer)
    block = _PARAGRAPH * (1_000_000 // len(_PARAGRAPH))
    with zipfile.ZipFile(buffer) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in original.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, original.read(item))
                continue
            head, tail = original.read(item).split(b"<w:body>")
            with bomb.open("word/document.xml", "w") as body:
                body.write(head + b"<w:body>")
                for _ in range(megabytes):
                    body.write(block)
                body.write(tail)
    if declared is not None:
        _declare_size(path, "word/document.xml", declared)


def _declare_size(path: Path, name: str, size: int) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        offset = package.start_dir
    while data[offset : offset + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, offset + 28)
        if data[offset + 46 : offset + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, offset + 24, size)
        offset += 46 + name_length + extra_length + comment_length
    path.write_bytes(data)


def write_slow_markdown(path: Path) -> None:
    """A 100 KB line of unclosed `[`: each one sends the Markdown link pattern to the end of the line,
    quadratic work in the regex engine (C): half a minute for one small file."""
    path.write_text("# 慢\n\n" + "[" * 100_000 + "\n", encoding="utf-8")


def write_note(path: Path, text: str = "停水通知：本周六上午8点至12点桃源村停水检修。") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _skipped(report: IngestReport) -> dict[str, tuple[str, str]]:
    return {s.source: (s.reason, s.message) for s in report.skipped}


@dataclass
class _Peak:
    grown_mb: float = 0.0


@contextmanager
def _rss_sampler() -> Iterator[_Peak]:
    """How far this process's resident memory rose above its level at the start, sampled every 5 ms."""
    peak = _Peak()
    done = threading.Event()

    def rss_mb() -> float:
        status = Path("/proc/self/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024

    def sample() -> None:
        start = rss_mb()
        while not done.wait(0.005):
            peak.grown_mb = max(peak.grown_mb, rss_mb() - start)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def _workers() -> list[int]:
    """This process's parser workers still alive (none between ingests)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and b"knowledge.parsing" in command:
            found.append(int(status.parent.name))
    return found


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    return folder


@contextmanager
def _kb(tmp_path: Path, embeddings: Embeddings, **budgets: Any) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(Settings(home=tmp_path / "home", **budgets), embeddings)
    try:
        yield base
    finally:
        base.close()


@pytest.fixture
def quick_kb(tmp_path: Path, embeddings: Embeddings) -> Iterator[KnowledgeBase]:
    """A knowledge base whose parser gives up after 3 seconds."""
    with _kb(tmp_path, embeddings, parse_timeout_s=3) as base:
        yield base


def test_docx_zip_bomb_is_refused_from_its_central_directory(kb: KnowledgeBase, docs: Path) -> None:
    write_note(docs / "notice.md")
    ingest(kb, [docs])  # the embedder and the vector store are loaded before memory is measured
    # The file: a 710 KB .docx whose body unzips to 209 MB.
    write_docx_bomb(docs / "bomb.docx", 210)
    assert (docs / "bomb.docx").stat().st_size < 1_000_000
    with _rss_sampler() as peak:
        report = ingest(kb, [docs])
    reason, message = _skipped(report)["bomb.docx"]
    assert message == BOMB_MESSAGE
    assert "unzips to" in reason
    assert report.unchanged == ["notice.md"]
    assert report.seconds < 5  # the worker's start-up; the refusal itself takes milliseconds
    assert peak.grown_mb < 30  # the server process never unzipped it
    assert _workers() == []


def test_a_docx_that_lies_about_its_size_is_stopped_by_the_memory_budget(
    tmp_path: Path, embeddings: Embeddings, docs: Path
) -> None:
    # Declared: a few KB, under every limit; real: 300 MB, unzipped in one go by zipfile.
    write_docx_bomb(docs / "liar.docx", 300, declared=5_000)
    write_note(docs / "notice.md")
    with _kb(tmp_path, embeddings, parser_memory_mb=100) as kb:
        started = time.monotonic()
        report = ingest(kb, [docs])
        assert time.monotonic() - started < 15
        reason, message = _skipped(report)["liar.docx"]
        assert message == "处理时占用内存超过100MB，已停止。请检查文件或拆分后再上传。"
        assert "memory" in reason
        assert report.added == ["notice.md"]  # read by a fresh worker after the first one gave up


def test_yaml_alias_bomb_in_front_matter_is_refused(kb: KnowledgeBase, docs: Path) -> None:
    # "Billion laughs": nine levels of nine aliases, 9**9 copies of "哈" once written out as text.
    levels = ['a0: &a0 ["哈哈哈哈哈哈哈哈哈"]']
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    (docs / "laughs.md").write_text(
        "---\n" + "\n".join(levels) + "\ntitle: *a8\n---\n正文。", encoding="utf-8"
    )
    started = time.monotonic()
    report = ingest(kb, [docs])
    assert time.monotonic() - started < 10
    reason, message = _skipped(report)["laughs.md"]
    assert reason == "front matter uses YAML aliases"
    assert message == "文件开头的YAML信息（两行---之间的部分）不能使用*引用，请修改后重新上传。"


def test_a_slow_parse_is_killed_when_its_time_is_up(quick_kb: KnowledgeBase, docs: Path) -> None:
    write_slow_markdown(docs / "slow.md")
    write_note(docs / "notice.md")
    report = ingest(quick_kb, [docs])
    reason, message = _skipped(report)["slow.md"]
    assert reason == "parse took over 3 s"
    assert message == "处理超过3秒仍未完成，已停止。请检查文件或拆分后再上传。"
    assert report.added == ["notice.md"]
    assert report.seconds < 3 + 8
    assert _workers() == []


def test_text_over_the_character_budget_is_refused_not_truncated(kb: KnowledgeBase, docs: Path) -> None:
    sentence = "村民委员会应当定期公布集体经济收支情况，接受村民监督。"
    (docs / "huge.txt").write_text("\n".join([sentence] * (510_000 // len(sentence))), encoding="utf-8")
    report = ingest(kb, [docs])
    reason, message = _skipped(report)["huge.txt"]
    assert message == "文件文字超过50万字，请拆成几个文件再上传。"
    assert "over the budget of 500000" in reason
    assert kb.documents() == []


def test_document_over_the_chunk_budget_is_refused(
    tmp_path: Path, embeddings: Embeddings, docs: Path
) -> None:
    articles = [f"第{n}条 村民会议每年至少召开一次，讨论决定涉及村民利益的事项。" * 8 for n in range(1, 12)]
    (docs / "rules.txt").write_text("\n".join(articles), encoding="utf-8")
    with _kb(tmp_path, embeddings, max_document_chunks=5) as kb:
        report = ingest(kb, [docs])
        assert _skipped(report)["rules.txt"][1] == "文件太长，分段超过5段，请拆成几个文件再上传。"


@pytest.mark.slow
def test_cancelling_mid_parse_stops_within_a_second_and_keeps_the_old_index(
    loaded: tuple[KnowledgeBase, IngestReport], corpus: Path
) -> None:
    kb, _ = loaded
    ids_before = kb.catalog.chunk_ids()
    grain = corpus / "policy" / "grain.md"
    grain.write_text(grain.read_text(encoding="utf-8").replace("每亩120元", "每亩150元"), encoding="utf-8")
    write_slow_markdown(corpus / "policy" / "zz_slow.md")  # read last, for a minute (the default budget)

    stop = threading.Event()
    reading_last = threading.Event()
    outcome: list[BaseException | IngestReport] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "read" and done == total - 1:
            reading_last.set()

    def run() -> None:
        try:
            outcome.append(ingest(kb, [corpus], progress=progress, cancelled=stop.is_set))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert reading_last.wait(60)
    time.sleep(1.0)  # well into the slow parse
    assert _workers()
    stop.set()
    cancelled_at = time.monotonic()
    thread.join(10)
    assert time.monotonic() - cancelled_at < 1.0
    assert isinstance(outcome[0], IngestCancelled)
    assert _workers() == []
    # Nothing was committed: the previous index answers, nothing is recorded as refused.
    assert kb.catalog.chunk_ids() == ids_before
    assert "每亩120元" in kb.search("耕地地力保护补贴每亩多少钱", k=1)[0].chunk.text
    assert kb.rejected_documents() == []


def test_cancelling_before_anything_is_read_commits_nothing(kb: KnowledgeBase, docs: Path) -> None:
    write_note(docs / "notice.md")
    with pytest.raises(IngestCancelled):
        ingest(kb, [docs], cancelled=lambda: True)
    assert kb.documents() == []


def test_a_refused_file_is_not_read_again_until_it_changes(quick_kb: KnowledgeBase, docs: Path) -> None:
    kb = quick_kb
    write_docx_bomb(docs / "bomb.docx", 210)
    write_slow_markdown(docs / "slow.md")
    first = ingest(kb, [docs])
    assert sorted(_skipped(first)) == ["bomb.docx", "slow.md"]
    refused = {r.source: r for r in kb.rejected_documents()}
    assert sorted(refused) == ["bomb.docx", "slow.md"]
    assert refused["bomb.docx"].message == BOMB_MESSAGE
    assert refused["slow.md"].root == str(docs.resolve())
    assert kb.stats().rejected == 2

    # The upload of a small file re-ingests the folder: neither refused file is read (the slow one
    # alone would take its 3 s budget again) nor reported again.
    write_note(docs / "notice.md")
    second = ingest(kb, [docs])
    assert second.skipped == []
    assert sorted(second.rejected_before) == ["bomb.docx", "slow.md"]
    assert second.added == ["notice.md"]
    assert second.seconds < 3

    # A new version of a refused file is read again; once indexed, its refusal is forgotten.
    write_note(docs / "slow.md", "# 村规民约\n\n村民应当爱护公共设施。")
    write_docx(docs / "bomb.docx")
    third = ingest(kb, [docs])
    assert sorted(third.added) == ["bomb.docx", "slow.md"]
    assert third.skipped == [] and third.rejected_before == []
    assert kb.rejected_documents() == []


def test_a_refused_file_that_is_deleted_drops_its_record(kb: KnowledgeBase, docs: Path) -> None:
    write_docx_bomb(docs / "bomb.docx", 210)
    write_note(docs / "notice.md")
    ingest(kb, [docs])
    assert [r.source for r in kb.rejected_documents()] == ["bomb.docx"]
    ingest(kb, [docs], prune=False)
    assert [r.source for r in kb.rejected_documents()] == ["bomb.docx"]
    (docs / "bomb.docx").unlink()
    report = ingest(kb, [docs])
    assert report.removed == []  # it never was a document
    assert kb.rejected_documents() == []


def test_forget_rejected_has_the_file_read_again(kb: KnowledgeBase, docs: Path) -> None:
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n not a pdf at all")
    ingest(kb, [docs])
    assert kb.forget_rejected("broken.pdf") is True
    assert kb.rejected_documents() == []
    assert kb.forget_rejected("broken.pdf") is False
    report = ingest(kb, [docs])
    assert _skipped(report)["broken.pdf"][1] == "文件损坏，无法读取。"
    assert [r.source for r in kb.rejected_documents()] == ["broken.pdf"]


def test_a_refusal_under_other_budgets_is_tried_again(
    tmp_path: Path, embeddings: Embeddings, docs: Path
) -> None:
    write_docx_bomb(docs / "big.docx", 210)
    with _kb(tmp_path, embeddings) as kb:
        assert "big.docx" in _skipped(ingest(kb, [docs]))
    # An administrator raises the limits: the file is read again (and now stopped by the XML limit).
    with _kb(tmp_path, embeddings, max_unpacked_mb=500, max_zip_ratio=10_000) as kb:
        report = ingest(kb, [docs])
        assert _skipped(report)["big.docx"][1] == "Word文件正文解压后超过50MB，请拆成几个文件再上传。"


def test_a_catalog_from_before_refusals_were_recorded_opens(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    SqliteCatalog(path).close()
    old = SqliteCatalog(path)
    old._db.execute("DROP TABLE rejected")
    old.close()
    catalog = SqliteCatalog(path)
    assert catalog.rejected_documents() == []
    catalog.close()
