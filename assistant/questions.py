"""Question types, and the sentence signals that answer each type."""

from __future__ import annotations

import re
from typing import Literal

QuestionType = Literal[
    "amount",
    "percentage",
    "date",
    "duration",
    "procedure",
    "eligibility",
    "contact",
    "count",
    "yes_no",
    "list",
]

_QUESTION_PATTERNS: dict[QuestionType, re.Pattern[str]] = {
    "amount": re.compile(
        r"多少钱|几块|多少元|多少万|费用|价格|收费|标准是多少|补(贴|助)多少|给多少|交多少|缴多少|领多少|赔多少|贷多少|月费|资费|多钱|多少"
    ),
    "percentage": re.compile(r"比例|百分之|几成|多少%|报销多少"),
    "date": re.compile(r"什么时候|啥时候|几月|哪天|几号|日期|截止|期限|哪一年|哪年|何时"),
    "duration": re.compile(r"多久|多长时间|几天|几个月|几年|多少天|时限"),
    "procedure": re.compile(
        r"怎么(办|申请|交|缴|报|弄|操作|用|绑定|领)|如何|流程|步骤|手续|去哪|到哪|在哪(里)?(办|交|申请)|需要(带|准备|什么材料)|材料"
    ),
    "eligibility": re.compile(
        r"能不能|可不可以|可以.{0,6}吗|有没有资格|符合|条件|谁(能|可以)|哪些人|什么人|对象|够不够"
    ),
    "contact": re.compile(r"电话|联系|找谁|打给|热线|号码|地址|在哪儿?办公"),
    "count": re.compile(r"几个|几户|几只|几台|多少个|多少户|多少人|多少亩|几亩"),
    "yes_no": re.compile(r"吗[？?]?$|是不是|是否|有没有|能不能|会不会"),
    "list": re.compile(r"哪些(?!人)|哪几[个种项类样方]|有什么|包括什么|包含什么|分为什么|有几种"),
}

SENTENCE_SIGNALS: dict[QuestionType, re.Pattern[str]] = {
    # 12元, or a table field whose heading carries the unit (月费（元/月）：40).
    "amount": re.compile(r"\d[\d,.]*\s*(万元|亿元|元|块)|[（(](?:万元|元)[^）)]{0,4}[）)][:：]\s*\d"),
    "percentage": re.compile(r"\d+(\.\d+)?\s*%|百分之|\d+成"),
    "date": re.compile(r"\d{1,2}月\d{1,2}日|\d{1,2}月(底|初|中旬|上旬|下旬)|每年\d{1,2}月|\d{4}年\d{1,2}月"),
    "duration": re.compile(r"\d+\s*个?(工作日|日|天|月|年|小时|分钟)"),
    "procedure": re.compile(r"申请|提交|携带|办理|审核|登记|填写|递交|步骤|第[一二三四五]步|扫码|下载|点击"),
    "eligibility": re.compile(r"年满|符合|对象|条件|户籍|不得|不予|可以|应当|须"),
    "contact": re.compile(r"\d{3,4}-\d{7,8}|1\d{10}|\b\d{5}\b|电话|热线|地址"),
    "count": re.compile(r"\d+\s*(个|户|人|只|项|台|亩|次|家)"),
    "yes_no": re.compile(r"可以|不能|不得|能|需要|不需要|免费|不收"),
    # An enumeration: three items in a row (兴趣测评、性格测评、能力测评), or two after 包括 / 分为.
    "list": re.compile(
        r"[^、，。；]{1,15}、[^、，。；]{1,15}、[^、，。；]{1,15}|(?:包括|包含|分为|设有|涵盖)[^。；]{0,30}[、和及与]"
    ),
}


def question_types(question: str) -> set[QuestionType]:
    return {kind for kind, pattern in _QUESTION_PATTERNS.items() if pattern.search(question)}
