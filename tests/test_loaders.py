from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from knowledge.loaders import LoadError, load_document
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
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\n garbage that is not a pdf", "unreadable PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "unreadable Word file"),
        ("empty.pdf", b"", "unreadable PDF"),
        ("photo.jpg", b"\xff\xd8\xff", "unsupported file type"),
    ],
)
def test_corrupt_or_unsupported_files_raise_load_error(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_document(path)


def test_invalid_front_matter_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n正文。", encoding="utf-8")
    with pytest.raises(LoadError, match="front matter"):
        load_document(path)
