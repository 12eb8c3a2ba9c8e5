"""The extractive composer, the answer check and the spoken form, on evidence built by hand."""

from __future__ import annotations

from assistant.checking import check, numbers_in
from assistant.composing import Draft
from assistant.extractive import ExtractiveComposer, sentences_of, sub_questions
from assistant.speech import to_speech
from tests.answer_fixtures import evidence, passage

MEDICAL = (
    "问：2025年居民医保个人要交多少钱？\n"
    "答：2025年度个人缴费标准为每人每年400元，财政补助每人每年不低于700元。集中缴费期为每年9月1日至12月31日。"
)
HOSPITALS = "医疗机构级别：乡镇卫生院；起付线（元/次）：200；统筹基金支付比例：90%\n医疗机构级别：县级定点医院；起付线（元/次）：600；统筹基金支付比例：80%"
PREAMBLE = "为贯彻落实国家关于城乡居民基本医疗保险的决策部署，根据有关规定，结合本县实际，制定本办法。"


def test_extractive_answer_keeps_numbers_verbatim_and_cites() -> None:
    draft = ExtractiveComposer().compose("医保个人一年交多少钱？", evidence(PREAMBLE, MEDICAL))
    assert "每人每年400元" in draft.text
    assert "[2]" in draft.text and "[1]" not in draft.text
    assert draft.cited == [2]
    assert not draft.refused and draft.coverage > 0.3
    assert check(draft, evidence(PREAMBLE, MEDICAL)).ok


def test_question_lines_are_never_the_answer_and_table_rows_stay_whole() -> None:
    assert next(sentences_of(MEDICAL)).startswith("2025年度个人缴费标准")
    assert all(not s.startswith("问") for s in sentences_of(MEDICAL))
    assert list(sentences_of(HOSPITALS)) == HOSPITALS.splitlines()


def test_date_question_prefers_the_sentence_with_a_date() -> None:
    draft = ExtractiveComposer().compose("医保什么时候交？", evidence(MEDICAL))
    assert "9月1日至12月31日" in draft.text


def test_table_row_answers_a_hospital_question() -> None:
    draft = ExtractiveComposer().compose(
        "县级医院住院报销比例是多少？", evidence(HOSPITALS, section="二、住院报销")
    )
    assert "医疗机构级别：县级定点医院；起付线（元/次）：600；统筹基金支付比例：80%[1]。" in draft.text


def test_two_part_questions_get_a_sentence_each() -> None:
    assert sub_questions("高龄津贴一个月多少？要自己申请吗？") == [
        "高龄津贴一个月多少？",
        "高龄津贴要自己申请吗？",
    ]
    assert sub_questions("新农合交多少钱？ 城乡居民医保") == ["新农合交多少钱？ 城乡居民医保"]
    draft = ExtractiveComposer().compose("医保交多少钱？什么时候交？", evidence(MEDICAL))
    assert "400元" in draft.text and "9月1日" in draft.text


def test_a_further_sentence_names_the_subject_as_a_word_not_across_two() -> None:
    found = [
        passage(
            1, "对21户农户收回宅基地3260平方米，按每平方米200元给予补偿。", "典型案例选编", "案例七：新塘村"
        ),
        # 县城 stands in the title only across two words: 青溪县|城乡居民医保.
        passage(
            2,
            "2025年度个人缴费标准为每人每年400元，与2024年度相同。",
            "青溪县城乡居民医保政策问答",
            "一、参保缴费",
        ),
    ]
    draft = ExtractiveComposer().compose("县城里的商品房现在多少钱一平？", found)
    assert "400元" not in draft.text and draft.cited == [1]
    # Inside a longer word still names it: 宽带 in 单宽带300M.
    rows = [passage(1, "单宽带300M月费40元。单宽带500M月费60元。", "青溪县乡村通信套餐", "一、宽带")]
    assert "60元" in ExtractiveComposer().compose("宽带一个月多少钱？", rows).text


def test_each_part_of_a_question_keeps_room_for_its_answer() -> None:
    office = (
        "先在APP办理异地就医备案，出院时直接结算。长期在外省居住的办理异地长期居住备案。"
        "可以让家属代办，也可以到乡镇医疗保障服务站窗口办理。\n"
        "咨询电话：0571-86213300（青溪县医疗保障服务中心）"
    )
    draft = ExtractiveComposer().compose("医保的事去哪里办？电话多少？", evidence(office))
    assert "0571-86213300" in draft.text


