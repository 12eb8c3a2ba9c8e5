"""Answerability: does a sentence state what the question asks for?

A passage about the right event often lacks the asked fact (the ceremony's date, one year's growth
figure): quoting its on-topic sentence is a confident wrong answer. So the question is read for what it
asks (a time, an amount, a person or organisation, a place) and for the constraints it carries (years,
months, titles in 《》, names and codes); a sentence answers only when it holds an expression of the
asked kind beyond the question's own words, and every constraint in itself or in its immediate context
(the passage's title and section, or the sentence before it). A topic word matched somewhere is not
enough. Questions whose kind cannot be checked this way (a procedure, a yes/no) are judged by their
constraints alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from assistant.ages import AgeSpan, asked_age, fits_age
from assistant.followup import topic_terms
from assistant.normalize import synonym_names
from assistant.policies import BENEFIT_HEADS, NOT_WHICH, Benefit, asked_benefits
from assistant.unknown_words import said_apart
from knowledge.cases import another_case
from knowledge.chunking import row_parts
from knowledge.holders import (
    HOLDER_REACH,
    HUMAN_ROLE,
    NOT_THE_HOLDER,
    SURNAMES,
    asked_role,
    full_names,
    person_names,
)
from knowledge.lexical import pos_tagger, word_tokenizer
from zhtext.normalize import normalize_query, to_simplified

AskedKind = Literal[
    "time", "duration", "amount", "person", "place", "name", "phone", "list", "which", "post", "theme"
]

_WHICH_KINDS = "专业|系|大学|学校|学院|球队|银行|医院|公司|部门|单位|电视台|频道|路|街|集|领域|行业|学科"
_ASKS: dict[AskedKind, re.Pattern[str]] = {
    "time": re.compile(
        r"什么时[候间]|啥时候|何时|何年|(?:哪个|什么)年份|(?<!多长)(?<!多少)时间(?!表)|日期|哪[一]?天|几号|几月|哪[一]?年|几点|开始于|截止到?哪"
    ),
    # 多久能批下来, 多长时间到账, 几天能装上: how long, as a span (5个工作日内, 72小时) or how often (每月).
    "duration": re.compile(r"多久|多长时间|几天(?!后)|多少(?:个)?(?:天|工作日|小时|周|星期|月|年)"),
    "amount": re.compile(
        r"(?<!电话)(?<!号码)(?<!热线)(?<!电话是)(?<!号码是)(?<!热线是)多少(?!个?(岗位|职位)?(是|为)?什么)(?!个?(?:天|工作日|小时|周|星期|月|年))|多钱|几[个户人亩元块万千百只台次家所名位项]|比例|占比|几成|多大|多高|多重|多长(?!时间)"
    ),
    "person": re.compile(r"谁|哪位|何人|哪些人(?!能|可以)|主演|总导演|导演是|创始人|获得者|得主"),
    # 在哪个球队, 在哪一届, 集中在哪些领域 ask which one, not where.
    "place": re.compile(
        r"哪里|哪儿|在哪(?![个些一])|何地|何处|什么地方|哪个(城市|国家|省|地方|地区|县|村|镇)|哪座城市"
    ),
    "name": re.compile(r"叫什么|什么名字|名字是|名称是|叫啥"),
    # 有哪些专业, 哪些地区的学生: which ones, named together (哲学、伦理学、宗教学; 英语和法语) or counted.
    "list": re.compile(r"哪些(?!人)"),
    # 哪个专业, 哪所大学, 哪条路: which one of a kind, named by a word of it (哲学专业, 岭南大学, 人民路).
    # 是从那些专业…的？ is a typing slip for 哪些 where 那些 follows 从, 是 or 在.
    "which": re.compile(rf"(?:哪(?:个|一|家|所|条|支|座|部)|(?<=[从是在])那些)(?:{_WHICH_KINDS})"),
    # 现任职务是什么, 担任什么职务: a post (副所长, 委员), not the person holding one.
    "post": re.compile(r"职务|职位|职称|头衔|担任什么|任什么职"),
    # 年会的主题是什么: a theme, said as one.
    "theme": re.compile(r"主题(?:是|为)?(?:什么|啥)"),
    # 电话多少 asks for a number to dial, which an amount never is (0571-86213300 is no figure).
    "phone": re.compile(
        r"(?:电话|号码|热线)(?:号码)?是?(?:多少|几号|啥)|(?:哪个|什么|啥)(?:电话|号码|热线)|打哪个号"
    ),
}

# Kinds that choose the quoted sentence but never refuse: an asked phone number's contact line closes a
# document, outside the chunk a question matched, and the hand-off gives a number to call anyway.
PREFERRED_KINDS: frozenset[AskedKind] = frozenset({"phone"})

# A figure named without a question word (2022年全国棉花产量, 重庆的GDP增长率) asks for that figure;
# beside one (谁是首个票房达到300亿元的演员) it is only part of the description.
_FIGURE = re.compile(
    r"数量|产量|总量|人数|营收|收入|票房|增长率|增速|涨幅|总额|规模|保有量|奖金|参考价|收购价|单价|售价|租金"
)


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:年|(?!\d|\s*级))")
# A cohort (2012级本科生) is a class, not a year: said in the sentence or beside it, and another (2013级)
# is another class.
_COHORT = re.compile(r"(?<!\d)(?:(?:19|20)\d{2}级|[0-9]0后)")  # a class (2012级), a generation (80后)
# A year a sentence is about (2024年, 2024-03, 2024/3), not a cohort (2019级) or a model (CVPR2022).
_DATED = re.compile(r"(?<![\d A-Za-z])(?:19|20)\d{2}(?=\s*年(?!级)|[-/.]\d)")
# Which edition or which model (第28届, 第二十八届, 小米13, 神舟十四号): another edition's or model's
# facts are no answer, so like a year it must be in the sentence or beside it, and a sentence that
# names another one of the same kind is about that one.
_ORDINAL = re.compile(r"第\s*([0-9一二三四五六七八九十百零两]+)\s*([届次期批轮季])")
# 二轮承包 is the 第二轮 (not 三轮车, 两轮, 新一轮).
_BARE_ROUND = re.compile(r"(?<![第\d一二三四五六七八九十两])([二三四五六七八九十])轮(?![车摩电驱子])")
_MODEL = re.compile(
    r"((?:(?![每第共约近超达前后为是有个])[\u4e00-\u9fff]){2})"
    r"(\d{1,3}(?=系列|代|号|型|款|版|套餐|Pro|Max|Plus|Ultra)|[一二三四五六七八九十]{1,3}号)"
)
# A village the question names (白沙村的村规民约, 新塘村的民宿): another village's rule or price is no
# answer. Not a village's name: where one is (农村, 回村, 我们村), which one (本村, 各村), what kind (行政村,
# 示范村), nor 村 opening another word (村民, 村委会, 村规民约).
_VILLAGE = re.compile(
    r"((?:(?![回进到在驻出去来本全各我们该此每一两几个外邻这那哪某的了和与及或是有])[\u4e00-\u9fff]){2})"
    r"村(?![民委里干规务庄子级集])"
)
_NOT_A_VILLAGE = frozenset(
    # 农村, 乡村, 山村, 村村通, 行政村, 自然村, 贫困村, 示范村, 重点村, 村头, 中心村, 空心村, 城中村, 文明村,
    # 移民村, 特色村, 强村富民
    {"农村", "乡村", "山村", "村村", "政村", "然村", "困村", "范村", "点村", "头村", "心村", "中村", "明村"}
    | {"民村", "色村", "强村"}
)
# A class of a ranked list (甲类 / 乙类 降分政策, 甲级): another class's rule is another rule.
_GRADE = re.compile(r"([甲乙丙丁])([类级等])")
# A letter grade (A+, B-; 获评A+的学科): A and A- are other grades.
_LETTER_GRADE = re.compile(r"(?<![A-Za-z0-9])[A-D][+-](?![A-Za-z0-9+-])")
_MONTH = re.compile(r"(?<![\d月])(\d{1,2})月(?!\d{1,2}[日号])")
_TITLE = re.compile(r"《([^》]{1,40})》")
# A name the question quotes (“双一流”, “古代文本文化国际研究中心”) is a constraint like a title.
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{2,20})[”」』\"]")
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*\d[A-Za-z0-9]*|[A-Z]{2,}[A-Za-z]*")
# Everyday abbreviations name no particular thing (a document says 管理端 or 小程序 for the APP).
_COMMON_ABBREVIATIONS = frozenset({"APP", "APK", "WIFI", "SIM", "GPS", "SOS", "QQ", "TV", "PDF", "ID", "OK"})
# Places and organisations only: jieba also tags everyday words as person names or "other proper
# nouns" (老汉, 养牛, 水淹), which would make every villager's question unanswerable.
_NAME_FLAGS = ("ns", "nt")
_WHO_FLAGS = ("nr", "ns", "nt")
_NOT_A_NAME = re.compile(
    r"[里内外上下边]$|^(全国|我国|国内|国外|本地|当地|农村|城乡|城镇|村里|县里|乡里|东西|中外)$"
)

_DIGITS = re.compile(r"\d")
_AMOUNT = re.compile(
    r"\d[\d,.]*\s*(?:%|万|亿|千|百|元|块|美元|人|户|亩|个|辆|次|名|吨|公斤|千克|斤|台|家|所|岁|倍|成|米|公里|平方米|小时|天|日|月|年|分|点)?"
    r"|[零一二两三四五六七八九十百千]+[万亿]?(?:元|人|户|亩|个|辆|次|名|吨|台|家|所|岁|倍|成)|百分之"
)
# List numbers (1、 （2） 2.) and years written without 年 (2006-2023, 2023北京…) count nothing.
_ENUMERATOR = re.compile(r"(?<![\d.])\d{1,2}\s*[、）)]|[（(]\d{1,2}[）)]|(?:^|(?<=\s))\d{1,2}\s*[.．](?!\d)")
_BARE_YEAR = re.compile(r"(?<![\d.])(?:19|20)\d{2}(?![\d.%万亿元人户个名次吨亩辆台家所])")
# Things named together: A、B; A和B, A及B, A与B, A或B; 1. A; a count of them (4个本科专业, 9所大学).
_LISTED = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9）)”」]\s*[、/]\s*[\u4e00-\u9fffA-Za-z（(“「]"
    r"|[\u4e00-\u9fff]{2}(?:和|及|与|以及|或|或者)[\u4e00-\u9fff]{2}"
    r"|(?:^|[：:\s])[（(]?[0-9一二三四五六七八九十]{1,2}[）)、.．]"
    # A count of several (4个本科专业), not an article (第一个, 一个教学班).
    r"|(?<![第\d一二两三四五六七八九十])(?:\d+|[一二两三四五六七八九十]{2,}|[两三四五六七八九十])\s*[个所项种类门位家条]"
)
# 哪些地区: places, named together (A县、B县以及C州).
_ASKS_PLACES = re.compile(r"哪些(?:地区|省份|省|城市|国家|县)")
_AND = ("、", "和", "及", "与", "或")
# A number to call about something: a landline, a mobile or a 123xx service line. The emergency and
# anti-fraud numbers (110, 96110) are what a notice tells everyone to call, no office's number.
_PHONE = re.compile(r"(?<!\d)(?:\d{3,4}-\d{7,8}|1[3-9]\d{9}|\d{7,8}|123\d{2})(?!\d)")
_IDENTIFIER = re.compile(r"(?<![\d.])(?:\d{3,4}-)?\d{5,}(?![\d.%万亿元人户个])")
_TIME = re.compile(
    r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*[日号]?|\d{1,2}\s*月(?:初|底|中旬|上旬|下旬|份)?|[一二三四五六七八九十]+月"
    r"|[一二三四五六七八九十二十三十]+[日号]|周[一二三四五六日末]|星期[一二三四五六日天]|\d{1,2}[:：]\d{2}|\d{1,2}[点时]"
    r"|(?:19|20)\d{2}[-/.]\d{1,2}|(?:今|明|去|前|后)年|(?:本|下|上)个?月|即日起|当天|次日|[春夏秋冬]季|年[初底中]"
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}"
)
# A span (5个工作日内, 72小时, 半个月, 约7天) or how often (每月, 每周至少2次); not a year (2025年), a
# month of a date (9月1日, 2025年11月) nor its day (12月31日).
_DURATION = re.compile(
    r"(?<![\d月])(?!(?:19|20)\d{2}\s*年)(?!(?<=年)\d{1,2}月)(?:\d[\d.]*|[一二两三四五六七八九十百半]+)\s*(?:多|余)?\s*个?\s*"
    r"(?:工作日|自然日|天|日|周|星期|月|季度|年|小时|钟头|分钟|秒)(?!\s*\d)"
    r"|每(?:个)?(?:工作日|天|日|周|星期|月|季度|半年|年)|当天|当日|当场|即时|立即|随时|马上|次日|即办"
)
# A news page's byline stamp (第一财经 03-11 16:59): when it was posted, not when the asked thing happened.
_STAMP = re.compile(r"(?<![\d-])\d{2}-\d{2}\s+\d{1,2}:\d{2}(?![\d:])")
_NAMED = re.compile(r"[“\"「『《][^”\"」』》]{1,30}[”\"」』》]|名[叫为]|叫做|取名|命名为")
# News passages open with their publication date (Nov 19, 2022 ..., 日期：2023-12-16): when the page
# was written, not when the asked thing happened; it is context, not part of the sentence.
_DATELINE = re.compile(
    r"^\s*(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
    r"|(?:日期[:：]\s*)?\d{4}-\d{2}-\d{2}"
    # A wire story's dateline (新华社北京4月3日电（记者…）): when it was filed, not when the visit is.
    r"|[^，。：:于在将]{0,12}?\d{1,2}月\d{1,2}日电(?![视话影脑动器力网商源池费梯气台子线价量厂站工缆])"
    r"(?:[（(][^）)]{0,30}[）)])?)\s*(?:\.\.\.|…)?\s*"
)
_PAGE_DATE = re.compile(
    r"(?:日期|发布时间)[:：]\s*\d{4}"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
)
# A change of office told without its year (由黄达同志接任, 不再担任校长) or a thing placed in history
# (在人大历史上是一个很重要的变化) is what the page recalls: its date is when it was told, not when it
# happened.
_SUCCESSION = re.compile(r"接任|继任|卸任|不再担任|调任|离任|接替|历史上")
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{1,10}(?:市|省|县|区|镇|乡|村|州|岛|国|湾|港|城|中心|体育场|体育馆|会议中心|会展中心|剧院|馆|大厦|广场|酒店|机场|大学|公园)"
)
_ORGANISATION = re.compile(
    r"[\u4e00-\u9fff]{2,12}(?:公司|集团|团队|工作室|文化馆|委员会|协会|研究院|研究所|电视台|出版社|影业|传媒)"
)
# A villager asking who gets, decides or helps (补贴给谁, 找谁办, 谁来审批) asks for a party, not a name: a
# kind of people, an office or a counter answers (发给承包农户, 由村委会审核). Asking whom to turn to (找谁问,
# 向谁申请, 谁负责) asks for an office or a person on duty: the people a policy is for (农户和服务组织
# 每亩补贴30元) do not answer it.
_ASKS_PARTY = re.compile(r"(?:发给|给|归|找|交给|向|跟)谁|谁(?:来|负责|办|审批|审核|出钱|承担|发放|管)")
# 由哪位教授领衔: 位 counts people, so a university or an institute is no answer.
_WHICH_PERSON = re.compile(r"哪一?位")
# 补贴给谁, 归谁: who receives, named in a clause that gives (发给承包农户, 补贴对象为…农民), not a group a
# benefit's name holds (实际种粮农民一次性补贴由每亩15元调整为16元) nor who publicises it (各乡镇要做好宣传).
_ASKS_RECEIVER = re.compile(r"(?:发给|补给|给|归)谁")
_BENEFIT_NAME = re.compile(rf"[^\W\d_的和与及或]{{0,10}}(?:{'|'.join(BENEFIT_HEADS)})")
_GIVING = re.compile(r"给|归|对象|发放|领取|享受|打到|补给")
_ASKS_CONTACT = re.compile(r"(?:找|向|跟|问)谁|谁(?:来|负责|办|审批|审核|管)")
_OFFICE = re.compile(
    r"委员会|村委会|政府|部门|服务中心|服务站|办事处|银行|医院|卫生院|卫生室|窗口|专干|协办员|网格员|干部"
    r"|民政局|农业农村局|人社局|医保局|保险公司|[\u4e00-\u9fff]{2,10}(?:局|中心|站|所|办公室|大厅)"
)
_PARTY = re.compile(r"农户|农民|村民|户主|家属|子女|本人|监护人|承包方|发包方|经营者|" + _OFFICE.pattern)
# A name before a title (李明导演), not a phrase (这其实是导演故意为之): no grammatical characters in it.
_NAME_CHAR = r"(?:(?![是的了在这那其为与和及之等也都还就把被对从向给让个])[\u4e00-\u9fff])"
# A country before its office or team (美国总统, 中国队) names whose they are, not where something is.
_OF_A_PLACE = re.compile(r"总统|总理|首相|主席|外长|领导人|大使|队|籍|人(?![民社力])")
# A place is where something is when said so (在泰国曼谷举行, 位于苏州市, 地点：…, 新加坡将举办): a country
# in a list of who agreed (美国、加拿大与墨西哥将…) is not where the summit is.
_AT = re.compile(r"[在于到赴至向]|落户|来到|前往|地[点址][:：]?|举办地|所在地")
_HELD = re.compile(r".{0,3}?(?:举行|举办|召开|开幕|揭幕|承办|主办)")
# A post (副所长, 中心主任, 双聘教授): a title the question does not already give (乌云毕力格教授的职务
# is not answered by 蒙古学教授).
_POST = re.compile(
    r"(?:副|常务|执行|名誉|荣誉|双聘|特聘|兼职)?(?:所长|院长|校长|系主任|主任|书记|主席|会长|理事长|理事|委员|部长"
    r"|局长|处长|馆长|主编|秘书长|董事长|总经理|经理|教授|研究员|讲师|院士|顾问|首席专家)"
)
# A statement a school or body is known by (办学愿景, 宗旨, 校训), asked by its name: said under it.
_STATEMENT_ASKED = re.compile(r"(愿景|理念|宗旨|使命|定位|校训|院训|口号)是(?:什么|啥)")
# A label and what it says (办学愿景：打造…): a line cut by its chunk (办学愿景：创立) says too little.
_LABELLED = re.compile(r"([^：:，。；]{1,12})[：:]\s*([^，。；]*)")


def _states(label: str, sentence: str, context: str) -> bool:
    """The sentence says the statement asked by its name (`label`): under that name in the sentence or
    beside it, and where the sentence is its labelled line, with more than a word after the label."""
    if label not in f"{sentence} {context}":
        return False
    line = _LABELLED.match(sentence)
    return line is None or label not in line.group(1) or len(line.group(2)) > 4


# 谁是…的开拓者: the one a role ending the question names is a person, whatever else was the first.
_WHO_IS_THE = re.compile(r"^谁是[^，。？?]*?([^\W\d的之]{1,3}(?:者|人物))[？?。]*$")
_PERSON_HINT = re.compile(
    rf"{_NAME_CHAR}{{2,3}}(?:先生|女士|同志|书记|主任|局长|县长|市长|村长|总理|总统|主席|教授|导演|老师|医生)"
    rf"|由{_NAME_CHAR}{{2,4}}[、，和与]"
)


@dataclass(frozen=True)
class Asked:
    """What a question asks for and the constraints an answer must meet."""

    kinds: frozenset[AskedKind]
    years: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    """Titles in 《》, codes (C919, CPI), the names of places and organisations, and people named in
    full."""
    people: tuple[str, ...] = ()
    """The people among `names` (汪建熙): a sentence about someone else (夏成才，后来是…会计系主任) says
    nothing of them, whoever its page is about."""
    quoted: tuple[str, ...] = ()
    """The names among `names` the question puts in quotation marks (“古代文本文化国际研究中心”): the very
    thing asked about, met only in the sentence or beside it, not somewhere else on its page."""
    editions: tuple[str, ...] = ()
    """Which edition, class or model (第28届, 甲类, 小米13): met only in the sentence or beside it."""
    focus: tuple[tuple[AskedKind, str], ...] = ()
    """The word an asked person, place or time goes with (制作 of 谁制作的, 颁奖 of 颁奖时间)."""
    age: AgeSpan | None = None
    """The villager's age (俺爹都75了): a sentence about other age groups (80至89周岁) is another rule."""
    benefits: tuple[Benefit, ...] = ()
    """The benefits named by which one they are (高龄补贴, 防贫保险) or by their kind (养老金): met in the
    sentence's passage."""
    topics: tuple[str, ...] = ()
    """The question's topic words (宽带 of 宽带多少钱): a sentence that names one only to deny it (无宽带,
    不含宽带) is about something else."""
    defined: str = ""
    """The named thing a "what is it" question asks about (瓦格纳 of 俄罗斯瓦格纳是什么): a sentence answers
    only by saying what it is."""
    about: tuple[str, ...] = ()
    """Of a question asking no kind of fact (a yes/no, a how-to), the topic words one of which an answer
    names (`_about_it`)."""
    subject: str = ""
    """The thing a question without a question word asks for by naming it (多数党 of 美国中期选举后众议院
    多数党, 冠军 of 卡塔尔世界杯的冠军): a sentence answers only by naming it too."""

    @property
    def checkable(self) -> bool:
        constraints = (self.years, self.months, self.names, self.editions, self.benefits, self.about)
        return bool(self.kinds or self.age or self.defined or self.subject or any(constraints))

    def own_words(self) -> tuple[str, ...]:
        """The question's own words: they are no answer when a sentence repeats them."""
        return (*self.years, *(f"{m}月" for m in self.months), *self.names, *self.editions)


