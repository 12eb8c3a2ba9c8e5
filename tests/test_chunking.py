from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from knowledge.chunking import Chunk, chunk_document, render_table
from knowledge.loaders import Block, ParsedDocument, load_document
from knowledge.loaders.text import parse_markdown, parse_plain
from knowledge.metadata import DocumentMeta, document_meta
from tests.corpus import GRAIN_MD, MEDICAL_MD, PENSION_TXT, write_corpus
from zhtext.sentences import split_sentences


def chunks_of(text: str, source: str = "policy/doc.md", **kwargs: int) -> list[Chunk]:
    parsed = parse_markdown(text) if source.endswith(".md") else parse_plain(text)
    return chunk_document(parsed, document_meta(parsed, source), **kwargs)


def test_law_articles_stay_whole_with_chapter_and_article_in_section() -> None:
    chunks = chunks_of(GRAIN_MD)
    article3 = next(c for c in chunks if "第三条" in c.text)
    assert article3.section == "第二章 补贴对象和标准 > 第三条"
    # The whole article, its enumerated items included, is one chunk.
    assert article3.text.startswith("第三条 补贴对象为拥有耕地承包权的种地农民。")
    assert "（三）长年抛荒地" in article3.text
    assert "第四条" not in article3.text


def test_short_articles_are_packed_and_labelled_as_a_range() -> None:
    chunks = chunks_of(GRAIN_MD, max_chars=420, min_chars=80)
    first = chunks[0]
    assert first.section == "第一章 总则 > 第一条至第二条"
    assert first.text.count("\n") == 1


def test_packing_never_crosses_a_chapter() -> None:
    for chunk in chunks_of(GRAIN_MD):
        chapters = re.findall(r"第[一二三四五]章", chunk.section)
        assert len(chapters) <= 1
    last = chunks_of(GRAIN_MD)[-1]
    assert last.section == "第三章 附则 > 第五条"