def test_a_run_in_heading_labels_the_next_sentence_and_is_never_quoted() -> None:
    dibao = (
        "（二）申请条件。共同生活的家庭成员人均月收入低于880元，且家庭财产状况符合规定的本县户籍居民，"
        "可以申请低保。\n四、办理流程\n申请人向乡镇人民政府提出书面申请。"
    )
    assert list(sentences_of(dibao)) == [
        "共同生活的家庭成员人均月收入低于880元，且家庭财产状况符合规定的本县户籍居民，可以申请低保。",
        "申请人向乡镇人民政府提出书面申请。",
    ]
    # Two parts asking the same: the second part's room goes to no bare label.
    draft = ExtractiveComposer().compose(
        "逼保的申请条件是什么？低保的申请条件是什么呢？", evidence(dibao, title="城乡低保工作通知")
    )
    assert "880元" in draft.text and "申请条件[" not in draft.text


def test_no_evidence_means_a_refused_draft() -> None:
    assert ExtractiveComposer().compose("低保标准", []).refused


def test_check_catches_invented_numbers_spelled_or_not() -> None:
    items = evidence(MEDICAL)
    assert check(Draft("个人每人每年400元[1]。", cited=[1]), items).ok
    assert not check(Draft("个人每人每年500元[1]。", cited=[1]), items).ok
    assert not check(Draft("个人每人每年五百元[1]。", cited=[1]), items).ok
    assert check(Draft("个人每人每年四百元[1]。", cited=[1]), items).ok
    assert not check(Draft("个人每人每年400元[3]。", cited=[3]), items).ok
    assert not check(Draft("个人每人每年400元。", cited=[]), items).ok
    assert check(Draft("", refused=True), items).ok


def test_numbers_in_ignores_citation_marks() -> None:
    assert numbers_in("每亩110元[2]，2025年6月30日前") == {"110", "2025", "6", "30"}


def test_speech_has_no_marks_and_reads_table_rows() -> None:
    spoken = to_speech(
        "医疗机构级别：县级定点医院；起付线：600元[1]。详见https://example.org（附件）[2]。",
        ["《青溪县医保办法》"],
    )
    assert "[" not in spoken and "http" not in spoken and "《" not in spoken
    assert spoken.startswith("医疗机构级别是县级定点医院，起付线是600元。")
    assert spoken.endswith("以上内容来自青溪县医保办法。")


def test_a_plain_words_answer_is_cited_with_the_rule_that_states_its_figures() -> None:
    qa = passage(1, "个人交400元，政府再补助700元以上，共同进入医保基金。", title="医保政策问答")
    rule = passage(
        2, "医保年度：2025年；个人缴费（元/人·年）：400；财政补助（元/人·年）：不低于700", title="医保政策"
    )
    other = passage(3, "大病保险起付线400元，报销比例60%。", title="大病保险")
    draft = ExtractiveComposer().compose("新农合一个人交多少钱？", [qa, rule, other])
    assert draft.text.startswith("个人交400元，政府再补助700元以上，共同进入医保基金[1][2]。")
    assert draft.cited[:2] == [1, 2] and 3 not in draft.cited
    # The mark goes only where another document states every figure: 400 alone is not 400 and 700.
    assert "[3]" not in draft.text
    assert "[1][2]" not in to_speech(draft.text)


def test_a_sentence_every_yearly_copy_of_a_page_says_cites_them_all() -> None:
    """A school's FAQ published each year repeats its answers word for word: the answer cites each copy
    retrieved (up to two beside its own), whichever the reader keeps."""
    text = "办学理念：高水平、有特色、国际性。办学愿景：创立世界一流的人文社科精英学院。"
    copies = [
        passage(n, text, title=f"{year}中法学院招生热点问答") for n, year in ((1, 2017), (2, 2020), (3, 2022))
    ]
    extra = passage(4, text, title="2023中法学院招生热点问答")
    draft = ExtractiveComposer().compose("中法学院的办学理念是什么？", [*copies, extra])
    assert draft.text.startswith("办学理念：高水平、有特色、国际性[1][2][3]。")
    assert 4 not in draft.cited


def test_a_copy_that_sets_its_label_on_a_line_of_its_own_says_the_same() -> None:
    older = passage(1, "办学理念：高水平、有特色、国际性；", title="2020中法学院热点问题解答")
    newer = passage(2, "办学理念：\n高水平、有特色、国际性。", title="2023年中法学院招生热点问答")
    draft = ExtractiveComposer().compose("中法学院的办学理念是什么？", [older, newer])
    assert draft.text.startswith("办学理念：高水平、有特色、国际性[1][2]。")