@lru_cache(maxsize=8192)
def _names_at(text: str, flags: tuple[str, ...] = _NAME_FLAGS) -> tuple[tuple[str, int], ...]:
    """The names jieba tags with `flags`, each with where it ends (kept: the same retrieved sentences
    are read for many questions)."""
    found = []
    at = 0
    for pair in pos_tagger().cut(text, HMM=False):
        at += len(pair.word)
        if len(pair.word) >= 2 and pair.flag.startswith(flags) and not _NOT_A_NAME.search(pair.word):
            found.append((pair.word, at))
    return tuple(found)


def _proper_names(text: str, flags: tuple[str, ...] = _NAME_FLAGS) -> list[str]:
    return [word for word, _ in _names_at(text, flags)]


def _places_at(text: str) -> list[tuple[str, int]]:
    """The places a text names, each with where it ends: jieba's places, and names ending in a kind of
    place (体育场, 大学); an organisation (中国电影家协会) is where news came from, not a venue."""
    return [(m.group(), m.end()) for m in _PLACE.finditer(text)] + list(_names_at(text, ("ns",)))


def _editions(text: str) -> list[str]:
    found = [f"第{number}{counter}" for number, counter in _ORDINAL.findall(text)]
    found += [f"第{number}轮" for number in _BARE_ROUND.findall(text)]
    found += [f"{rank}{counter}" for rank, counter in _GRADE.findall(text)]
    found += _LETTER_GRADE.findall(text)
    found += _COHORT.findall(text)
    return found + [f"{prefix}{number}" for prefix, number in _MODEL.findall(_YEAR.sub(" ", text))]


def _other_edition(edition: str, text: str) -> bool:
    """`text` names another edition, class or model of the same kind (第27届 for 第28届, 乙类 for 甲类,
    小米12 for 小米13)."""
    if _LETTER_GRADE.fullmatch(edition):
        return any(other != edition for other in _LETTER_GRADE.findall(text))
    if edition.endswith("后"):
        return any(other != edition and other.endswith("后") for other in _editions(text))
    if edition.startswith("第") or _GRADE.fullmatch(edition):
        return any(other != edition and other[-1] == edition[-1] for other in _editions(text))
    return any(other != edition and other[:2] == edition[:2] for other in _editions(text))


# A place name's own endings: 北京市 and 台湾地区 are 北京 and 台湾, 中国香港 is not 中国.
_ADMINISTRATIVE = re.compile(r"[市省县区镇乡村州]|地区|特区|境内|全境|一带|各地")


def _only_in_another_place(name: str, text: str) -> bool:
    """Every mention of `name` in `text` begins a longer place name (中国香港 for 中国): the sentence is
    about that place, whose box office is not the country's."""
    if name not in text:
        return False
    longer = [
        place
        for place, _ in _names_at(text, ("ns",))
        if place.startswith(name) and place != name and not _ADMINISTRATIVE.fullmatch(place[len(name) :])
    ]
    return sum(place.count(name) for place in longer) >= text.count(name)


def _other_code(code: str, text: str) -> bool:
    """`text` names a code of the same letters and another number (TFS8 for TFS4, W2 for W3) and not
    the asked one: its figures are the other test's or model's."""
    letters = re.sub(r"[\d.+-]", "", code).upper()
    if code.upper() in text.upper() or not letters or letters == code.upper():
        return False
    return any(re.sub(r"[\d.+-]", "", other).upper() == letters for other in _CODE.findall(text))


# The words a question's asked person, place or time goes with are found beside its question word;
# these are never that word (进行 only carries the act after it: 进行学生选拔).
# A verb's direction (办起来, 批下来) is not the event.
_DIRECTIONS = "起来|下来|出来|上来|过来|进来|回来|下去|出去"
_NOT_FOCUS = re.compile(
    r"^(不.|没.|可以|开始|正式|时候|时间|日期|什么|哪里|哪儿|已经|应该|需要|能够|才能|大概|一般|具体|进行"
    rf"|{_DIRECTIONS})$"
)
_ROLES = re.compile(r"主演|总导演|导演|创始人|获得者|得主")
# 张颂文演的谁, 在剧中扮演的是谁: asks the part an actor plays, which a sentence names beside its verb.
_PLAYED = re.compile(r"(?:饰演|扮演|出演|演)了?的?是?$")
_PART = "饰演"
_CLAUSE_END = re.compile(r"[，。？！；,.?!;\s]")
_FOCUS_FLAGS = ("v", "n", "vn", "nz")
# A villager's one-character verb and the documents' words for it: the time or place asked for is of
# that act (报 is 申报 or 报名; 发放 dates do not say when to report).
_VILLAGER_VERBS: dict[str, tuple[str, ...]] = {
    "报": ("申报", "报名", "上报", "报送", "登记"),
    "交": ("缴费", "缴纳", "交费", "交纳", "缴"),
    "领": ("领取", "发放", "到账"),
    "发": ("发放", "到账", "打到", "兑付"),
    "打": ("发放", "到账", "打到", "打入", "兑付", "拨付"),  # 打到卡上
    "批": ("审批", "批准", "批复", "办结"),
    "看": ("走访", "看望", "探望", "探视", "巡查"),  # 多久去看一次老人
    "换": ("更换", "换"),  # 密码多久换一回
}
# 等多久才能报 is as often 报销 as 申报: how long until 报 is no act of the documents'.
_SPAN_VERBS = frozenset(_VILLAGER_VERBS) - {"报"}
_DIRECTION = re.compile(rf"(?:{_DIRECTIONS})$")
_WH_TOKEN = re.compile(r"谁|哪里|哪儿|何时|何地|何处|时间|日期|时候|几号|哪天|哪年|几点")


_SPLIT_WORD = re.compile(r"[\u4e00-\u9fff](?<![的是有在了和与及或等])")


# What makes an act's word a thing's name (公开栏, 举报箱).
_A_BOARD = re.compile(r"栏|牌|墙|箱")
# Verbs that help another (能来验, 要去办): never the act itself.
_HELPING_VERBS = frozenset("能来去要会可得给让想")


