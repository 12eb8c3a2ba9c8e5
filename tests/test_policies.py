"""Which benefit a question asks about, as a constraint (assistant/policies.py)."""

from __future__ import annotations

import pytest

from assistant.answerability import answers, read_question
from assistant.policies import Benefit, asked_benefits


@pytest.mark.parametrize(
    ("question", "benefits"),
    [
        ("85岁的老人高龄补贴一个月多少？", [Benefit("高龄", "补贴")]),
        ("防贫保险要俺自己掏钱不？", [Benefit("防贫", "保险")]),  # jieba reads 防 and 贫 apart
        ("家里着火了，能申请临时救助吗？", [Benefit("临时", "救助")]),
        ("城乡居民养老保险每年交多少", [Benefit("城乡居民", "养老保险")]),
        # A bare kind, the word for whom or where, a verb before it: any benefit of the kind.
        ("脱贫户养牛有补助吗？", [Benefit("", "补助")]),
        ("农村养老金现在一个月发多少？", [Benefit("", "养老金")]),
        ("我能上保险吗？", [Benefit("", "保险")]),
        # The thing insured, before the verb of taking insurance out, tells which insurance.
        ("养的母猪上保险，一头自个儿掏多钱？", [Benefit("母猪", "保险")]),
        ("给牛上保险要多少钱", [Benefit("牛", "保险")]),
        ("大棚能上保险吗？", [Benefit("大棚", "保险")]),
        # The expansion a question gets (养老钱 -> 养老金) names the kind, not which one.
        ("领的养老钱有多少? 养老金", [Benefit("", "养老金")]),
        # 医保 is one insurance: the words before it say whose or what for, never which.
        ("我是低保户，医保要交多少钱？", [Benefit("", "医保")]),
        ("住院医保是去省里的大医院呢？", [Benefit("", "医保")]),
    ],
)
def test_the_benefit_a_question_names(question: str, benefits: list[Benefit]) -> None:
    assert list(asked_benefits(question)) == benefits


@pytest.mark.parametrize(
    ("benefit", "text", "said"),
    [
        (Benefit("高龄", "补贴"), "（一）高龄津贴。80至89周岁每人每月60元。", True),
        (Benefit("地力", "补贴"), "2025年耕地地力保护补贴标准为每亩110元。", True),
        (Benefit("种地", "补贴"), "补贴项目：实际种粮农民一次性补贴；2024年标准：每亩15元", True),
        (Benefit("种地", "补贴"), "耕地地力保护补贴标准为每亩110元。", True),  # the synonym table's name
        (Benefit("防贫", "保险"), "超过部分还有大病保险，大病保险一年最多支付40万元。", False),
        (Benefit("创业", "补贴"), "返乡创业人员可以申请创业担保贷款；稳定就业的给予稳岗补贴。", False),
        (Benefit("高龄", "补贴"), "为80周岁以上低保独居老人免费发放手表，县财政承担第一年月费。", False),
        (Benefit("", "养老金"), "基础养老金标准为每人每月260元。", True),
        (Benefit("", "养老金"), "积分超市1分相当于1元，可兑换生活用品。", False),
        # A noun's suffix or prefix tells nothing; one character of a name said otherwise is enough.
        (Benefit("稻子", "保险"), "险种：水稻完全成本保险；保险费：每亩40元", True),
        (Benefit("老母猪", "保险"), "险种：能繁母猪保险；保险费：每头90元", True),
        (Benefit("养羊", "保险"), "险种：水稻完全成本保险；保险费：每亩40元", False),
        (Benefit("插秧机", "补贴"), "青溪县2025年农机购置与应用补贴实施公告", True),
        (Benefit("", "医保"), "青溪县2025年城乡居民基本医疗保险实施细则", True),
        (Benefit("", "医保"), "居民医保缴费入口", True),
        (Benefit("", "医保"), "城乡居民基本养老保险个人缴费分为每年200元、300元七个档次。", False),
    ],
)
def test_a_passage_names_the_benefit_before_its_kind_word(benefit: Benefit, text: str, said: bool) -> None:
    assert benefit.said_in(text) is said


def test_an_insured_thing_is_met_only_by_its_own_insurance() -> None:
    question = "养的母猪上保险，一头自个儿掏多钱？"
    asked = read_question(question)
    row = "险种：能繁母猪保险；保险费：每头90元；财政补贴比例：80%；农户自缴：每头18元"
    assert answers(asked, question, row, "", row)
    illness = "超过部分还有大病保险，大病保险一年最多支付40万元。"
    assert not answers(asked, question, illness, "", illness)


