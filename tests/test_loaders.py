from __future__ import annotations

import codecs
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from knowledge.loaders import NO_LIMITS, UNREADABLE, LoadError, LoadLimits, load_document
from knowledge.loaders.encoding import decode_bytes
from knowledge.loaders.text import parse_markdown
from tests.corpus import GRAIN_MD, LOW_INCOME_GBK, MEDICAL_MD, write_corpus


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("loaders"))


def test_markdown_front_matter_headings_and_table() -> None:
    parsed = parse_markdown(MEDICAL_MD)
    assert parsed.meta["title"] == "青溪县城乡居民医保政策问答"
    assert parsed.meta["valid_from"] == "2025-01-01"
    assert parsed.title == "青溪县城乡居民医保政策问答"
    headings = [(b.level, b.text) for b in parsed.blocks if b.kind == "heading"]
    assert headings == [(1, "城乡居民医保政策问答"), (2, "缴费"), (2, "报销")]
    (table,) = [b for b in parsed.blocks if b.kind == "table"]
    assert table.rows[0] == ("医院级别", "起付线", "报销比例")
    assert table.rows[2] == ("县级医院", "500元", "75%")


def test_markdown_front_matter_dates_become_iso_strings() -> None:
    parsed = parse_markdown(GRAIN_MD)
    assert parsed.meta["valid_to"] == "2025-12-31"
    assert parsed.meta["region"] == "江南省青溪县"