def _focus(question: str) -> dict[AskedKind, str]:
    """For each asked person, place or time, the two-character content word beside its question word
    (and for an amount, the figure the question names: 产量, 营收):
    after it when one follows (谁制作的, 在哪里举行, 何时施行), else before it (颁奖时间, 航天员有谁).
    Of shorter words only a villager's everyday verbs (交, 报, 领) are one, said as the documents say them
    (缴费, 申报, 领取), and only for a time; 办 is not (办理 a form, 举办 a conference, 办起来 a
    school). An asked name is of the noun right before its question word (兴趣小组叫什么)."""
    tokens = [(t.word, t.flag) for t in pos_tagger().cut(question, HMM=False)]
    found: dict[AskedKind, str] = {}
    figure = _FIGURE.search(question)
    if figure is not None:
        found["amount"] = figure.group()  # 棉花产量: the figure stands beside its word, not 31个省 away
    elif money := _money_named(question, [w for w, _ in tokens]):
        found["amount"] = money
    for kind in ("person", "place", "time", "duration"):
        match = _ASKS[kind].search(question)
        if not match:
            continue
        at = 0
        index = None
        for i, (word, _flag) in enumerate(tokens):
            if at <= match.start() < at + len(word) or (at >= match.start() and _WH_TOKEN.search(word)):
                index = i
                break
            at += len(word)
        if index is None:
            continue
        role = _ROLES.search(match.group())
        if kind == "person" and role:
            found[kind] = role.group()  # 主演是谁, 创始人: the question word names the role itself
            continue
        if kind == "person" and _PLAYED.search(question[: match.start()]):
            found[kind] = _PART  # 张颂文演的谁: the part played, named beside 饰演
            continue
        last = index
        while last + 1 < len(tokens) and (
            tokens[last + 1][0] in match.group() or _WH_TOKEN.fullmatch(tokens[last + 1][0])
        ):
            last += 1

        def usable(
            words: list[tuple[str, str]],
            flags: tuple[str, ...] = _FOCUS_FLAGS,
            acts: Collection[str] = {"time": _VILLAGER_VERBS.keys(), "duration": _SPAN_VERBS}.get(kind, ()),
        ) -> list[str]:
            kept = []
            for said, flag in words:
                if _CLAUSE_END.fullmatch(said):
                    break  # 去哪里办？电话多少: the next clause asks something else
                # 批下来 is the act 批 and its direction, as jieba glues them.
                word = _DIRECTION.sub("", said) if len(said) > 2 else said
                if len(word) >= 2 and flag.startswith(flags) and not _NOT_FOCUS.match(word):
                    kept.append(word)
                elif word in acts:
                    kept.append(word)  # 啥时候去村里报: when to 申报, not when the subsidy is paid
            return kept

        # After the question word only a verb is what the asked thing goes with (谁制作); a noun there
        # names the kind of answer (哪位知名校友), which a sentence need not repeat.
        # 哪年加入: a verb after 哪年 / 哪天 is still the event the time is of.
        which = match.group().startswith("哪") and kind != "time"
        # 多久公开一次: jieba calls some acts adverbs.
        after = [] if which else usable(tokens[last + 1 : last + 4], ("v", "ad"))
        if kind == "time" and not after:
            # 哪一年投入使用: jieba's dictionary calls some acts nouns; right after the question word
            # one is still the event.
            after = usable(tokens[last + 1 : last + 2], ("v", "n"))
        before = usable(tokens[max(0, index - 3) : index][::-1])[::-1]
        # 谁制作的, 何时施行, 啥时候去村里报: the verb after the question word (when to report, not when
        # the subsidy is anything); 颁奖时间, 航天员有谁: the word before a noun-like question word.
        if match.group() in ("时间", "日期"):
            # 出分时间: a word jieba does not know comes as single characters, and it is the one the time
            # goes with, not 高考 before it.
            pair = tokens[max(0, index - 2) : index]
            split = len(pair) == 2 and all(len(w) == 1 and _SPLIT_WORD.match(w) for w, _ in pair)
            words = ["".join(w for w, _ in pair)] if split else before[-1:]
        elif after or question[max(0, match.start() - 1) : match.start()] not in ("是", "有"):
            words = after[:1]
        else:
            words = before[-1:]
        if not words and kind in ("time", "duration"):
            # 找乡里验收，几天能来验: a villager says again by its first character an act named before.
            acts = [
                w
                for w, flag in tokens[last + 1 : last + 4]
                if len(w) == 1 and flag.startswith("v") and w not in _HELPING_VERBS
            ]
            words = [
                w for w, _ in tokens[:index] if len(w) >= 2 and w[0] in acts and _CHINESE_WORD.fullmatch(w)
            ]
        if words:
            found[kind] = words[0]
    # 在哪个领域取得了突破: the one of its kind is named beside the act the question ties it to (可降解
    # 农药领域取得重要技术突破), not in a journal's 各个领域…交叉领域.
    which_one = _ASKS["which"].search(question)
    if which_one is not None:
        for token in list(pos_tagger().cut(question[which_one.end() :], HMM=False))[:3]:
            word, flag = token.word, token.flag
            if _CLAUSE_END.fullmatch(word):
                break
            if len(word) >= 2 and flag.startswith("v") and not _NOT_FOCUS.match(word):
                found["which"] = word
                break
    # 兴趣小组叫什么: the name is of the thing named right before the question word, beside which a
    # sentence names it (最活跃的兴趣小组叫“新风雅诗社”), not a slogan quoted about something else.
    named = _ASKS["name"].search(question)
    if named is not None:
        lead = [
            (t.word, t.flag) for t in pos_tagger().cut(question[: named.start()].rstrip("叫的是"), HMM=False)
        ]
        if lead and len(lead[-1][0]) >= 2 and lead[-1][1].startswith("n"):
            found["name"] = lead[-1][0]
    return found


# 瓦格纳是什么, 什么是ChatGPT: what a named thing is.
_WHAT_IS_AFTER = re.compile(r"(?:是|指)(?:什么|啥)(?:东西|意思)?[？?。!！]*$")
_WHAT_IS_BEFORE = re.compile(r"^(?:什么|啥)(?:是|叫)(.+?)[？?。!！]*$")
# Tags of a name: a person, place, organisation or other proper noun, a Latin-letter name.
_DEFINED_FLAGS = ("nr", "ns", "nt", "nz", "eng")


def _defined(question: str) -> str:
    """The named thing a "what is it" question asks about (瓦格纳 of 俄罗斯瓦格纳是什么, ChatGPT of 百度推出的
    类ChatGPT是什么), or "" when it asks about a common noun (禁用物质, 办学愿景), which the answering
    sentence need not repeat (现任…主任 answers 现任职务是什么)."""
    before = _WHAT_IS_BEFORE.match(question)
    after = _WHAT_IS_AFTER.search(question)
    if before is not None:
        tokens = list(pos_tagger().cut(before.group(1), HMM=False))
        if len(tokens) != 1:
            return ""
        word, flag = tokens[0].word, tokens[0].flag
    elif after is not None:
        tokens = list(pos_tagger().cut(question[: after.start()], HMM=False))
        if not tokens:
            return ""
        word, flag = tokens[-1].word, tokens[-1].flag
        if len(tokens) >= 2 and tokens[-2].word == "类":
            word = "类" + word  # one like ChatGPT: what ChatGPT is does not say what Baidu's is
    else:
        return ""
    named = flag.startswith(_DEFINED_FLAGS) or bool(_CODE.fullmatch(word))
    return word if named and len(word) >= 2 else ""


# Where a sentence says what something is: right after it (瓦格纳集团是…, 吉祥物为“兔小蕊”, 理念：…)
# or right before it (以“…”为主题, 名为ChatGPT).
_DEFINING_AFTER = re.compile(r"[^，。；,;]{0,3}?(?:是|为|系|即|指|叫|：|:|“|\"|「)")
_DEFINING_BEFORE = re.compile(r"(?:是|为|叫|即|：|:|”|\")\s*$")
_ASIDE = re.compile(r"[（(][^）)]{0,30}[）)]")


def _defines(thing: str, sentence: str) -> bool:
    """The sentence says what `thing` is, not only mentions it (授予瓦格纳合同工…, 类似于ChatGPT产品)."""
    text = _ASIDE.sub("", normalize_query(sentence)).lower()
    wanted = thing.lower()
    at = text.find(wanted)
    while at >= 0:
        end = at + len(wanted)
        if _DEFINING_AFTER.match(text, end) or _DEFINING_BEFORE.search(text[max(0, at - 3) : at]):
            return True
        at = text.find(wanted, end)
    return False


# Any word asking something, or asking yes or no (要不要, 能…不, 吗): such a question's last noun is
# not what it asks for.
_ASKING = re.compile(
    r"吗|么|呢|吧|啊|是否|能否|可否|怎|咋|如何|什么|啥|哪|谁|几|多少|多大|多久|多长|何|有没有|(.)不\1|[不没]$|不[？?]|没有[？?]?$"
)


def _bare_subject(question: str) -> str:
    """The noun a question without any question word ends with (2022年金鹰奖最佳电视剧: 电视剧), or ""."""
    stripped = question.strip().rstrip("？?。！!")
    if not stripped or _ASKING.search(stripped):
        return ""
    last = list(pos_tagger().cut(stripped, HMM=False))[-1]
    return last.word if len(last.word) >= 2 and last.flag.startswith(("n", "vn")) else ""


@lru_cache(maxsize=4096)
def read_question(question: str) -> Asked:
    question = to_simplified(normalize_query(question))
    # The documents' words the normaliser adds after the question (…另外有钱吗? 耕地地力保护补贴) say
    # what the villager's words are called, not what else the question is about, nor what it asks
    # (地租给别人种，要不要签合同? 流转 租金 asks no sum).
    end = question.rfind("?")
    said = question[: end + 1] if 0 <= end < len(question.rstrip()) - 1 else question
    kinds = frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(said))
    if not kinds and _FIGURE.search(said):
        kinds = frozenset(["amount"])
    quoted = _QUOTED.findall(question)
    titles = [*_TITLE.findall(question), *quoted]
    rest = _QUOTED.sub(" ", _TITLE.sub(" ", question))
    codes = [c for c in _CODE.findall(rest) if not c.isdigit() and c.upper() not in _COMMON_ABBREVIATIONS]
    # A person the question names (王永昌是哪年加入…) is a constraint like a place: another person's
    # joining is no answer.
    people = full_names(rest)
    proper = [*_proper_names(_CODE.sub(" ", rest)), *people]
    villages = [f"{v}村" for v in _VILLAGE.findall(rest) if f"{v[-1]}村" not in _NOT_A_VILLAGE]
    # jieba's cut of a village it does not know (新塘村 as 塘村) gives way to the village.
    proper = [n for n in proper if not any(n in v for v in villages)]
    names = [*titles, *codes, *villages, *(n for n in proper if n not in titles)]
    editions = _editions(rest)
    names = [n for n in names if not any(n in e or e in n for e in editions)]
    topics, benefits = topic_terms(question), asked_benefits(question)
    return Asked(
        kinds=kinds,
        years=tuple(dict.fromkeys(_YEAR.findall(question))),
        months=tuple(dict.fromkeys(_MONTH.findall(_YEAR.sub(" ", question)))),
        names=tuple(dict.fromkeys(names)),
        people=tuple(dict.fromkeys(n for n in people if n in names)),
        quoted=tuple(dict.fromkeys(n for n in quoted if n in names)),
        editions=tuple(dict.fromkeys(editions)),
        focus=tuple(_focus(said).items()),
        age=asked_age(question),
        benefits=benefits,
        topics=tuple(topics),
        about=() if kinds else _about(said, topic_terms(said) if said != question else topics, benefits),
        defined=_defined(question),
        subject="" if kinds else _bare_subject(question),
    )


# The unit a question asks its amount in (多少平方米, 几亩): an amount in another unit answers another
# question (8万余册 is no floor area). Money (多少钱, 发多少) is read by `_ASKS_MONEY` below.
_ASKED_UNIT = re.compile(
    r"(?:多少|几)(平方米|平米|平方公里|亩|公顷|万元|亿元|元|岁|吨|公里|千米|米|小时|分钟|天|人|名|户|所|家|项|次|回|趟|分)"
)
_UNIT_FAMILIES = (
    ("平方米", "平米", "㎡"),
    ("平方公里",),
    ("亩", "公顷"),
    ("万元", "亿元", "元", "块", "万", "亿"),
    ("岁",),
    ("吨", "公斤", "千克", "斤"),
    ("公里", "千米", "米"),
    ("小时", "分钟", "钟头"),
    ("天", "日", "工作日"),
    ("人", "名", "位", "人次"),
    ("户",),
    ("所", "家", "个"),  # 多少家成员单位: 40所高校 or 45个成员, never 70余人
    ("项", "个"),
    ("次", "回", "趟", "起"),  # a villager's 几回 is the documents' 次 (SOS呼救1860次)
    ("本", "册"),  # 一共有多少本: 8万余册
    ("分",),
)
_NUMBER = r"(?:\d[\d,.]*|[零一二两三四五六七八九十百千万亿]+)\s*(?:余|多|万|亿|千|百)?\s*(?:个)?"
# Money asked by its verb (一个月发多少, 一亩掏多钱, 多少钱): a sum or a share of one answers it, stated
# beside its number or as a table field's unit (月费（元/月）：40); 12个月 or 一次 does not.
_ASKS_MONEY = re.compile(
    r"(?:多少|多)钱|(?:发|给|补|交|缴|赔|掏|付|花|贷|借)了?(?:多少|多钱)(?![年月天日个次人亩岁户回趟])"
)
# A fee's amount (报名费是多少, 学费多少) is a sum of money: 只选考一天 is no 报名费.
_ASKS_FEE = re.compile(
    r"费(?:用)?(?:标准)?(?:是|为|要|得|大概|一共|总共)?(?:多少|几)(?![年月天日个次人亩岁户回趟])"
)
_MONEY = re.compile(rf"{_NUMBER}(?:万元|亿元|元|块|万|亿|%|％)|百分之|元[^：:，。；]{{0,8}}[：:]\s*\d")
# ... and asked as 钱 (交多少钱, 能领多少钱), a sum only: 下降41% is no fee.
_ASKS_SUM = re.compile(r"(?:多少|多)钱")
_SUM = re.compile(rf"{_NUMBER}(?:万元|亿元|元|块|万|亿)|元[^：:，。；]{{0,8}}[：:]\s*\d")
# A total (一共卖了多少钱) is never a rate: a clause with 每, 人均 or a unit per something (月费（元/月）)
# gives one per something.
_ASKS_TOTAL = re.compile(r"一共|总共|共计|合计|总计|累计|总额|总数")
_RATE_CLAUSE = re.compile(r"[^，。；;,]*(?:每|人均|户均|亩均|平均|元/)[^，。；;,]*")
# ... nor a rule's limit (超过5000元的, 最高赔付10万元).
_LIMIT = re.compile(
    r"(?:超过|不超过|超出|最高|最多|最低|不低于|不少于|至少|低于|高于|上限|封顶)[^，。；;,\d]{0,4}[\d.,]+\s*[万亿千百]?\S?"
)


# The unit a named figure is counted in (参考人数 in people, 营收 in money, 增长率 in per cent): a
# growth rate is no head count, and 15.6% of revenue is no revenue.
_FIGURE_UNITS: dict[str, tuple[str, ...]] = {
    "人数": ("人", "名", "位", "人次"),
    "营收": ("万元", "亿元", "元", "美元", "万", "亿"),
    "收入": ("万元", "亿元", "元", "美元", "万", "亿"),
    "票房": ("万元", "亿元", "元", "美元", "万", "亿"),
    "总额": ("万元", "亿元", "元", "美元", "万", "亿"),
    "奖金": ("万元", "亿元", "元", "美元", "万", "亿"),
    "增长率": ("%", "％", "个百分点", "倍", "成"),
    "增速": ("%", "％", "个百分点", "倍", "成"),
    "涨幅": ("%", "％", "个百分点", "倍", "成"),
}


# A rate or share (录取率, 报销比例, 占比) is said as one (76%, 七成, 三分之一): the gap between two rates
# (差距6个百分点) or a head count is not it. Rates of change, a currency's rate and a frequency are
# said otherwise.
_ASKS_RATE = re.compile(r"[\u4e00-\u9fff]率|比例|占比|比重")
_NOT_A_SHARE = re.compile(r"增长率|增速|涨幅|百分点|汇率|频率|效率|速率|功率|倍")
_SHARE = re.compile(rf"{_NUMBER}(?:%|％|成)(?!个?百分点)|百分之|分之")