def test_a_copy_a_chunks_edge_cut_is_not_quoted_again_but_cited() -> None:
    """Two pages with the same interview, one cut off by its chunk: the list is quoted once, whole, and
    cited with both."""
    whole = "薛天纬说：“我这门课的课时安排是这样的：导言—诗律、诗韵—对仗—七绝—五绝—五律—歌行—词律及词。"
    cut = "薛天纬说：“我这门课的课时安排是这样的：导言—诗律、诗韵—对仗—七绝—五绝—五律—歌行"
    found = [passage(1, whole, title="国学院：古诗文写作"), passage(2, cut, title="古诗文写作课")]
    draft = ExtractiveComposer().compose("薛天纬的古诗文写作课讲授哪些诗体？", found)
    assert draft.text.count("课时安排") == 1 and "词律及词" in draft.text
    assert draft.cited == [1, 2] and draft.text.endswith("[1][2]。")


_FAQ_2020 = "办学理念：高水平、有特色、国际性；\n办学愿景：创立世界一流、独具特色的人文社科精英学院；"
_FAQ_2022 = "办学理念：\n高水平、有特色、国际性。\n办学愿景：\n打造“独树一帜”的中外合作办学新高地。"


def test_a_newer_edition_of_a_page_answers_where_it_says_otherwise() -> None:
    """The 2020 FAQ ranks first, but its 2022 edition (they share the 办学理念 line) changed the 愿景:
    the newer one answers, read with its label."""
    older = passage(1, _FAQ_2020, title="2020中法学院热点问题解答", valid_from="2020-07-10")
    newer = passage(2, _FAQ_2022, title="2023年中法学院招生热点问答", valid_from="2022-05-27")
    draft = ExtractiveComposer().compose("中法学院的办学愿景是什么？", [older, newer])
    assert draft.text.startswith("办学愿景：打造“独树一帜”的中外合作办学新高地[2]。")
    assert "创立世界一流" not in draft.text


def test_a_newer_editions_table_row_is_another_record_not_a_new_value() -> None:
    shared = "补贴资金通过社会保障卡直接发放到户，不得以现金发放。\n"
    older = passage(
        1,
        shared + "补贴项目：耕地地力保护补贴；标准：每亩105元",
        title="2024年补贴发放通报",
        valid_from="2024-12-01",
    )
    newer = passage(
        2, shared + "补贴项目：稻谷补贴；标准：每亩60元", title="2025年补贴实施方案", valid_from="2025-03-01"
    )
    draft = ExtractiveComposer().compose("耕地地力保护补贴标准是多少？", [older, newer])
    assert draft.text.startswith("补贴项目：耕地地力保护补贴；标准：每亩105元[1]")


def test_only_an_edition_of_the_same_page_and_only_a_dated_one_replaces_an_answer() -> None:
    question = "中法学院的办学愿景是什么？"
    undated = [
        passage(1, _FAQ_2020, title="2020中法学院热点问题解答"),
        passage(2, _FAQ_2022, title="2023年问答"),
    ]
    assert "创立世界一流" in ExtractiveComposer().compose(question, undated).text
    # A newer page that shares no sentence with the first is another page, not its next edition.
    other = "办学愿景：\n打造“独树一帜”的中外合作办学新高地。"
    pages = [
        passage(1, _FAQ_2020, title="2020中法学院热点问题解答", valid_from="2020-07-10"),
        passage(2, other, title="中法学院简介", valid_from="2022-05-27"),
    ]
    assert ExtractiveComposer().compose(question, pages).text.startswith("办学愿景：创立世界一流")


def test_list_numbers_alone_never_make_two_documents_agree() -> None:
    first = passage(1, "申请分3步：1. 提交申请；2. 村里审核；3. 乡镇审批。", title="宅基地办事指南")
    second = passage(2, "第3条 申请人提交申请书1份、照片2张。", title="宅基地管理办法")
    draft = ExtractiveComposer().compose("宅基地申请分几步？", [first, second])
    assert "[1][2]" not in draft.text


def test_a_date_agrees_only_with_the_same_date() -> None:
    # 1月10日 is not in 3月1日至10日, although every number is.
    exam = passage(1, "报到、文化课考试：2020年1月10日。", title="高水平运动队招生简章")
    signup = passage(2, "考生应于2020年3月1日至10日报名，参加文化课考试。", title="单独招生考试通知")
    draft = ExtractiveComposer().compose("文化课考试是几月几日？", [exam, signup])
    assert draft.text.startswith("报到、文化课考试：2020年1月10日[1]。")