def test_long_article_is_cut_at_sentence_ends_within_the_limit() -> None:
    sentence = "补贴资金实行专账管理，任何单位和个人不得截留、挤占、挪用。"
    text = "第十条 " + sentence * 20
    chunks = chunks_of(text, source="policy/law.txt", max_chars=120)
    assert len(chunks) > 1
    assert all(len(c.text) <= 120 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert all(c.section.endswith("第十条") for c in chunks)
    assert "".join(c.text.replace("\n", "") for c in chunks) == text


def test_each_qa_pair_is_its_own_chunk() -> None:
    faq = "# 常见问题\n问：补贴什么时候发？\n答：每年6月底前。\n问：发到哪里？\n答：发到社保卡。\n问：找谁问？\n答：村委会。\n"
    chunks = chunks_of(faq, source="handbook/faq.md")
    assert [c.text.count("问：") for c in chunks] == [1, 1, 1]
    assert chunks[1].text == "问：发到哪里？\n答：发到社保卡。"
    assert all(c.title == "常见问题" and c.section == "" for c in chunks)


def test_qa_pairs_from_the_medical_faq_never_share_a_chunk() -> None:
    chunks = chunks_of(MEDICAL_MD)
    assert all(c.text.count("问：") <= 1 for c in chunks)
    qa = [c for c in chunks if c.text.startswith("问：")]
    assert len(qa) == 2
    assert qa[0].section == "缴费"


def test_numbered_items_become_the_section_path() -> None:
    chunks = chunks_of(PENSION_TXT, source="policy/pension.txt")
    sections = [c.section for c in chunks]
    assert sections == ["一、参保对象", "二、缴费档次", "三、领取条件"]
    assert chunks[1].title == "青溪县城乡居民养老保险缴费说明"


def test_one_line_item_heading_with_nothing_under_it_is_kept_as_text() -> None:
    chunks = chunks_of("办事须知\n一、带身份证\n二、带户口本\n", source="policy/x.txt")
    assert "一、带身份证" in "\n".join(c.text for c in chunks)
    assert "二、带户口本" in "\n".join(c.text for c in chunks)


def test_table_rows_are_rendered_readable_alone() -> None:
    chunks = chunks_of(MEDICAL_MD)
    table = next(c for c in chunks if "乡镇卫生院" in c.text)
    assert "医院级别：乡镇卫生院；起付线：100元；报销比例：85%" in table.text.splitlines()
    assert table.text.splitlines()[0] == "住院报销比例如下表。"


def test_long_table_is_split_between_rows() -> None:
    rows = (("村名", "户数", "宽带"), *((f"第{i}村", f"{100 + i}户", f"{i}00兆") for i in range(60)))
    parsed = ParsedDocument([Block("heading", "宽带覆盖", level=1), Block("table", rows=rows)], title="宽带")
    chunks = chunk_document(parsed, DocumentMeta("handbook/b.md", "宽带", "handbook"), max_chars=200)
    assert len(chunks) > 1
    lines = [line for c in chunks for line in c.text.splitlines()]
    assert all(line.startswith("村名：") for line in lines)
    assert len(lines) == 60


def test_render_table_without_header() -> None:
    assert render_table((("拖拉机", "8000元"),), header=False) == ["拖拉机；8000元"]


def test_split_sentences_keeps_closing_quotes() -> None:
    assert split_sentences("他说：“好。”然后走了。") == ["他说：“好。”", "然后走了。"]


def test_metadata_from_front_matter_and_folder(tmp_path: Path) -> None:
    root = write_corpus(tmp_path)
    grain = document_meta(load_document(root / "policy" / "grain.md"), "policy/grain.md")
    assert grain == DocumentMeta(
        "policy/grain.md",
        "青溪县耕地地力保护补贴实施办法",
        "policy",
        "江南省青溪县",
        "2025-01-01",
        "2025-12-31",
    )
    manual = document_meta(load_document(root / "handbook" / "broadcast.docx"), "handbook/broadcast.docx")
    assert manual.kind == "handbook"
    assert manual.region == ""
    other = document_meta(parse_plain("随便写的一段话。"), "misc/note.txt")
    assert other.kind == "other"
    assert other.title == "note"


def test_a_page_without_front_matter_is_dated_by_its_own_date_line() -> None:
    page = parse_plain("2023年中法学院招生热点问答\n日期：2022-05-27\n办学理念：高水平、有特色、国际性。")
    assert document_meta(page, "p00324.txt").valid_from == "2022-05-27"
    notice = parse_plain("关于发放补贴的通知\n发布时间：2025年3月1日 来源：县农业农村局\n正文。")
    assert document_meta(notice, "notice.txt").valid_from == "2025-03-01"
    # Front matter wins; a date in the body is an event's, not the page's.
    dated = parse_plain("---\nvalid_from: 2024-01-01\n---\n标题\n日期：2022-05-27\n正文。")
    assert document_meta(dated, "dated.txt").valid_from == "2024-01-01"
    body = parse_plain("标题\n第一段。\n第二段。\n日期：2022-05-27\n报名截止。")
    assert document_meta(body, "body.txt").valid_from == ""


@pytest.mark.parametrize(
    ("front", "folder", "kind"),
    [
        ("案例", "policy", "case"),
        ("", "cases", "case"),
        ("", "手册", "handbook"),
        ("handbook", "x", "handbook"),
    ],
)
def test_kind_front_matter_wins_over_folder(front: str, folder: str, kind: str) -> None:
    text = (f"---\nkind: {front}\n---\n" if front else "") + "正文。"
    parsed = parse_markdown(text)
    assert document_meta(parsed, f"{folder}/a.md").kind == kind


def test_chunk_metadata_ids_and_hashes() -> None:
    chunks = chunks_of(GRAIN_MD, source="policy/grain.md")
    again = chunks_of(GRAIN_MD, source="policy/grain.md")
    assert [c.id for c in chunks] == [c.id for c in again]
    assert len({c.id for c in chunks}) == len(chunks)
    for n, chunk in enumerate(chunks):
        assert chunk.ordinal == n
        assert chunk.content_hash == hashlib.sha256(chunk.text.encode()).hexdigest()
        assert chunk.metadata()["valid_to"] == "2025-12-31"
        assert chunk.embedding_text().startswith("青溪县耕地地力保护补贴实施办法")
    moved = chunks_of(GRAIN_MD, source="policy/other.md")
    assert not {c.id for c in moved} & {c.id for c in chunks}


def test_repeated_passage_gets_distinct_ids() -> None:
    text = "# 通知\n一、注意\n请带身份证。\n二、再次提醒\n请带身份证。\n"
    chunks = chunks_of(text, source="policy/n.md")
    assert len({c.id for c in chunks}) == len(chunks)


def test_a_plain_text_headline_that_opens_with_its_year_is_the_title() -> None:
    page = parse_plain("2023年中国人民大学中法学院招生热点问答\n日期：2022-05-27\n\n中法学院三语教学。")
    assert page.title == "2023年中国人民大学中法学院招生热点问答"
    assert parse_plain("2020中法学院热点问题解答\n正文。").title == "2020中法学院热点问题解答"
    for numbered in ("1、申请条件\n正文。", "2. 办理流程\n正文。", "（一）总则\n正文。"):
        assert parse_plain(numbered).title is None, numbered


def test_a_date_line_opens_the_passage_that_follows_it() -> None:
    answer = "中法学院所在的苏州校区位于独墅湖科教创新区。" * 20  # long enough to be cut in pieces
    chunks = chunks_of(f"招生热点问答\n日期：2022-05-27\n\n5.中法学院办学地点在哪里？\n{answer}\n", "faq.txt")
    assert chunks[0].text.startswith("日期：2022-05-27\n5.中法学院办学地点在哪里？")
    assert all(len(c.text) >= 24 for c in chunks)
    # The text is all still there, in order, and no chunk runs over the limit by more than the fragment.
    assert (
        "".join(c.text.replace("\n", "") for c in chunks)
        == "日期：2022-05-275.中法学院办学地点在哪里？" + answer
    )
    assert max(len(c.text) for c in chunks) <= 420 + 24


def test_a_lone_chapter_name_joins_its_first_article_and_a_stray_stop_the_sentence_before() -> None:
    article = "第十八条 本细则由县教育局负责解释，自发布之日起施行，原细则同时废止，各校按本细则执行。"
    text = f"# 细则\n\n## 第五章\n\n其他\n\n{article}\n\n## 第六章\n\n一、报名\n\n外语类保送生入校后不得转专业\n\n。\n"
    chunks = chunks_of(text, "rules.md")
    assert chunks[0].text == f"其他\n{article}"
    assert chunks[0].section == "第五章 > 第十八条"
    # The stop closes the line before it; with nothing of its own chapter to join, that stays a chunk.
    assert chunks[-1].text == "外语类保送生入校后不得转专业\n。"
    assert chunks[-1].section.startswith("第六章")
    assert not any(c.text in ("其他", "。") for c in chunks)


def test_a_short_article_with_a_body_still_stands_alone() -> None:
    text = "# 办法\n\n第一条 为规范村务公开，保障村民知情权、参与权和监督权，根据有关规定制定本办法。\n\n第二条 本办法自公布之日起施行。\n"
    chunks = chunks_of(text, "rules.md", min_chars=10)
    assert [c.text for c in chunks][-1] == "第二条 本办法自公布之日起施行。"
    assert chunks[-1].section == "第二条"