@lru_cache(maxsize=1024)
def _unit_expression(question: str) -> re.Pattern[str] | None:
    """A number in the unit the question asks for (多少平方米, or its named figure's: 参考人数), or None
    when it names none."""
    asked = _ASKED_UNIT.search(question)
    if asked is None and (_ASKS_MONEY.search(question) or _ASKS_FEE.search(question)):
        return _SUM if _ASKS_SUM.search(question) else _MONEY
    if asked is not None:
        unit = asked.group(1)
        family = _measure_family(unit)
    else:
        figure = _FIGURE.search(question)
        if figure is not None and figure.group() in _FIGURE_UNITS:
            family = _FIGURE_UNITS[figure.group()]
        elif _ASKS_RATE.search(question) and not _NOT_A_SHARE.search(question):
            return _SHARE
        else:
            return None
    units = "|".join(re.escape(u) for u in sorted(family, key=len, reverse=True))
    return re.compile(rf"{_NUMBER}(?:{units})|百分之" if "%" in family else rf"{_NUMBER}(?:{units})")


# A sum given (给多少, 能领多少) and a price paid after a discount.
_ASKS_GIVEN = re.compile(r"(?:给|发|补|补贴|补助|奖励?|领|能拿)(?:多少|几)")
# (5折优惠, 优惠价, 售价; not 优惠 alone: 享受优惠政策 stands beside subsidies too).
_PRICE = re.compile(r"\d+(?:\.\d+)?折|[一二三四五六七八九]折|优惠价|原价|售价|资费|月租|加购价|套餐价")
# What an amount is asked per (一只羊保费多少, 住一晚上多少钱, 一亩给多少, 多少钱一平): a figure per 亩 is no
# price per 只, and a year's income none per night. Only units a sentence cannot leave unsaid: a year
# goes without saying in 按第一档200元标准代缴. A month asked (一个月给多少) is said (每月, 元/月): a yearly
# 救助限额5万元 is no monthly sum; 一月 is January.
_PER = re.compile(r"[一每](?:个)?(亩|只|头|晚|夜|棵|株|斤|公斤|吨|平方米|平米|平(?![方米均安时常]))")
_PER_FAMILIES = (("晚", "夜"), ("棵", "株"), ("斤", "公斤", "千克"), ("平方米", "平米", "㎡"))
_PER_MONTH = re.compile(r"(?:一个|每个?)月(?!份)")


@lru_cache(maxsize=1024)
def _per_unit(question: str) -> tuple[str, ...]:
    """The unit the question asks its amount per, with the words documents say it with, or ()."""
    asked = _PER.search(question)
    if asked is None:
        return ("月",) if _PER_MONTH.search(question) else ()
    unit = "平米" if asked.group(1) == "平" else asked.group(1)
    return next((f for f in _PER_FAMILIES if unit in f), (unit,))


# A count asked with the thing counted (多少个校际交换项目, 几个方向): the thing said right after the
# measure word in the question, and right after a number and the same measure word in a sentence.
_COUNTED = re.compile(r"(?:多少|几)\s*([个项家所门类种批支座条篇部本])([A-Za-z0-9]*[\u4e00-\u9fff]{2,10})?")
# ... or right before it (新能源小客车指标有多少个).
_COUNTED_BEFORE = re.compile(r"([\u4e00-\u9fff]{2,})(?:共有|共|有|是)\s*$")
_ALTOGETHER = re.compile(r"(?:一共|总共|共计|合计|总计)$")
_CHINESE_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
_AFTER_THE_THING = ("u", "c", "p", "d", "r", "z", "y", "x", "m", "q")
_MEASURE_RUN = (
    r"(?:\d[\d,.]*|[一二两三四五六七八九十百千万]+)\s*(?:余|多)?\s*({measure})(?:[（(][^）)]{{0,4}}[）)])?"
    r"([\u4e00-\u9fff]{{0,10}})"
)
# Measure words that count something else than a 个 or a 项 does: people (1000名本科学生), buildings and
# rooms (22栋公寓, 5453间宿舍), vehicles, animals.
_OTHER_MEASURES = "名|位|人|栋|间|套|张|册|件|台|辆|头|只"
# Where the thing after such a count ends (jieba tags 本科 as a pronoun: not an end).
_AFTER_A_COUNTED_THING = ("v", "p", "u", "c", "d", "x", "m", "q", "y", "z")
# The thing a count follows in its clause (入选学科13个, 学科共92个); 有 leaves it open whose count it is
# (人大有68个 is the university's).
_COUNTED_RIGHT_BEFORE = re.compile(r"([\u4e00-\u9fff]{2,}?)(?:共计|合计|总计|共|达|约)?\s*$")


@lru_cache(maxsize=1024)
def _counted(question: str) -> tuple[str, str, str] | None:
    """(measure word, the counted thing's head word, the words before it) of a question asking how many
    of something (多少个校际交换项目: 个, 项目, 校际交换; 指标有多少个: 个, 指标, nothing), or None."""
    # A quoted name inside the thing (多少个入选“双一流”建设学科) is part of it, as is a code (多少个5G基站).
    question = re.sub(r"[“”「」『』\"]", "", question)
    asked = _COUNTED.search(question)
    if asked is None:
        return None
    measure, thing = asked.groups()
    if thing is None:
        before = _COUNTED_BEFORE.search(question[: asked.start()])
        thing = _ALTOGETHER.sub("", before.group(1)) if before is not None else ""
        if len(thing) < 2:
            return None  # 一共有多少本 names nothing counted
        last = [(t.word, t.flag) for t in pos_tagger().cut(thing, HMM=False)][-1]
        return (measure, last[0], "") if _a_thing(last) else None
    # The thing ends where a function word starts the rest of the clause (几个方向可以选, 几个学院开设了);
    # its head is the last noun before (几个考到A2的 counts people, by what they did: no noun, none).
    words: list[tuple[str, str]] = []
    for t in pos_tagger().cut(thing, HMM=False):
        if t.flag.startswith(_AFTER_THE_THING):
            break
        words.append((t.word, t.flag))
    heads = [at for at, word in enumerate(words) if _a_thing(word)]
    if not heads:
        return None
    return measure, words[heads[-1]][0], "".join(word for word, _ in words[: heads[-1]])


def _a_thing(tagged: tuple[str, str]) -> bool:
    word, flag = tagged
    return len(word) >= 2 and flag.startswith(("n", "j"))


def _without_other_counts(question: str, text: str) -> str:
    """`text` without the counts of other things than the question counts: 约40个寒暑期项目 counts no 校际
    交换项目, 2个本科专业 no 方向, 1000名本科学生 and 22栋公寓 none either, nor does 入选学科13个. A count
    whose thing is said neither after nor right before it (共3个，分别是…; 人大有68个) is kept."""
    counted = _counted(question)
    if counted is None:
        return text
    measure, head, modifier = counted
    wanted = set(modifier) - _COMMON_CHARS

    def other(match: re.Match[str]) -> str:
        said = match.group(2)
        if not said:
            if match.group(1) != measure:
                return match.group()
            # Its run of characters ends at the count, so it never reaches into another clause.
            before = _COUNTED_RIGHT_BEFORE.search(text[: match.start()])
            if before is None:
                return match.group()
            last = [(t.word, t.flag) for t in pos_tagger().cut(before.group(1), HMM=False)][-1]
            thing = _a_thing(last) and not last[1].startswith((*_NAME_FLAGS, "nr"))
            return " " if thing and head not in last[0] and last[0] not in head else match.group()
        if match.group(1) != measure:
            # Only the noun it counts: 1000名本科学生 参加交流项目 counts students.
            counted_thing = ""
            for t in pos_tagger().cut(said, HMM=False):
                if t.flag != "vn" and t.flag.startswith(_AFTER_A_COUNTED_THING):
                    break
                counted_thing += t.word
            return match.group() if not counted_thing or head in counted_thing else " "
        at = said.find(head)
        if at < 0:
            return " "  # a count of another thing
        lead = set(said[:at]) - _COMMON_CHARS
        return match.group() if not wanted or not lead or wanted & lead else " "

    kin = "|".join(re.escape(m) for m in _measure_family(measure))
    measures = kin if measure in _OTHER_MEASURES else f"{kin}|{_OTHER_MEASURES}"
    return re.sub(_MEASURE_RUN.format(measure=measures), other, text)


def _measure_family(measure: str) -> tuple[str, ...]:
    """The measure word and those a document counts the same things with (个: 所, 家, 项)."""
    kin = [unit for family in _UNIT_FAMILIES if measure in family for unit in family]
    return tuple(dict.fromkeys([measure, *kin]))


@lru_cache(maxsize=1024)
def _count_expression(question: str) -> re.Pattern[str] | None:
    """A count of what the question counts (多少个国家: 61个, 61个国家, 国家61个), or None when it asks no
    count of a thing: a bare number (1), an age (86岁) or a rank (第26名) is no count of countries."""
    counted = _counted(question)
    if counted is None:
        return None
    measure, head, _ = counted
    units = "|".join(re.escape(u) for u in sorted(_measure_family(measure), key=len, reverse=True))
    return re.compile(rf"(?<!第){_NUMBER}(?:{units}|{re.escape(head)})")


# A short phrase in quotation marks holding a number is a name or a slogan (斩获“八项第一”, “十四五”), no
# count, unless it counts what the question asks about (几个坚持: 做好“三个坚持”).
_QUOTED_NAME = re.compile(r"[“「『][^”」』]{0,10}[\d一二三四五六七八九十两百千万][^”」』]{0,10}[”」』]")


_COUNTING_CHARS = frozenset("一二三四五六七八九十两百千万几多少个项")


_CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")


def bigrams(text: str) -> set[str]:
    """Every two adjacent Chinese characters of `text`."""
    return {run[i : i + 2] for run in _CHINESE_RUN.findall(text) for i in range(len(run) - 1)}


def _shares_a_word(phrase: str, question: str) -> bool:
    """The quoted phrase holds a two-character word of the question other than a number or a measure."""
    return any(not set(p) & _COUNTING_CHARS and p in question for p in bigrams(phrase))


def _holds_kind(
    kind: AskedKind, text: str, own: tuple[str, ...], question: str, focus: str | None = None
) -> bool:
    if kind == "which":
        # Read whole: a 学院 right after the question's own university (中国人民大学社会与人口学院) is
        # part of it, and the question's own words are no answer there either.
        return _names_one_of_its_kind(question, text)
    for word in sorted(own, key=len, reverse=True):
        text = text.replace(word, " ")
    if kind in ("person", "place"):
        text = _TITLE.sub(" ", text)  # 《警察荣誉》 is a work, nobody and nowhere
    if kind == "time":
        return bool(_TIME.search(_STAMP.sub(" ", text)))
    if kind == "duration":
        return bool(_DURATION.search(text))
    if kind == "amount":
        # Not an amount: a date (10月25日), a number inside a title or a code (《壮志凌云2》, C919), a
        # phone or record number (12580, 0571-86201234).
        text = _ENUMERATOR.sub(" ", _CODE.sub(" ", _TITLE.sub(" ", _TIME.sub(" ", text))))
        text = _QUOTED_NAME.sub(lambda m: m.group() if _shares_a_word(m.group(), question) else " ", text)
        text = _without_other_counts(question, text)
        if _ASKS_TOTAL.search(question):
            # 快递费补贴每单1元 is no total of sales, nor 自付费用超过5000元 or 最高赔付10万元.
            text = _LIMIT.sub(" ", _RATE_CLAUSE.sub(" ", text))
        per = _per_unit(question)
        if per and not any(u in text for u in per):
            return False  # 每亩40元 is no price for 一只羊, 旅游收入1380万元 none for 住一晚
        if _ASKS_GIVEN.search(question) and _PRICE.search(text):
            return False  # 五保户一个月给多少钱: what they pay for broadband (5折优惠，每月20元) is not given
        unit = _unit_expression(question) or _count_expression(question)
        if unit is not None:  # a number in the asked unit (11500平方米) is no record number
            return bool(unit.search(text))
        text = _IDENTIFIER.sub(" ", _BARE_YEAR.sub(" ", text))
        return any(
            _DIGITS.search(m.group()) or m.group() == "百分之" or len(m.group()) > 1
            for m in _AMOUNT.finditer(text)
        )
    if kind == "name":
        return bool(_NAMED.search(text))
    if kind == "phone":
        return bool(_PHONE.search(text))
    if kind == "list":
        if _ASKS_PLACES.search(question):
            # Places named together (…特殊困难县、国家级扶贫开发重点县), not any list (奖、助、贷学金).
            return any(text.startswith(_AND, end) for _, end in _places_at(text))
        return bool(_LISTED.search(text))
    if kind == "theme":
        # Of the whole, not of a part of it (分会场二主题为… is no 年会's theme).
        return any(not _A_PART.search(text[: m.start()]) for m in _THEME.finditer(text))
    if kind == "post":
        return any(post.group() not in question for post in _POST.finditer(text))
    if kind == "place":
        # A place the question itself names is no answer, even where the collection's own name is no
        # constraint (中国人民大学苏州校区位于哪里 is not answered by 位于中国人民大学); 中国金鸡百花电影节
        # names the festival, not where it is held: a place directly before one of the question's topic
        # words is part of its name.
        read = read_question(question)
        for name in sorted(read.names, key=len, reverse=True):
            text = text.replace(name, " ")
        topics = read.topics
        return any(
            name not in question
            and not _OF_A_PLACE.match(text, end)
            and not any(text.startswith(topic, end) for topic in topics)
            and (_AT.search(text[max(0, end - len(name) - 3) : end]) or _HELD.match(text, end))
            for name, end in _places_at(text)
        )
    if focus is not None and HUMAN_ROLE.search(focus):
        return bool(_PERSON_HINT.search(text) or [n for n in person_names(text) if n not in question])
    if _WHICH_PERSON.search(question) or _WHO_IS_THE.search(question):
        # jieba's word discovery calls 文明 and 博士生 people: a name here is a common surname's.
        bare = _ASIDE.sub("", text)  # 柯马丁(Martin Kern)教授
        named = [n for n in person_names(bare) if n not in question and n[0] in SURNAMES]
        return bool(_PERSON_HINT.search(bare) or named)
    if _ASKS_RECEIVER.search(question):
        # Who is given it, not whom a benefit is named after (实际种粮农民一次性补贴…发放完毕).
        text = _BENEFIT_NAME.sub(" ", " ".join(c for c in _CLAUSE.split(text) if _GIVING.search(c)))
    # An answer naming someone: jieba's person tags are unreliable on their own (吴京 comes back as a
    # place), so people, places and organisations all count, beyond those the question names.
    return bool(
        _PERSON_HINT.search(text)
        or _ORGANISATION.search(text)
        or (
            _ASKS_PARTY.search(question)
            and (_OFFICE if _ASKS_CONTACT.search(question) else _PARTY).search(text)
        )
        or [
            name
            for name, end in _names_at(text, _WHO_FLAGS)
            if name not in question and not text.startswith(BENEFIT_HEADS, end)
        ]
    )


