"""Officials' uploads: the data home's folder on one machine; PostgreSQL plus each host's own copy with
several hosts, so any host can ingest what another received (real PostgreSQL, no mocks)."""

from __future__ import annotations

from pathlib import Path

from api.uploads import LocalUploads, PostgresUploads, open_upload_store
from xiangyin.settings import Settings


def test_local_uploads_are_the_files_of_the_folder(tmp_path: Path) -> None:
    uploads = LocalUploads(tmp_path / "documents")
    uploads.put("policy/dibao.md", "低保标准每月880元。".encode())
    stored = tmp_path / "documents" / "policy" / "dibao.md"
    assert stored.read_text(encoding="utf-8") == "低保标准每月880元。"
    uploads.sync()
    assert (tmp_path / "documents" / "policy" / "dibao.md").exists()
    uploads.delete("policy/dibao.md")
    assert not (tmp_path / "documents" / "policy" / "dibao.md").exists()
    assert not list((tmp_path / "documents").glob(".*.partial"))


def test_an_upload_received_by_one_host_reaches_the_others_folder(tmp_path: Path, database_url: str) -> None:
    a = PostgresUploads(tmp_path / "a" / "documents", database_url)
    b = PostgresUploads(tmp_path / "b" / "documents", database_url)
    a.put("notice.md", "# 通知\n\n新种油茶每亩补贴800元。".encode())
    assert not (b.folder / "notice.md").exists()
    b.sync()
    assert (b.folder / "notice.md").read_text(encoding="utf-8").endswith("800元。")

    # Replaced on B: A's copy follows at its next sync.
    b.put("notice.md", "# 通知\n\n新种油茶每亩补贴900元。".encode())
    a.sync()
    assert (a.folder / "notice.md").read_text(encoding="utf-8").endswith("900元。")

    # Deleted on A: B's copy goes at its next sync; files B has of its own making are not uploads'.
    a.delete("notice.md")
    assert not (a.folder / "notice.md").exists()
    b.sync()
    assert not (b.folder / "notice.md").exists()
    assert sorted(p.name for p in b.folder.iterdir()) == [".uploads.json"]


def test_a_copy_damaged_on_disk_is_copied_again(tmp_path: Path, database_url: str) -> None:
    a = PostgresUploads(tmp_path / "a" / "documents", database_url)
    a.put("notice.md", "原文".encode())
    (a.folder / "notice.md").unlink()
    a.sync()
    assert (a.folder / "notice.md").read_text(encoding="utf-8") == "原文"


def test_the_store_is_chosen_by_the_database_setting(tmp_path: Path, database_url: str) -> None:
    assert isinstance(open_upload_store(Settings(home=tmp_path)), LocalUploads)
    chosen = open_upload_store(Settings(home=tmp_path, database_url=database_url))
    assert isinstance(chosen, PostgresUploads) and chosen.folder == tmp_path / "documents"