def test_gbk_text_file_is_decoded(docs: Path) -> None:
    raw = (docs / "policy" / "dibao.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text, encoding = decode_bytes(raw)
    assert encoding == "gb18030"
    assert text == LOW_INCOME_GBK
    parsed = load_document(docs / "policy" / "dibao.txt")
    assert parsed.title == "青溪县农村最低生活保障标准"
    assert any("每人每月680元" in b.text for b in parsed.blocks)


def test_utf8_bom_and_utf16_are_decoded() -> None:
    assert decode_bytes(codecs.BOM_UTF8 + "补贴".encode())[0] == "补贴"
    assert decode_bytes("宅基地".encode("utf-16"))[0] == "宅基地"


def test_html_keeps_order_tables_and_inline_text_and_drops_scripts(docs: Path) -> None:
    parsed = load_document(docs / "policy" / "homestead.html")
    assert parsed.title == "青溪县农村宅基地申请办事指南"
    assert parsed.meta == {"kind": "policy", "region": "江南省青溪县"}
    texts = [b.text for b in parsed.blocks]
    assert "坚持一户一宅，本村集体经济组织成员以户为单位申请宅基地。" in texts
    assert not any("var x" in t or "color" in t or "首页" in t for t in texts)
    kinds = [b.kind for b in parsed.blocks]
    assert kinds.index("table") > texts.index("二、面积标准")
    (table,) = [b for b in parsed.blocks if b.kind == "table"]
    assert table.rows[2] == ("4至5人", "140平方米")


def test_pdf_text_is_reflowed_and_tables_stay_in_place(docs: Path) -> None:
    parsed = load_document(docs / "policy" / "machinery.pdf")
    assert parsed.title == "青溪县农机购置补贴实施方案"
    kinds = [b.kind for b in parsed.blocks]
    assert kinds == ["paragraph", "table", "paragraph"]
    first = parsed.blocks[0].text
    # The PDF wrapped this sentence over two lines; it comes back as one paragraph.
    assert "统一拨付到农户的社保卡账户" in first
    assert parsed.blocks[1].rows == (("机具品目", "补贴额"), ("拖拉机", "8000元"), ("插秧机", "3000元"))
    assert parsed.blocks[2].text.startswith("第二条")


def test_docx_headings_paragraphs_and_tables_in_body_order(docs: Path) -> None:
    parsed = load_document(docs / "handbook" / "broadcast.docx")
    assert parsed.title == "青溪县云广播使用手册"
    summary = [(b.kind, b.level, b.text) for b in parsed.blocks if b.kind != "table"]
    assert summary[1] == ("heading", 2, "一、设备介绍")
    table_index = next(i for i, b in enumerate(parsed.blocks) if b.kind == "table")
    assert parsed.blocks[table_index - 1].text == "资费标准如下："
    assert parsed.blocks[table_index].rows[1] == ("基础版", "30元/月", "4只")


@pytest.mark.parametrize(
    ("name", "content", "reason", "message"),
    [
        ("broken.pdf", b"%PDF-1.4\n garbage that is not a pdf", "unreadable PDF", UNREADABLE),
        ("broken.docx", b"PK\x03\x04 not really a zip", "unreadable Word file", UNREADABLE),
        ("empty.pdf", b"", "unreadable PDF", UNREADABLE),
        (
            "photo.jpg",
            b"\xff\xd8\xff",
            "unsupported file type",
            "不支持这种文件格式，请上传PDF、Word（.docx）、网页、Markdown或文本文件。",
        ),
    ],
)
def test_corrupt_or_unsupported_files_raise_load_error(
    tmp_path: Path, name: str, content: bytes, reason: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason) as error:
        load_document(path)
    assert error.value.message == message


def test_invalid_front_matter_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n正文。", encoding="utf-8")
    with pytest.raises(LoadError, match="front matter") as error:
        load_document(path)
    assert error.value.message == "文件开头的YAML信息（两行---之间的部分）格式有误，请修改后重新上传。"


def test_a_load_error_reads_as_its_reason_and_has_a_chinese_message() -> None:
    error = LoadError("cannot parse file: KeyError: 'w:body'")
    assert str(error) == "cannot parse file: KeyError: 'w:body'"
    assert error.message == UNREADABLE


def test_a_scanned_pdf_is_refused_with_what_to_upload(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(100, 100, 300, 400, fill=1)  # an image of a page: no text to extract
    page.save()
    with pytest.raises(LoadError, match="no extractable text") as error:
        load_document(path)
    assert error.value.message == "PDF里没有可以读取的文字（可能是扫描件），请上传文字版。"


def _limits(**changes: int) -> LoadLimits:
    return replace(NO_LIMITS, **changes)


def test_pdf_over_the_page_limit_is_refused(docs: Path) -> None:
    with pytest.raises(LoadError, match="1 pages, over the limit of 0") as error:
        load_document(docs / "policy" / "machinery.pdf", _limits(max_pdf_pages=0))
    assert error.value.message == "PDF超过0页，请拆成几个文件再上传。"
    assert load_document(docs / "policy" / "machinery.pdf", _limits(max_pdf_pages=1)).blocks


@pytest.mark.parametrize("name", ["policy/pension.txt", "policy/grain.md", "policy/homestead.html"])
def test_text_files_over_the_decoded_size_are_refused_before_parsing(docs: Path, name: str) -> None:
    with pytest.raises(LoadError, match="once decoded") as error:
        load_document(docs / name, _limits(max_decoded_chars=50))
    assert error.value.message == "文件太大（超过50个字符），请拆成几个文件再上传。"


def test_a_huge_text_file_is_refused_by_its_size_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(4 * 1000 + 1)  # sparse: what matters is that it is never read
    with pytest.raises(LoadError, match="once decoded"):
        load_document(path, _limits(max_decoded_chars=1000))


def test_document_over_the_character_budget_is_refused(docs: Path) -> None:
    with pytest.raises(LoadError, match="over the budget of 30") as error:
        load_document(docs / "policy" / "pension.txt", _limits(max_document_chars=30))
    assert error.value.message == "文件文字超过30字，请拆成几个文件再上传。"


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("parts", "limits", "reason", "message"),
    [
        (
            {f"word/media/{n}.png": b"" for n in range(11)},
            {"max_zip_entries": 10},
            "zip holds 11 parts",
            "文件内部包含11个部件，可能已损坏或是压缩炸弹，请检查后重新上传。",
        ),
        (
            {"word/document.xml": b"<w:p/>" * 500_000},
            {"max_unpacked_bytes": 2_000_000},
            "unzips to 3000000 bytes",
            "文件解压后超过2MB，可能已损坏或是压缩炸弹，请检查后重新上传。",
        ),
        (
            {"word/document.xml": b"<w:p/>" * 500_000},
            {"max_zip_ratio": 100},
            "times its size, over the limit of 100",
            "文件压缩比例异常，可能已损坏或是压缩炸弹，请检查后重新上传。",
        ),
        (
            {"word/document.xml": os.urandom(1_500_000)},
            {"max_docx_xml_bytes": 1_000_000},
            "word/document.xml unzips to 1500000 bytes",
            "Word文件正文解压后超过1MB，请拆成几个文件再上传。",
        ),
    ],
)
def test_word_files_are_checked_from_their_central_directory(
    tmp_path: Path, parts: dict[str, bytes], limits: dict[str, int], reason: str, message: str
) -> None:
    # None of these is a valid Word file: the limits are checked before python-docx opens it.
    path = _zip(tmp_path / "package.docx", parts)
    with pytest.raises(LoadError, match=reason) as error:
        load_document(path, _limits(**limits))
    assert error.value.message == message


def test_an_ordinary_word_file_is_within_the_default_zip_limits(docs: Path) -> None:
    limits = _limits(max_unpacked_bytes=200_000_000, max_zip_ratio=100, max_zip_entries=10_000)
    assert load_document(docs / "handbook" / "broadcast.docx", limits).title == "青溪县云广播使用手册"