# A theme said (主题为, 以“…”为主题, 题为), and the parts of an event a theme may be of instead.
_THEME = re.compile(r"主题|题为|为题")
_A_PART = re.compile(r"(?:分会场|分论坛|子论坛|平行论坛|板块|单元)[一二三四五六七八九十\d]*的?$")


# A department teaches the major of its name (哲学系), unlike 关系, 体系 or a 系统.
_DEPARTMENT = re.compile(r"(?<![关联体派谱直世])系(?![统列数])")
# The words one of a kind is named with (中国人民大学 is a 学校, 利雅得胜利队 a 球队, 人民大道 a 路).
_SAID_OF_A_KIND = {
    "系": (_DEPARTMENT.pattern,),
    "学校": ("学校", "大学", "学院", "院校", "中学", "小学"),
    "大学": ("大学", "学院", "学校"),
    "球队": ("球队", "队"),
    "公司": ("公司", "集团", "企业"),
    "路": ("路", "街", "大道"),
    "街": ("街", "路", "大道"),
}
# Characters before a kind's word that name none of it (各村, 本专业, 该银行, 哪个学校, 我们学校).
_NOT_ONE = frozenset("各本该每哪这那其此某个等们")


@lru_cache(maxsize=1024)
def _one_of_the_kind(question: str) -> re.Pattern[str] | None:
    """Two characters and a word of the kind the question asks which of (学专业 for 哪个专业), or None."""
    asked = _ASKS["which"].search(question)
    if asked is None:
        return None
    kind = asked.group()[2:]
    return re.compile(rf"[\u4e00-\u9fffA-Za-z0-9]{{2}}(?:{'|'.join(_SAID_OF_A_KIND.get(kind, (kind,)))})")


def _names_one_of_its_kind(question: str, text: str) -> bool:
    """`text` names one of the kind the question asks which of (哲学专业 for 哪个专业, 人民路 for 哪条路),
    beyond the question's own words."""
    named = _one_of_the_kind(question)
    return named is not None and any(
        found.group()[1] not in _NOT_ONE
        and found.group() not in question
        and not _inside_a_university(found.group(), text[max(0, found.start() - 6) : found.start()])
        for found in named.finditer(text)
    )


def _inside_a_university(found: str, before: str) -> bool:
    """A 学院 named right after a university (中国人民大学社会与人口学院) is a part of it, no school of its
    own: not the university someone went to."""
    return not found.endswith("大学") and "大学" in before


def _meets(constraint: str, sentence: str, context: str) -> bool:
    """Compared as the question was read: half-width, simplified, case folded."""
    wanted = constraint.lower()
    return wanted in normalize_query(sentence).lower() or wanted in normalize_query(context).lower()


Document = Callable[[], str]
"""The whole text of a sentence's document, read only when a benefit is not named around the sentence."""
# A document is read for many of its sentences: normalised once.
_normalized_document = lru_cache(maxsize=32)(normalize_query)


# Whether one pays (要交钱吗, 要俺自己掏钱不): answered only by a sentence saying what is paid, or that
# nothing is (不收取任何费用, 由财政全额承担), not by a sum paid to the villager (补偿…每平方米100元).
_ASKS_PAYING = re.compile(r"(?:交|花|掏|付|缴|出)钱|收费|缴费|交费|付费")
_PAYMENT = re.compile(r"费|(?:交|花|掏|付|缴|出|收|要)钱|收取|缴纳|交纳|支付|承担|出资|免")
# How much is reimbursed (住院能报多少, 报百分之多少): answered by what is reimbursed or paid, its share or
# its threshold, not by any sum (the 积分超市's 1分相当于1元).
_ASKS_REIMBURSED = re.compile(r"报(?:销)?(?:多少|几成|百分之|多钱)")
_REIMBURSED = re.compile(r"报销|支付|比例|起付|限额|封顶|补偿|报(?=\d|[一二三四五六七八九]成)")
# 那种早稻还另外有钱吗: money besides the benefit already named, which is then no answer itself.
_BESIDES = re.compile(r"另外|额外|另有|别的")
# How to do something is not said by what must not be done, nor by what befalls those who do it, nor
# by the bare verdict of a question-and-answer sheet (是诈骗。, 能用。), which answers its own yes or no,
# nor by a line naming the service with no step in it (a menu's 养老金领取资格认证（跳转…页面）).
_ASKS_HOW = re.compile(r"(?:怎么|怎样|咋|如何)(?!样)[\u4e00-\u9fff]")  # 咋弄, not 效果咋样 or 效果如何
_FORBIDS = re.compile(r"不得|禁止|严禁|违法|不准|依法处理|依法追究|处罚|罚款")
_VERDICT = re.compile(r"(?:不是|是|不能|能|可以|不可以|不行|不用|不会|会)[\u4e00-\u9fff]{0,3}[。！!]?")
# What a step says: who or where to go to, what to use, open, bring or fill in, what one may or must do.
_STEP = re.compile(
    r"可|请|需|须|应|到|去|找|用|打开|点|拨|打|登录|带|提交|通过|由|办|申请|搜|扫|输入|选|激活|填|报|交|在|让|凭|持"
)


def _tells_no_way(question: str, sentence: str) -> bool:
    """医保卡咋弄出来 is not answered by 不得将医保卡出租、出借, nor by 是诈骗。, nor 养老金认证咋弄 by
    the platform menu's 养老金领取资格认证（跳转人社部门认证页面）; 补贴怎么发 is still answered by
    补贴资金通过社会保障卡直接发放到户，不得以现金发放, which says how before what is forbidden."""
    if _VERDICT.fullmatch(sentence.strip()) or not _STEP.search(sentence):
        return True
    if _FORBIDS.search(question):
        return False
    # Every clause forbids or punishes, but for the conditions it is said of (骗取医保基金的，…依法处理).
    clauses = [c for c in _CLAUSE.split(sentence) if c.strip() and not c.strip().endswith("的")]
    return bool(clauses) and all(_FORBIDS.search(c) for c in clauses)


# Whether a sum of a named kind is paid at all (有没有丧葬费, 有慰问金吗, 有抚恤金没有).
_WHETHER_A_SUM = re.compile(
    r"有没有([\u4e00-\u9fff]{1,6}?[费金款])|有([\u4e00-\u9fff]{1,6}?[费金款])(?:吗|么|没有?|不)"
)


def answers(
    asked: Asked,
    question: str,
    sentence: str,
    context: str = "",
    passage: str = "",
    document: Document | None = None,
) -> bool:
    """`sentence` states what `asked` asks for, under its constraints: a year in the sentence, its
    immediate `context` (the passage's title and section and the sentence before) or its page's date
    line; a month or a name anywhere in its `passage` too (a page about 中国人民大学 does not repeat the
    name in every sentence)."""
    if sentence.rstrip(" .。…").endswith(("？", "?", "：", ":", "吗")):
        # A question (an FAQ's, a headline's, 有机会推荐免试攻读研究生吗 without its mark) answers nothing;
        # a lead-in (…如下：) not yet.
        return False
    dateline = _DATELINE.match(sentence)
    if dateline:
        context = f"{context} {dateline.group()}"
        sentence = sentence[dateline.end() :]
    around = f"{context} {passage}"
    # A sentence about another year is about another year, whatever its page says; one without a year
    # is dated by what stands beside it or by its page's date line (日期：2023-12-16), not by any year its
    # passage mentions somewhere (2026年起 … does not date the 2025 figures). A title or a sentence before
    # naming another year dates it before the page does: 2016年招生简章, posted in 2015, holds 2016's plan.
    page_dates = "" if _DATED.search(context) else " ".join(m.group() for m in _PAGE_DATE.finditer(passage))
    dated_by = f"{context} {page_dates}"
    for year in asked.years:
        as_year = re.search(rf"(?<!\d){year}(?!\d|\s*级)", sentence)  # 2019级 is a class, not the year
        if not as_year and (_DATED.search(sentence) or not _meets(year, sentence, dated_by)):
            return False
        if not as_year and not _meets(year, sentence, context) and _SUCCESSION.search(sentence):
            return False  # 校长一职由黄达同志接任, told on a 2014 page, happened long before 2014
    # A month goes with its year: a sentence saying the asked year says the month there too (1991年开始
    # 享受政府特殊津贴 is not what happened in 1991年6月, whatever month its passage names).
    dated_here = any(re.search(rf"(?<!\d){year}年", sentence) for year in asked.years)
    for month in asked.months:
        if not re.search(rf"(?<!\d){month}月", sentence if dated_here else f"{sentence} {around}"):
            return False
    # A page's own name is not repeated in each of its sentences, but a name the question quotes is
    # what it asks about: 学院亦曾聘请…傅高义 on a page that names the 古代文本文化国际研究中心 elsewhere
    # does not say who leads that centre.
    if any(not _meets(name, sentence, context if name in asked.quoted else around) for name in asked.names):
        return False
    stated = _STATEMENT_ASKED.search(question)
    if stated and not _states(stated.group(1), sentence, context):
        return False  # 办学愿景是什么 is not answered by the 办学理念 beside it
    if _OWN_VIEW.match(sentence) and not _ASKS_VIEW.search(question):
        return False  # 我认为，国学院对提升民族文化素养大有意义 lists no 诗体 his course teaches
    role = _WHO_IS_THE.search(question)
    if role and role.group(1) not in sentence:
        return False  # 谁是…的开拓者 is answered where the 开拓者 is named, not by who visited
    if asked.people and _about_another_person(asked.people, sentence):
        return False
    if any(not _meets(person, sentence, context) for person in asked.people):
        return False
    holder = _view_holder(question)
    if holder and not _meets(holder, sentence, context):
        return False
    if any(_CODE.fullmatch(name) and _other_code(name, sentence) for name in asked.names):
        return False
    if any(_only_in_another_place(name, sentence) for name in asked.names):
        return False
    if asked.kinds and _another_organisation(question, sentence):
        return False
    if "person" in asked.kinds and _held_elsewhere(question, sentence, around):
        return False
    if _for_other_groups(question, sentence):
        return False
    if "amount" in asked.kinds and _another_standard(question, sentence):
        return False
    if asked.kinds and _another_alliance(question, sentence, context):
        return False
    if _another_programme(question, sentence) or _programme_unnamed(question, sentence, around):
        return False
    if "list" in asked.kinds and _lists_another_kind(question, sentence, context):
        return False
    if "amount" in asked.kinds and (
        _counts_a_part(question, sentence) or _counts_another_act(question, sentence)
    ):
        return False
    if (
        "amount" in asked.kinds
        and _ASKS_SUM.search(question)
        and (_only_included(asked.topics, question, sentence) or _another_row(asked, question, sentence))
    ):
        return False
    if "time" in asked.kinds and _FOUNDING.search(question) and _founding_of_its_field(question, sentence):
        return False
    if "time" in asked.kinds and _FIRST_TIME.search(question) and not _SAID_FIRST.search(sentence):
        return False  # 何时首次举办…开放日 is not answered by when 信息学院开放日 is held this year
    if not asked.kinds and _ASKS_IF_FIRST.search(question) and not _says_first(question, sentence):
        return False  # 是全国最早开设…的学院吗 is not answered by what the school teaches
    if asked.benefits:
        said = normalize_query(f"{sentence} {around}")
        missing = [benefit for benefit in asked.benefits if not benefit.said_in(said)]
        if missing:
            whole = _normalized_document(document()) if document is not None else ""
            title = normalize_query(context)
            if not all(benefit.covered_by(whole, sentence, title) for benefit in missing):
                return False
    if any(_only_denied(term, sentence) for term in asked.topics):
        return False
    if asked.about and not _about_it(asked, question, sentence, context):
        return False
    if _ASKS_REIMBURSED.search(question) and not _REIMBURSED.search(sentence):
        return False
    if not asked.kinds and _ASKS_PAYING.search(question) and not _PAYMENT.search(sentence):
        return False  # 批宅基地要交钱吗 is not answered by 一户只能拥有一处宅基地
    if not asked.kinds and _ASKS_HOW.search(question) and _tells_no_way(question, sentence):
        return False
    # An age is a constraint like a year: the sentence's own age groups must take it in, or, where it
    # names none, the groups beside it (the table row's heading, the sentence before).
    if asked.age is not None:
        fits = fits_age(asked.age, sentence)
        if fits is False or (fits is None and not fits_age(asked.age, context)):
            return False
    for edition in asked.editions:
        if edition not in sentence and (
            _other_edition(edition, sentence)
            or not (_meets(edition, sentence, context) or edition in _editions(f"{sentence} {context}"))
        ):
            return False
    if asked.subject and not any(word in sentence for word in (asked.subject, *_variants(asked.subject))):
        return False
    if asked.defined and not _defines(asked.defined, sentence):
        return False
    own = asked.own_words()
    focus = dict(asked.focus)
    return all(_stated(kind, focus.get(kind), sentence, own, question) for kind in asked.kinds)


_DENIAL = re.compile(r"(?:无|不含|不包含|不包括|没有|不提供|不支持)$")


# Verbs that ask or hedge (是否, 需要, 能不能): no act a question is about.
_NOT_AN_ACT = re.compile(
    r"是否|可以|可否|能否|需要|需不需要|能够|应该|应当|怎么|怎样|如何|还能|能不能|可不可以|要不要|有没有|没有|还有"
    r"|是不是|不是|就是|算不算|行不行|管不管|不用|不要|知道|告诉|请问|咨询"
)


def _about(question: str, topics: Sequence[str], benefits: Sequence[Benefit]) -> tuple[str, ...]:
    """The topic words that say what a question asking no kind of fact is about: not a kind of benefit
    (有补贴没有), nor the normaliser's added words for one (基础养老金 for 养老金), nor which benefit it is
    (both checked as the benefit's own name), nor for whom or where (老人, 农村: 高龄补贴90岁以上的呢 is
    answered by a table row of 90至99周岁); where only a benefit is named, its acts (认证 of 养老金要认证，
    咋弄)."""
    kinds = {benefit.kind for benefit in benefits}
    skipped = {benefit.which for benefit in benefits} | NOT_WHICH
    kept = [t for t in topics if t not in skipped and not any(kind in t for kind in kinds)]
    # 手机上的医保卡: a word saying where a thing is kept is no subject beside it, and where the synonym
    # table knows the whole phrase (医保电子凭证), the phrase is the subject, not the thing alone (the
    # 社会保障卡 one lends or loses).
    for place in list(kept):
        phrase = re.search(re.escape(place) + r"[上里中]的(\w+)", question)
        thing = next((t for t in kept if phrase and phrase.group(1).startswith(t)), None)
        if phrase is None or thing is None:
            continue
        kept.remove(place)
        whole = phrase.group()[: len(phrase.group()) - len(phrase.group(1)) + len(thing)]
        if len(synonym_names(whole)) > 1:
            kept[kept.index(thing)] = whole
    if not kept and benefits:
        # 养老金每年要认证，咋弄: the benefit says only whose; the act (认证) is what it is about, and a
        # platform's 补贴查询 under the same benefit's page says nothing of it.
        acts = pos_tagger().cut(question, HMM=False)
        kept = [t.word for t in acts if t.flag.startswith("v") and len(t.word) >= 2]
        kept = [word for word in kept if not _NOT_AN_ACT.fullmatch(word)]
    return tuple(dict.fromkeys(kept))