def test_a_sentence_about_another_benefit_of_the_kind_answers_nothing() -> None:
    question = "防贫保险一年最多赔多少？"
    asked = read_question(question)
    assert not answers(asked, question, "大病保险一年最多支付40万元。", "城乡居民医保政策问答")
    assert answers(asked, question, "防贫保险每户每年最高赔付10万元。", "防贫保险实施方案")


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # Money asked by its verb is answered by a sum, a share or a table field's unit, not a duration.
        ("养老金现在一个月发多少？", "超过12个月没有认证的，养老金暂停发放。", False),
        ("养老金现在一个月发多少？", "基础养老金标准为每人每月260元。", True),
        ("宽带一个月多少钱？", "套餐：单宽带300M；月费（元/月）：40", True),
        ("水稻保险财政给补多少？", "险种：水稻完全成本保险；财政补贴比例：80%", True),
        ("养老保险要交多少年？", "累计缴费满15年的，可以按月领取养老金。", True),
        # Asked as 钱, a sum only: a share is no fee.
        ("2022年农村医保一个人交多少钱？", "2024年全县农村地区盗窃类案件比2022年下降41%。", False),
        ("2022年农村医保一个人交多少钱？", "2022年度个人缴费标准为每人每年350元。", True),
    ],
)
def test_money_is_answered_by_a_sum(question: str, sentence: str, expected: bool) -> None:
    assert answers(read_question(question), question, sentence, "城乡居民医保缴费问答") is expected


def test_medical_insurance_is_not_answered_by_another_insurance_or_a_phone_plan() -> None:
    question = "我是低保户，医保要交多少钱？"
    asked = read_question(question)
    pension = "对低保对象等缴费困难群体，由县政府按第一档200元标准为其代缴全部最低档次养老保险费。"
    assert not answers(asked, question, pension, "青溪县城乡居民基本养老保险实施办法 第三章 缴费和政府补贴")
    plan = "低保户、特困人员、脱贫户和监测户家庭办理单宽带300M，享受5折优惠，每月20元。"
    assert not answers(asked, question, plan, "常见问题解答 二、宽带和手机")
    paid = "特困人员、低保对象个人缴费部分由医疗救助基金全额资助，每人资助280元。"
    assert answers(asked, question, paid, "青溪县2025年城乡居民基本医疗保险参保缴费通知")


def test_a_section_on_the_whole_programme_covers_the_benefits_its_document_names() -> None:
    """四、理赔程序 of the insurance plan says how to claim for every insurance the plan covers; a sentence
    there naming another benefit (大病保险) does not, nor does a document that never names the asked one."""
    question = "水稻保险被水淹了咋报案？"
    asked = read_question(question)
    plan = "险种：水稻完全成本保险；保险金额：每亩1000元\n四、理赔程序\n农户发生损失后，应当在48小时内报案。"
    title = "青溪县2025年政策性农业保险工作方案 四、理赔程序"
    claim = "农户发生损失后，应当在48小时内向村协保员报案，或者拨打县农业保险服务热线报案。"
    assert not answers(asked, question, claim, title)  # the passage alone names no 水稻
    assert answers(asked, question, claim, title, "", lambda: plan)
    other = "大病保险的报销在出院时直接结算，不用报案。"
    assert not answers(asked, question, other, title, "", lambda: plan)
    assert not answers(asked, question, claim, title, "", lambda: "四、理赔程序\n农户发生损失后报案。")


def test_only_a_section_of_the_programme_is_covered_by_its_document() -> None:
    """An FAQ naming 护理补贴 in one section says nothing of it in its section on a watch: the title
    must name a programme of the kind before the document covers the sentence."""
    question = "俺家老汉是二级残疾，护理补贴一个月给多钱？"
    asked = read_question(question)
    faq = "五、老人守护手表\n老人手表售价399元。\n六、残疾人\n重度残疾人护理补贴每人每月100元。"
    watch = "老人守护手表售价399元，办理套餐的用户加购价199元。"
    assert not answers(asked, question, watch, "常见问题解答 五、老人守护手表", "", lambda: faq)
    assert answers(asked, question, "重度残疾人护理补贴每人每月100元。", "常见问题解答 六、残疾人")


def test_a_bare_kind_is_met_by_any_benefit_of_it() -> None:
    question = "农村养老金现在一个月发多少？"
    asked = read_question(question)
    assert answers(asked, question, "基础养老金标准为每人每月260元。")
    assert not answers(asked, question, "积分可以兑换生活用品，1分一般相当于1元。", "便民服务")