def _about_it(asked: Asked, question: str, sentence: str, context: str) -> bool:
    """A question asking no kind of fact is answered by a sentence about its subject: one naming, in
    itself or beside it, at least one of its topic words (`Asked.about`), or the documents' word for
    it, or the very benefit asked (打工回村开个农家乐，有创业补贴吗 by 返乡农民工…给予一次性创业补贴)
    unless more than it is asked (种粮补贴种早稻还另外有钱吗 is not answered by the 耕地地力保护补贴 row).
    二轮承包到期了，地还是我的吗 is not answered by how subsidy areas rest on 第二轮土地承包面积, nor
    脱贫户养牛有补助吗 by a training allowance."""
    around = f"{sentence} {context}"
    asking = _CLAUSE.split(question.rstrip("？?。！! "))[-1]
    acts = [word for word in asked.about if word in asking and word in _acts(question)]
    if (
        not asked.benefits
        and 0 < len(acts) < len(asked.about)
        and not any(
            said_apart(act, around) or any(word in around for word in (act, *_variants(act))) for act in acts
        )
    ):
        # 手表，摔倒了会自己打电话吗 asks what the watch does in a fall: a sentence on the watch's SOS key
        # names the thing, not the act asked about (the acts of the asking clause; 我打工回村开个农家乐 only
        # tells who asks). Whether a benefit is paid (给不给奖励钱) is the benefit check's to answer.
        return False
    if any(said_apart(word, around) for word in asked.about):
        return True
    whether = _WHETHER_A_SUM.search(question)
    sum_named = whether and (whether.group(1) or whether.group(2))
    if sum_named and sum_named in asked.about:
        # 有没有丧葬费 asks whether that very sum is paid: a sentence naming only the occasion (老人去世的,
        # 家属应当告知村委会) says nothing of it.
        return any(word in around for word in _variants(sum_named))
    if names_any(asked.about, [around]):
        return True
    if _BESIDES.search(question):
        return False
    said = normalize_query(sentence)  # the benefit in the sentence itself, not the section around
    return any(benefit.which and benefit.said_in(said) for benefit in asked.benefits)


def _only_denied(term: str, sentence: str) -> bool:
    """Every mention of `term` in the sentence denies it (…不含宽带 says nothing of a 宽带 price); in a
    table row only its values count, since its headings (宽带速率) name the term in every row."""
    sentence = row_parts(sentence)[0]
    places = [m.start() for m in re.finditer(re.escape(term), sentence)]
    return bool(places) and all(_DENIAL.search(sentence[max(0, at - 3) : at]) for at in places)


# Characters too common to tie two words together (举行 and 进行 share only 行).
_COMMON_CHARS = frozenset("行发开时人年大中出上下会有为是的不一生工作事成家业地理用动分主公日月部")
_FOCUS_WINDOW = 30
"""Characters either side of the asked thing's word within which its person, place or time is said."""
_AGENT_REACH = 8
"""Characters either side of the verb an asked person did (谁制作的) within which they are named."""
_FIGURE_LEAD = 4
_NUMBER_CHARS = frozenset("0123456789.,")
_CLAUSE = re.compile(r"[，。；;,！？!?]")
# 41.2万吨的粮食产量: a number and its unit, then 的 and the figure's own words (not
# 31个省（区、市）的棉花产量).
_QUALIFYING = re.compile(r"\d[\d.,]*[^\d，。；]{0,3}的[\u4e00-\u9fff]{0,4}$")


def _figure_lead(before: str) -> str:
    """What may stand before a named figure's word and still be its number: a figure follows its word
    (营收达150亿元, 参保人数（人）：41230) or qualifies it in the same clause (41.2万吨的粮食产量); a number
    further before belongs to another figure (研发投入超过150亿元，占比营收15.6%; 259.77万人通过了资格审查，
    通过资格审查人数…)."""
    clause = _CLAUSE.split(before)[-1]
    qualified = _QUALIFYING.search(clause)
    return clause[qualified.start() :] if qualified else clause[-_FIGURE_LEAD:]


# An organisation named by its kind, right before the role it has (经济学院院长, 东北亚学院院长): the two
# characters before the kind word tell one from another however much of the name is said before them
# (我校经济学院, 中国人民大学经济学院).
# One character is a name too where nothing stands before it (文学院院长陈剑澜、哲学院院长臧峰宇), and the
# 学 of 大学 never starts one (中国人民大学法学院 is 法学院's).
_OWNER_CHARS = (
    r"((?:(?![的是在了和与及或等那这个被由年月日号届我咱俺你各每本该此、，。；：])"
    r"(?!(?<=大)学)[\u4e00-\u9fff]){1,2})"
)
_OWNER_KINDS = r"(学院|大学|研究院|研究所|中学|小学|医院|公司|集团|银行|合作社|协会|校区|图书馆|镇|乡|县)"
_OWNER = re.compile(_OWNER_CHARS + _OWNER_KINDS + r"的?$")
# An organisation named by its kind alone, after a clause's start or a university's name (，图书馆党委书记,
# 中国人民大学图书馆馆长): one of the asked kind is the page's own (学院院长 on the school's page).
_BARE_OWNER = re.compile(r"(?:(?<=大学)|(?<![\u4e00-\u9fff]))" + _OWNER_KINDS + r"的?$")
# Schools and institutes, whose names a page keeps: a villager's 县医院 is the documents' 县人民医院, a
# 农商银行 their 农村商业银行, and 大学 is also part of common nouns (大学英语, 好多大学).
_ORGANISATIONS = re.compile(_OWNER_CHARS + r"(学院|研究院|研究所)")


def _another_organisation(question: str, sentence: str) -> bool:
    """The sentence is about another organisation of the kind the question names (高瓴人工智能学院于2019年
    成立 for 数学学院于何年成立; 中法学院 for 法学院): it names one or more of that kind, none the question
    names (of 青溪职业技术学院数学学院, 数学学院 is enough). One naming none (学院成立于…, on the school's own
    page) may still be about it."""
    asked = {(m.group(2), m.group(1)) for m in _ORGANISATIONS.finditer(question)}
    said = {(m.group(2), m.group(1)) for m in _ORGANISATIONS.finditer(sentence)}
    # A question's owner may carry a character of what stands before it (人大文学院 reads 大文), a
    # sentence's never one more than the question's (中法学院 is not 法学院).
    kinds = {kind for kind, _ in said} & {kind for kind, _ in asked}
    return any(
        not any(
            asked_owner.endswith(owner)
            for asked_kind, asked_owner in asked
            for said_kind, owner in said
            if asked_kind == said_kind == kind
        )
        for kind in kinds
    )


# When a school was founded (成立, 创办), and what of its subject is older than it (数学学科, 数学专业).
_FOUNDING = re.compile(r"成立|创办|创建|组建|建立|设立")
_FIELD = ("学科", "专业", "学系", "教育", "研究", "科学")


def _founding_of_its_field(question: str, sentence: str) -> bool:
    """The sentence dates the school's subject, not the school: 数学学科最早可追溯到1950年 does not say
    when 数学学院 was founded. It names the subject the school is named after, and no school of it."""
    for match in _ORGANISATIONS.finditer(question):
        owner, kind = match.group(1), match.group(2)
        if owner + kind not in sentence and any(owner + field in sentence for field in _FIELD):
            return True
    return False


# An alliance or society, told from another by the two characters before its kind word (大学联盟,
# 高校联盟).
_ALLIANCE = re.compile(r"([\u4e00-\u9fff]{2})(联盟|协会|学会|研究会)")


def _another_alliance(question: str, sentence: str, context: str) -> bool:
    """A sentence that names no alliance of the kind the question names is about the one its title or
    the sentence before names: 目前有24家成员单位 on a page headed 世界人文社会科学高校联盟年会 says nothing
    of 中国自主的知识体系大学联盟's members. A sentence naming one is left to the other checks (目前联盟高校
    成员单位达60家 names it by its kind word only)."""
    asked = {(m.group(2), m.group(1)) for m in _ALLIANCE.finditer(question)}
    kinds = {kind for kind, _ in asked}
    if not kinds or any(kind in sentence for kind in kinds):
        return False
    said = {(m.group(2), m.group(1)) for m in _ALLIANCE.finditer(context) if m.group(2) in kinds}
    return bool(said) and not said & asked


# Things of a kind told apart by the two characters before the kind word: an admission programme by
# who runs it (国家专项计划, 高校专项计划), a fund by whose or what for (科研发展基金, 自然科学基金), a
# category of students or majors by its subject (外语类, 艺术类), a system by what it does (双选认证制度,
# not a 人才培养…实施制度). Words counting or pointing at the kind (两大类, 哪类, 专业大类) tell none apart.
_NAMED_KIND = re.compile(
    r"((?:(?![的是在了和与及或等那这个各此该每分门种人同多少几哪大两一二三四五六七八九十之])[\u4e00-\u9fff]){2})"
    r"(专项计划|基金|类|制度)"
)


def _another_programme(question: str, sentence: str) -> bool:
    """The sentence is about another programme, fund or category than the question names: “圆梦计划”（即
    高校专项计划）定向招收… says nothing of whom the 国家专项计划 takes, 国家自然科学基金获得103项 nothing of
    the 世界大学联盟's 科研发展基金, 艺术类学生学费10000元 nothing of 外语类's. The sentence names one or more
    of the kind and none sharing a character with the question's (社科基金 is 社会科学基金). A programme the
    question names by its quoted name (“圆梦计划”) in the sentence keeps it."""
    asked = _NAMED_KIND.findall(question)
    said = _NAMED_KIND.findall(sentence)
    for kind in {kind for _, kind in asked} & {kind for _, kind in said}:
        if any(which in sentence for which, named in asked if named == kind):
            continue  # named apart from its kind word (双选认证主副修制度)
        wanted = [set(which) for which, named in asked if named == kind]
        if not any(set(which) & chars for which, named in said if named == kind for chars in wanted):
            return not any(name in sentence for name in _QUOTED.findall(question))
    return False


# The thing a list question lists: the head of the words after 哪些 (哪些合作大学, 哪些证件材料) or, where
# the question ends with 有哪些 / 包括哪些, of the words before it (就业方向有哪些).
_LIST_BEFORE = re.compile(r"(?:主要)?(?:有|是|包括|包含)哪些[？?。！!呢啊呀]*$")
_HEAD_FLAGS = ("n", "vn", "nz", "j")


# The kinds a page names its things by (哲学专业, 岭南大学, 量化投资方向); other things are named by what
# they are (导言—诗律、诗韵 for 哪些诗体; 身份证、户口本 for 哪些材料).
_LISTED_KINDS = frozenset([*_WHICH_KINDS.split("|"), "项目", "方向", "课程", "语种"])


@lru_cache(maxsize=1024)
def _listed_kind(question: str) -> str:
    """The kind the listed things are of (大学 of 哪些合作大学, 方向 of 就业方向有哪些, 专业 of 哪些语言类
    专业) where it is one a page names its things by, else "" (哪些地区 is left to the place check)."""
    if _ASKS_PLACES.search(question):
        return ""
    before = _LIST_BEFORE.search(question)
    if before is not None:
        words = list(pos_tagger().cut(question[: before.start()], HMM=False))
        last = words[-1] if words else None
        if last is None or not last.flag.startswith(_HEAD_FLAGS):
            return ""
        return last.word[-2:] if last.word[-2:] in _LISTED_KINDS else ""
    at = question.find("哪些")
    if at < 0:
        return ""
    head = ""
    for token in pos_tagger().cut(question[at + 2 :], HMM=False):
        if token.word in ("的", "之"):
            return ""  # 哪些新鲜的…方向, 哪些帮扶的钱: what comes first only describes the listed things
        if not token.flag.startswith((*_HEAD_FLAGS, "q", "b")) or _CLAUSE_END.fullmatch(token.word):
            break
        head = token.word
    return head[-2:] if head[-2:] in _LISTED_KINDS else ""


# An organisation named inside another's name (中国人民大学哲学院) is not one of a listed kind.
_PART_OF_AN_ORGANISATION = re.compile(r"大学(?=[\u4e00-\u9fff]{0,4}(?:学院|研究院|系|研究所|图书馆))")


def _lists_another_kind(question: str, sentence: str, context: str) -> bool:
    """A list question is answered by things of the asked kind named as such in the sentence or beside
    it: 哲学、伦理学…4个本科专业 lists no 合作大学, 人才和领军人物 no 就业方向."""
    kind = _listed_kind(question)
    if not kind:
        return False
    text = _PART_OF_AN_ORGANISATION.sub(" ", f"{sentence} {context}")
    if kind in _NAMED_WITH_THEIR_KIND:
        # Universities are each named with their kind (柏林洪堡大学、慕尼黑大学) or counted (5所大学):
        # one 大学 in a sentence about the school's professors lists none.
        said = _PART_OF_AN_ORGANISATION.sub(" ", sentence)
        return said.count(kind) < 2 and not re.search(rf"{_COUNT_OF}\s*[所家个]{kind}", said)
    if kind not in sentence and any(kind not in c.group(1) for c in _COUNTED_THINGS.finditer(sentence)):
        return True  # 融会贯通哲学、政治学与经济学三个学科 counts 学科, not the asked 专业
    qualifier = _which_direction(question) if kind == "方向" else ""
    if qualifier and qualifier not in text:
        return True  # 信息与计算科学方向 is a direction of study, not one of the asked 就业方向
    if qualifier and any(qualifier not in m.group(1) for m in _DIRECTIONS_LISTED.finditer(sentence)):
        return True  # 秦汉、唐宋、清史、民国史等断代史方向 are no 新兴前沿与交叉方向
    labels = {label.group(1) for label in _LIST_LABEL.finditer(sentence)}
    if labels and kind not in labels:
        return True  # 只招收英语或法语语种的考生 lists 语种, whatever 专业 the sentence names before
    return kind not in text and not (kind == "专业" and _DEPARTMENT.search(text))


@lru_cache(maxsize=1024)
def _which_direction(question: str) -> str:
    """The word a listed 方向 is of (就业 of 就业方向有哪些, 交叉 of 新兴前沿与交叉方向), or "": a 方向 of
    study is no 就业方向."""
    tokens = list(pos_tagger().cut(question, HMM=False))
    at = next((i for i, t in enumerate(tokens) if t.word == "方向"), -1)
    before = tokens[at - 1] if at > 0 else None
    # 专业有哪些方向 names none: the question word is no qualifier.
    return before.word if before and len(before.word) >= 2 and before.flag.startswith(("n", "v")) else ""


# The words a list of 方向 ends with (…、医疗史等新兴前沿与交叉方向): which 方向 they are.
_DIRECTIONS_LISTED = re.compile(r"、([^、，。；：:\s]{1,14}?)方向")


# The kind word right after a list's last item (英语、俄语…西班牙语专业; 英语或法语语种).
_LIST_LABEL = re.compile(
    r"(?:、|和|及|与|或者?)[^、，。；：:和及与或\s]{1,8}?"
    rf"({'|'.join(sorted((k for k in _LISTED_KINDS if len(k) > 1), key=len, reverse=True))})"
)


_NAMED_WITH_THEIR_KIND = frozenset(["大学", "学校", "医院", "银行", "公司"])
_COUNT_OF = r"[\d一二三四五六七八九十两几多]+"
# Things a sentence counts (三个学科, 4个本科专业): the two to four characters after the measure.
_COUNTED_THINGS = re.compile(rf"{_COUNT_OF}\s*[个项门类种所]([\u4e00-\u9fff]{{2,4}})")


# A sentence that opens with someone's name (夏成才，后来是…; 杨周复是…) is about them.
_OPENS_WITH_A_NAME = re.compile(r"\s*([\u4e00-\u9fff]{3})(?=[，,：:（(]|是|曾|现任|后来|出生|生于)")


def _about_another_person(people: tuple[str, ...], sentence: str) -> bool:
    """The sentence is about another person than those the question asks about: it opens with another
    full name and does not name them (夏成才，后来是中南财经大学会计系主任 for 汪建熙是哪个系的毕业生)."""
    opening = _OPENS_WITH_A_NAME.match(sentence)
    if opening is None or any(person in sentence for person in people):
        return False
    return opening.group(1) in full_names(sentence)


# A speaker's own view (我认为…, 在我看来…) states no fact but what a question asking a view asks for.
_OWN_VIEW = re.compile(r"\s*[“\"「]?(?:我们?(?:认为|觉得|看来)|在我们?看来)")
_ASKS_VIEW = re.compile(r"认为|觉得|看来|看法|观点|评价|怎么看|如何看|眼中|意义")

# Whose view is asked (杨庆中认为…): the person right before the verb, surname first (jieba reads 杨庆中
# as 杨庆 and 中).
_VIEW_HOLDER = re.compile(r"([\u4e00-\u9fff]{3})(?:认为|看来|眼中|表示|指出|强调)")


@lru_cache(maxsize=1024)
def _view_holder(question: str) -> str:
    """Who the question asks the view of (杨庆中 of 杨庆中认为国学的意义在于什么), or "": said with the
    view, in the sentence or beside it, not somewhere else on its page."""
    said = _VIEW_HOLDER.search(question)
    if said is None:
        return ""
    three = said.group(1)
    return three if three[0] in SURNAMES else three[1:] if three[1] in SURNAMES else ""


_AMONG = re.compile(r"在([^，。；,;]{2,30}?)(?:之中|当中|中)[，,]")


def _counts_a_part(question: str, sentence: str) -> bool:
    """The sentence's figures count a part of those the question asks about: 在参加四级考试的学生中，308人
    通过了考试 counts who passed, not who took it. The question's act is said only inside the 在…中, of
    the group it picks from (参加…的学生), not as a frame (在人文社会科学专业排名中)."""
    among = _AMONG.search(sentence)
    if among is None or "的" not in among.group(1):
        return False
    group, rest = among.group(1), sentence[among.end() :]
    return any(act in group[: group.rindex("的")] and act not in rest for act in _verbs(question))


@lru_cache(maxsize=1024)
def _verbs(question: str) -> frozenset[str]:
    """The question's verbs of two characters or more (参加 of 多少学生参加四六级考试)."""
    return frozenset(
        t.word for t in pos_tagger().cut(question, HMM=False) if len(t.word) >= 2 and t.flag == "v"
    )


@lru_cache(maxsize=1024)
def _acts(question: str) -> frozenset[str]:
    """The question's words of two characters or more that name an act, as a verb, a verbal noun or
    jieba's adverbial reading of one (公开 of 看村里的公开)."""
    return frozenset(
        t.word
        for t in pos_tagger().cut(question, HMM=False)
        if len(t.word) >= 2 and t.flag in ("v", "vn", "ad")
    )


_INCLUDED = re.compile(r"含|包括|赠送|送")


def _only_included(topics: Sequence[str], question: str, sentence: str) -> bool:
    """The asked thing is named in the sentence only as part of something else (含1路看家摄像头7天云存储),
    whose price the sentence gives: 乡村融合88's 月费 is no price of 云存储. A question asking the
    price of what includes it (含宽带的套餐多少钱) says so itself."""
    if _INCLUDED.search(question):
        return False
    said = [t for t in topics if t in sentence]
    return bool(said) and all(
        _INCLUDED.search(clause[: clause.find(t)])
        for t in said
        for clause in _CLAUSE.split(sentence)
        if t in clause
    )


# A table row as the chunker writes it: 套餐名称：乡村惠民卡；月费（元/月）：19；…
_ROW = re.compile(r"^[^：；。]{1,20}：[^；]*；[^：；]{1,20}：")


def _another_row(asked: Asked, question: str, sentence: str) -> bool:
    """A table row sharing no word with the question's topic words prices something else: 乡村惠民卡's
    月费 is no price of 云存储, whichever row of the same table names it. A row of the asked age (80至89
    周岁 for 俺娘八十五了) or sharing a word (中级工 for 电工中级证) is the asked thing's."""
    if not asked.topics or not _ROW.match(sentence) or (asked.age and fits_age(asked.age, sentence)):
        return False
    if any(word in sentence for topic in asked.topics for word in (topic, *_variants(topic))):
        return False
    return not _asked_bigrams(question) & bigrams(sentence)


# Characters of asking, counting and time (多少钱一个月, 能补) that any price row shares with a question.
_ASKING_CHARS = frozenset("多少几钱个一每月年天元块能要会可的了吗呢啊吧不没有是")


@lru_cache(maxsize=1024)
def _asked_bigrams(question: str) -> frozenset[str]:
    """The question's two-character pieces that name something (电工中级证: 中级), not how it asks."""
    return frozenset(pair for pair in bigrams(question) if not set(pair) & _ASKING_CHARS)


_HOW_MANY = re.compile(r"(?:多少|几)(?:个|名|位|家|所|项)?")
_PEOPLE_ENDS = frozenset("人生员户民师学")  # 学生, 考生, 人员, 农户, 村民, 教师, 同学


def _counts_another_act(question: str, sentence: str) -> bool:
    """How many did something (多少学生参加四六级考试) is answered by a count of those who did it, said with
    the act or a word sharing its own characters, not by how many scored 500 to 600 (分数段的考生有212人)."""
    act = _people_act(question)
    return bool(act) and act not in sentence and not (set(act) - _COMMON_CHARS) & set(sentence)


@lru_cache(maxsize=1024)
def _people_act(question: str) -> str:
    """The act a how-many question counts people by (参加 of 多少学生参加), or ""."""
    asked = _HOW_MANY.search(question)
    if asked is None:
        return ""
    tokens = list(pos_tagger().cut(question[asked.end() :], HMM=False))
    people = len(tokens) >= 2 and tokens[0].flag.startswith("n") and tokens[0].word[-1] in _PEOPLE_ENDS
    if not people or tokens[1].flag != "v" or len(tokens[1].word) < 2:
        return ""  # 多少个校际交换项目: a thing named by an act, not people doing one
    return str(tokens[1].word)


_NAMED_PROGRAMMES = ("专项计划", "基金", "制度")


def _programme_unnamed(question: str, sentence: str, around: str) -> bool:
    """A programme, fund or system the question asks about by name (科研发展基金, 国家专项计划, 双选认证制度)
    is named in the sentence or its passage, its qualifier's characters in order before the kind word
    (社科基金 is 国家社会科学基金): 教育部人文社科各类项目立项11项 beside 国家自然科学基金 says nothing of
    the 世界大学联盟's 科研发展基金. A programme the question quotes (“圆梦计划”) in the sentence keeps it."""
    named = _programmes_named(question)
    if not named or any(name in sentence for name in _QUOTED.findall(question)):
        return False
    text = f"{sentence} {around}"
    return any(not said.search(text) for said in named)


@lru_cache(maxsize=1024)
def _programmes_named(question: str) -> tuple[re.Pattern[str], ...]:
    """How each programme, fund or system the question names is said: its qualifier's characters in
    order before the kind word."""
    return tuple(
        re.compile(rf"{which[0]}[^，。；]{{0,4}}{which[1]}[^，。；]{{0,4}}{kind}")
        for which, kind in _NAMED_KIND.findall(question)
        if kind in _NAMED_PROGRAMMES
    )


# When something was done the first time (首次, 第一次) is said with it: the first (首次, 首届, 首个), a
# beginning (始于, 开始, 创办), or the earliest.
_FIRST_TIME = re.compile(r"首次|第一次|头一回|头一次")
# Whether something was the first or the only one (是最早开设…的吗, 是唯一的吗): said with being so.
_ASKS_IF_FIRST = re.compile(r"最早|最先|首个|首家|首批|第一[个所家批次]|唯一")
_SAID_FIRST = re.compile(
    r"首次|首届|首个|首家|首批|首创|第一|始于|开始|起步|创办|创立|开创|最早|最先|率先|唯一|仅有"
)


def _says_first(question: str, sentence: str) -> bool:
    """The sentence says the first or only one of the act the question asks about (最早开设…专业 by a
    sentence saying 开设), not of another (是首批重点马克思主义学院)."""
    return bool(_SAID_FIRST.search(sentence)) and _first_act(question) in sentence


@lru_cache(maxsize=1024)
def _first_act(question: str) -> str:
    """The act a question asks whether something was the first to do (开设 of 最早开设), or ""."""
    asked = _ASKS_IF_FIRST.search(question)
    after = list(pos_tagger().cut(question[asked.end() :], HMM=False))[:1] if asked else []
    return after[0].word if after and len(after[0].word) >= 2 and after[0].flag.startswith("v") else ""


# The groups a policy singles out (脱贫户, 低保对象, 返乡创业人员), each by the word every name of it
# holds; a villager's 五保户 are the documents' 特困人员.
_GROUP = re.compile(
    r"低保|五保|特困|脱贫|返贫|致贫|监测户|监测对象|边缘户|残疾|返乡|退役军人|农民工|高校毕业生|孤寡|留守"
)
_SAME_GROUP = {"五保": "特困", "孤寡": "特困"}


def _groups(text: str) -> set[str]:
    return {_SAME_GROUP.get(g, g) for g in _GROUP.findall(text)}


def _another_standard(question: str, sentence: str) -> bool:
    """A group's standard (低保标准, 五保户的标准: the 低保 line, the 特困 support) is said as that group's,
    its word before 标准 in one clause (城乡低保标准统一为每人每月880元; 特困人员基本生活标准为…): 补贴标准为
    每人每月150元 or 低保对象…；资助标准：每人资助280元 is another standard, one paid to the group."""
    asked = {_SAME_GROUP.get(g, g) for g in _GROUP_STANDARD.findall(question)}
    if not asked:
        return False
    clauses = re.split(r"[，。；;,：:]", sentence)
    return not any(
        group in _groups(clause[: clause.find("标准")])
        for clause in clauses
        if "标准" in clause
        for group in asked
    )


_GROUP_STANDARD = re.compile(rf"({_GROUP.pattern})[^，。？?；]{{0,4}}?标准")


def _for_other_groups(question: str, sentence: str) -> bool:
    """The sentence is a rule for other groups than the one the question asks about: 返乡创业人员's loan
    says nothing of what 脱贫户 may borrow. A sentence naming no group is a rule for everyone."""
    asked = _groups(question)
    said = _groups(sentence)
    return bool(asked and said) and not asked & said


# The university a school belongs to (四川大学国际关系学院 is not 中国人民大学's).
_PARENT = re.compile(r"([\u4e00-\u9fff]{2})大学[\u4e00-\u9fff]{0,8}$")
# A rank before the role that leaves the organisation as it is (执行院长, 常务副院长 is 副 anyway).
_RANK = re.compile(r"(?:执行|常务)$")


def _another_owners(role: str, question: str, before: str) -> bool:
    """The role in the sentence is held in another organisation than the one the question asks about:
    艺术学院院长张淳 does not say who 经济学院的院长 is, nor 四川大学国际关系学院院长李志强 who 中国人民大学
    国际关系学院's is."""
    if role not in question:
        return False
    asked_text = question[: question.find(role)]
    said_text = _RANK.sub("", before)
    asked, said = _OWNER.search(asked_text), _OWNER.search(said_text)
    if asked is None:
        return False
    if said is None:
        bare = _BARE_OWNER.search(said_text)
        return bare is not None and bare.group(1) != asked.group(2)
    if asked.groups() != said.groups():
        return True
    parents = [
        _PARENT.search(text[: match.start()] + match.group(1))
        for text, match in ((asked_text, asked), (said_text, said))
    ]
    return all(parents) and len({p.group(1) for p in parents if p}) == 2


def _held_elsewhere(question: str, sentence: str, around: str) -> bool:
    """Every holder the sentence names right beside the asked role holds it, as its page says in full, in
    another organisation than the question asks about: 张东刚对宋永华校长一行到访表示欢迎 under the title
    会见澳门大学校长宋永华 does not say who 中国人民大学's 校长 is."""
    role = asked_role(question)
    if role is None or role not in sentence:
        return False
    at = sentence.find(role)
    while at >= 0:
        after = at + len(role)
        beside = [sentence[max(0, at - n) : at] for n in (3, 2)] + [
            sentence[after : after + n] for n in (3, 2)
        ]
        holders = [name for name in beside if name[:1] in SURNAMES and _CHINESE_WORD.fullmatch(name)]
        if not any(_holds_for_another(role, question, name, around) for name in holders):
            return False
        at = sentence.find(role, at + 1)
    return True


def _holds_for_another(role: str, question: str, name: str, text: str) -> bool:
    """`text` names `name` as the `role` of another organisation than the question's (澳门大学校长宋永华)."""
    at = text.find(role + name)
    while at >= 0:
        if _another_owners(role, question, text[max(0, at - 12) : at]):
            return True
        at = text.find(role + name, at + 1)
    return False


@lru_cache(maxsize=1024)
def _figure_qualifier(question: str, figure: str) -> str:
    """The word right before a named figure in the question (参考 of 实际参考人数, 计划 of 招生计划人数):
    a sentence that does not name the figure must say it to count the same thing. Empty when that word
    is a name, a place or a year (青溪县GDP), which are constraints of their own."""
    at = question.find(figure)
    if at <= 0:
        return ""
    before = list(pos_tagger().cut(question[:at], HMM=False))
    if not before:
        return ""
    word = before[-1]
    if not _CHINESE_WORD.fullmatch(word.word) or word.flag.startswith(_WHO_FLAGS):
        return ""
    return word.word if word.flag.startswith(("n", "v")) else ""


# A figure named right before its number, in a sentence that does not name the asked one: the number
# is that figure's (研发投入超过150亿元 is no 营收, 网络零售额6.8亿元 no 衔接资金).
_OTHER_FIGURE = re.compile(
    r"(?:投入|支出|成本|利润|投资|费用|预算|税收|市值|估值|融资|负债|资产|[\u4e00-\u9fff]{2}额)[^，。；,;\d]{0,4}\d[\d,.]*"
    r"\s*(?:余|多)?[万亿千百]*(?:美元|港元|元|%|％)?"
)
# A fee the question names (报名费, 学费, 保费) is a figure of its own where an amount is asked; a fund
# (衔接资金) or a grant (养老金, 助学金) where money is asked.
_NOT_A_FEE = frozenset(
    {"费用", "经费", "免费", "收费", "缴费", "交费", "消费", "花费", "浪费", "付费", "自费"}
)
_FUND = re.compile(r"[\u4e00-\u9fff]{2}资金")
_OTHER_MONEY = re.compile(
    r"([\u4e00-\u9fff]{1,2})(?:费|资金|金)[^，。；,;\d（(]{0,4}\d[\d,.]*\s*(?:余|多)?[万亿千百]*元?"
)


def _money_named(question: str, words: Sequence[str]) -> str | None:
    """The fee, fund or grant the question asks the amount of (报名费, 衔接资金, 养老金), or None."""
    fee = next((w for w in words if len(w) >= 2 and w[-1] == "费" and w not in _NOT_A_FEE), None)
    if fee is not None or not _ASKS_MONEY.search(question):
        return fee
    fund = _FUND.search(question)
    if fund is not None:
        return fund.group()
    return next((w for w in words if len(w) >= 3 and w[-1] == "金" and not w.endswith("基金")), None)


def _without_other_money(focus: str, sentence: str) -> str:
    """`sentence` without the amounts of fees, funds and grants other than the asked one: 学费10000元 is no
    报名费, 种粮补贴资金5418.5万元 no 衔接资金; 保险费 is the 保费 said in full."""
    if not focus.endswith(("费", "金")):
        return sentence
    asked = set(focus.removesuffix("资金").removesuffix("金").removesuffix("费"))
    return _OTHER_MONEY.sub(lambda m: m.group() if asked & set(m.group(1)) else " ", sentence)


# What says which figure, not whose (净收入, 营业收入, 2022年全年, 公司), and the acts tying an owner to
# its figure (专业测试收取报名费): left between an owner and its figure.
_WHICH_FIGURE = re.compile(
    r"(?:19|20)\d{2}\s*年|全年度?|年度|公司|集团|总|净|营业|的|共计|累计|共|全|实现|达到|达|约|超过|\s"
    r"|收取|缴纳|交纳|支付|征收|发放|给予"
)


def _figure_of_a_part(question: str, figure: str, before: str) -> bool:
    """The figure is said of a part of what the question names, in the clause `before` it: 网易有道净收入
    is a subsidiary's, not 网易's 营收."""
    asked_at = question.find(figure)
    clause = _CLAUSE.split(before)[-1]
    for owner in read_question(question).topics:
        if not _CHINESE_WORD.fullmatch(owner) or not 0 <= question.find(owner) < asked_at:
            continue
        at = clause.rfind(owner)
        if at < 0:
            continue
        between = _WHICH_FIGURE.sub("", clause[at + len(owner) :])
        # Another name shares no word with the question (全国高考报名人数 for 高考报名人数 is the same).
        pairs = bigrams(between)
        if pairs and _CHINESE_WORD.fullmatch(between) and not any(p in question for p in pairs):
            return True
    return False


@lru_cache(maxsize=256)
def _named_before(verb: str) -> re.Pattern[str]:
    """A full name (a common surname and one or two characters) right before `verb`."""
    return re.compile(rf"({_SURNAME}[\u4e00-\u9fff]{{1,2}}){re.escape(verb)}")


_SURNAME = "[" + "".join(sorted(SURNAMES)) + "]"


# A first time, said as such (首飞, 首播).
_FIRST_ACT = re.compile(r"首[飞播映演发航]")


def _stated(kind: AskedKind, focus: str | None, sentence: str, own: tuple[str, ...], question: str) -> bool:
    """The sentence holds an expression of `kind`; when the question ties it to a word (谁制作, 颁奖时间),
    next to that word, said as the question says it, as the synonym table names it, or as a word
    sharing an uncommon character with it (执导 for 导演, 举办 for 举行): a date in a sentence about the
    broadcast is not the date of the production, nor a mountain ten words on the producer."""
    if focus is None:
        return _holds_kind(kind, sentence, own, question)
    # A part played is named right beside its verb as a role's holder is (饰演高启强), and 导演 or 演员
    # share no more than a character with it.
    role = HUMAN_ROLE.search(focus) is not None or focus == _PART
    said = [*_variants(focus)] if focus not in _VILLAGER_VERBS else [*_VILLAGER_VERBS[focus]]
    if kind == "amount":
        # A figure is named as such (产量 is no 测量), and only a sentence that names it must hold the
        # number beside it: 英语：计划20人 answers 招生计划人数 without saying 人数.
        if not any(word in sentence for word in said):
            # The qualifier's own characters, not those the question says elsewhere (考 of 国考).
            qualifier = _figure_qualifier(question, focus)
            if qualifier and qualifier not in sentence:
                own_chars = set(qualifier) - _COMMON_CHARS - set(question.replace(qualifier, " "))
                if not own_chars & set(sentence):
                    return False  # 计划招录的3.71万人 is no 参考人数
            # A number another figure names right before it is that figure's (研发投入超过150亿元).
            return _holds_kind(
                kind, _without_other_money(focus, _OTHER_FIGURE.sub(" ", sentence)), own, question, focus
            )
    else:
        shared = set(focus) - _COMMON_CHARS
        # A role is said as the table says it (执导 for 导演); a word sharing a character with it is
        # another role (演员, 出演 beside 导演; 校长 beside 院长).
        # A span is of the act said (放款), not of one sharing a character with it (贷款期限最长3年).
        # A first time (首飞, 首播) is said as such: 首架…开启验证飞行 is no 首飞.
        if _FIRST_ACT.fullmatch(focus):
            said += ["首次", "第一次"]
        elif not role and focus not in _VILLAGER_VERBS and kind != "duration":
            # ... unless the question says which one right before it and the sentence does not: 专业测试
            # is no 文化课考试.
            qualifier = _figure_qualifier(question, focus)
            which = qualifier + focus in question and not _WH_TOKEN.search(qualifier)
            if not which or qualifier in sentence or focus in sentence:
                said += [w for w in _words(sentence) if len(w) >= 2 and shared & set(w)]
    # A role's holder is named right beside it (院长赵忠, 党委书记兼副院长林嘉), as retrieval does.
    # One who did an act is named right beside its verb (由邓小岚创办, 艺画开天制作): 谁制作的 is not
    # answered by a research institute three clauses from a 制作成本.
    agent = kind == "person" and not role and f"谁{focus}" in question
    if agent and any(name not in question for name in _named_before(focus).findall(sentence)):
        return True  # 蒋万安当选: a name jieba reads as 蒋 and 万安, right before the act
    reach = HOLDER_REACH if kind == "person" and role else _AGENT_REACH if agent else _FOCUS_WINDOW
    for word in said:
        at = sentence.find(word)
        while at >= 0:
            if (
                kind == "person"
                and role
                and (
                    NOT_THE_HOLDER.search(sentence[max(0, at - 2) : at])
                    or _another_owners(focus, question, sentence[max(0, at - 12) : at])
                )
            ):
                at = sentence.find(word, at + 1)  # 副院长杨东, 艺术学院院长张淳 hold another office
                continue
            if kind in ("time", "duration") and _A_BOARD.match(sentence, at + len(word)):
                at = sentence.find(word, at + 1)  # 村务公开栏 is a board, not the act of 公开
                continue
            if kind == "amount" and _figure_of_a_part(question, focus, sentence[:at]):
                at = sentence.find(word, at + 1)  # 网易有道净收入 is no 网易营收
                continue
            lead = _figure_lead(sentence[max(0, at - reach) : at]) if kind == "amount" else None
            start = at - len(lead) if lead is not None else max(0, at - reach)
            end = at + len(word) + reach
            # Never cut a number: the 2 left of 2022年 would be a figure of its own.
            while start > 0 and sentence[start - 1] in _NUMBER_CHARS:
                start -= 1
            while end < len(sentence) and sentence[end] in _NUMBER_CHARS:
                end += 1
            window = sentence[start:end]
            if _holds_kind(kind, window, own, question, focus):
                return True
            at = sentence.find(word, at + 1)
    return False


# How documents say a deadline (报名截止日期 is answered by 即日起至2月5日) and a figure (GDP增长率 by
# 同比增长2.6%, 营收 by 营业收入).
_SAID_AS = {
    "截止": ("截至", "至", "前"),
    "截至": ("截止", "至", "前"),
    "增长率": ("增长", "增幅", "增速"),
    "增速": ("增长", "增幅", "增长率"),
    "涨幅": ("上涨", "增长", "增幅"),
    "营收": ("营业收入", "收入"),
    "收入": ("营收",),
    "总量": ("总产量", "总额"),
    "导演": ("执导",),
    "主演": ("出演", "饰演", "领衔", "饰"),
    _PART: ("扮演", "出演", "饰"),
}


@lru_cache(maxsize=1024)
def _variants(focus: str) -> frozenset[str]:
    return synonym_names(focus) | frozenset(_SAID_AS.get(focus, ()))


@lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    return frozenset(word_tokenizer().lcut(text, HMM=False))


def _one_kind(asked: Asked, kind: AskedKind | None) -> Asked:
    return replace(asked, kinds=frozenset([kind]) if kind else frozenset())


def without_names(asked: Asked, given: Collection[str]) -> Asked:
    """`asked` with the names in `given` no longer constraints."""
    return replace(asked, names=tuple(n for n in asked.names if n not in given)) if given else asked


def states_some(
    asked: Asked,
    question: str,
    sentence: str,
    context: str = "",
    passage: str = "",
    document: Document | None = None,
) -> bool:
    """The sentence states one of the asked things (of a two-part question, one part is enough), and
    is not another case's story."""
    if another_case(question, context):
        return False
    if not asked.checkable:
        return True
    kinds: list[AskedKind | None] = [*sorted(asked.kinds)] or [None]
    return any(
        answers(_one_kind(asked, kind), question, sentence, context, passage, document) for kind in kinds
    )


def names_any(topics: Sequence[str], texts: Sequence[str]) -> bool:
    """Whether some text holds one of the topic words, or the documents' word for it (新农合:
    城乡居民医保)."""
    names = {name for topic in topics for name in synonym_names(topic)}
    return any(name in text for name in names for text in texts)


def holds_phone(text: str) -> bool:
    return bool(_PHONE.search(text))


def misses_the_number(
    asked: Asked, answer: str, topics: Sequence[str] = (), titles: Sequence[str] = ()
) -> bool:
    """A question asking only for a phone number, answered without one, or a question asking for one
    (alone or beside a place: 医保的事去哪里办？电话多少？) answered only with numbers whose sentences and
    cited documents' `titles` name none of the question's `topics` (县气象局的电话 answered with a
    platform's 客服电话): the passages held no number for it, and the hand-off gives one to call. A
    two-part question answered without any number keeps its other part's answer. The phone is
    preferred, not required, before composing, because the contact line often closes a document outside
    the matched chunk; the answer has read it."""
    if "phone" not in asked.kinds:
        return False
    numbered = [s for s in re.split(r"(?<=[。！？])", answer) if holds_phone(s)]
    if not numbered:
        return asked.kinds == {"phone"}
    return bool(topics) and not names_any(topics, [*numbered, *titles])


_FIGURES: frozenset[AskedKind] = frozenset({"amount", "duration", "time"})


# What a question asks under: two characters before 了 (停电了, 下雨了), a verb in jieba's dictionary.
# 报装了多久能装上 asks the span from the act itself, not under a condition: 了 is followed by the asking.
_UNDER = re.compile(r"([\u4e00-\u9fff]{2})了(?!多久|多长|几|什么时候|啥时候|哪天)")
_SPANS = frozenset({"time", "duration"})


@lru_cache(maxsize=1024)
def conditions(question: str) -> tuple[str, ...]:
    """The events a time or span question asks under (停电 of 停电了村村响还能响多久): how long something
    lasts or when it happens after them is another span than in the ordinary case."""
    if not read_question(question).kinds & _SPANS:
        return ()
    verbs = _verbs(question)
    return tuple(dict.fromkeys(m.group(1) for m in _UNDER.finditer(question) if m.group(1) in verbs))


def under_another_condition(answer: str, known: Sequence[str]) -> bool:
    """A time or span answer that never names the event the question asks under, where the documents
    use the word (`known`): a test broadcast's 1分钟 is no answer to how long it sounds in a power cut
    (停电了…能响多久). An event the documents say otherwise (房子盖好了 for 竣工) is not required."""
    return any(not any(word in answer for word in (event, *_variants(event))) for event in known)


def about_something_else(asked: Asked, topics: Sequence[str], cited: Sequence[str]) -> bool:
    """An answer to a question asking only for an amount, a time or a span whose `cited` passages
    (title, section and text) name none of the question's `topics`, nor the documents' words for them:
    its figure is another thing's (社保卡丢了补办一张要交多少钱？ answered with a watch card's 每月10元,
    低保多久能批下来 with a homestead's 批准之日起1年内开工)."""
    if not asked.kinds or not asked.kinds <= _FIGURES or not topics:
        return False
    return not names_any(topics, cited)


def answerable(
    asked: Asked,
    question: str,
    sentences: list[tuple[str, str, str]],
    documents: Sequence[Document | None] = (),
) -> bool:
    """Every asked kind is stated by some (sentence, context, passage) (two questions in one,
    什么时候办、在哪办, may be answered by two sentences), under the question's constraints, none of
    them another case's story; `documents`, where given, are the sentences' documents, in order. The
    `PREFERRED_KINDS` are not required."""
    asked = replace(asked, kinds=asked.kinds - PREFERRED_KINDS)
    whole = [*documents, *[None] * (len(sentences) - len(documents))]
    told = [
        (s, c, p, d) for (s, c, p), d in zip(sentences, whole, strict=True) if not another_case(question, c)
    ]
    if not asked.checkable:
        return bool(told) or not sentences
    kinds: list[AskedKind | None] = [*sorted(asked.kinds)] or [None]
    return all(
        any(answers(_one_kind(asked, kind), question, s, c, p, d) for s, c, p, d in told) for kind in kinds
    )
