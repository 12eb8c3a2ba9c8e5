"""Answerability: a sentence answers only when it states what the question asks for, under the
question's constraints; a topic word matched somewhere is not enough. The module on hand-written
sentences, then the whole assistant on a small knowledge base of its own whose passages are on the
asked topic but lack some of the asked facts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from assistant.answerability import (
    about_something_else,
    answerable,
    answers,
    conditions,
    misses_the_number,
    read_question,
    without_names,
)
from assistant.checking import check
from assistant.extractive import ExtractiveComposer, sentences_of
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from assistant.subject import about, subject
from assistant.unknown_words import named_things, said_apart, unseen_names, verb_and_object
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from tests.answer_fixtures import evidence
from xiangyin.settings import Settings


def says(question: str, sentence: str, context: str = "") -> bool:
    return answers(read_question(question), question, sentence, context)


@pytest.mark.parametrize(
    ("question", "sentence", "context", "expected"),
    [
        # The asked kind must be there, beyond the question's own words.
        ("第五届丰收节的颁奖时间", "第五届丰收节吸引了上万名群众参加。", "", False),
        ("第五届丰收节的颁奖时间", "第五届丰收节颁奖典礼于9月23日在县体育馆举行。", "", True),
        # A first time is said as such: the first aircraft's test flights are no first commercial flight.
        ("C919商业首飞时间", "2022年12月26日起，全球首架C919开启验证飞行。", "", False),
        ("C919商业首飞时间", "C919于2023年5月28日完成商业首飞。", "", True),
        ("丰收节在哪里举办？", "丰收节将于秋分前后举办。", "", False),
        ("丰收节在哪里举办？", "丰收节在桃源村文化广场举办。", "", True),
        ("丰收节吉祥物叫什么？", "今年的丰收节吉祥物很受欢迎。", "", False),
        ("丰收节吉祥物叫什么？", "丰收节吉祥物名叫“稻宝”。", "", True),
        ("2025年全县粮食产量", "2025年全县粮食播种面积和产量公布如下：", "", False),
        ("2025年全县粮食产量", "2025年全县粮食产量达到41.2万吨。", "", True),
        # Dates, titles, codes and phone numbers are not amounts.
        ("2026年医保个人要交多少钱？", "2026年缴费工作将于9月1日开始，咨询电话12345。", "", False),
        ("《丰收2》的票房多少？", "《丰收2》定档10月1日。", "", False),
        # Which one of a kind (哪个专业, 哪条路, 哪个学校) is named by a word of that kind.
        ("王永昌是哪个专业的研究生？", "王永昌，马克思主义哲学专业研究生毕业。", "", True),
        ("王永昌是哪个专业的研究生？", "王永昌作为政府官员的形象睿智而有深度。", "", False),
        # Which one of a kind, beside the act the question ties it to.
        (
            "王亚培教授团队在哪个领域取得了重要技术突破？",
            "该刊致力于发表化学各个领域的研究以及化学相关交叉领域的重要进展。",
            "王亚培教授团队",
            False,
        ),
        (
            "王亚培教授团队在哪个领域取得了重要技术突破？",
            "王亚培教授团队在可降解农药领域取得重要技术突破。",
            "",
            True,
        ),
        ("县人民医院在哪条路上？", "到乡镇医疗保障服务站或县人民医院慢特病认定点申请。", "", False),
        ("哪个学校参与民法典编纂的人最多？", "中国人民大学法学学科是参与民法典编纂人数最多的。", "", True),
        ("案例讲的是哪个学校？", "各学校都可以推荐案例。", "", False),
        # A news page's byline stamp says when it was posted.
        ("硅谷银行破产时间", "从爆雷到破产，硅谷银行的48小时. 第一财经 03-11 16:59 作者：丁源", "", False),
        ("硅谷银行破产时间", "硅谷银行于3月10日宣告破产。", "", True),
        # A total is no rate, and a named price is a price of the thing named.
        ("全县农产品在网上一共卖了多少钱？", "快递费补贴每单1元，每户每年最高2000元。", "", False),
        ("全县农产品在网上一共卖了多少钱？", "全县农产品网络零售额达到6.8亿元。", "", True),
        ("全县农产品在网上一共卖了多少钱？", "自付费用超过5000元的，最高赔付10万元。", "", False),
        ("全县农产品在网上一共卖了多少钱？", "奖补标准：每头150元；单项上限：3000元", "", False),
        ("全县农产品在网上一共卖了多少钱？", "套餐名称：乡村惠民卡；月费（元/月）：19", "", False),
        ("土地流转参考价一亩一年多少钱？", "耕地地力保护补贴标准为每亩110元。", "", False),
        ("土地流转参考价一亩一年多少钱？", "水田流转参考价为每亩每年600元。", "", True),
        # Which ones (哪些) are named together or counted; one thing named alone answers no 哪些.
        ("哲学院有哪些专业？", "哲学院拥有哲学、伦理学、宗教学、PPE4个本科专业。", "", True),
        ("哲学院有哪些专业？", "哲学院设有哲学和宗教学两个系。", "", True),
        ("哪些学科被评为A+？", "2017年，新闻传播学科进入国家“双一流”学科建设序列。", "", False),
        ("写作课讲授哪些诗体？", "薛天纬开设的是古诗文写作课，非常受学生欢迎。", "", False),
        # A year the sentence does not hold is not met by another year, whatever the heading says.
        ("2025年种粮补贴每亩多少钱？", "2024年种粮补贴标准为每亩100元。", "2025年种粮补贴实施方案", False),
        ("2025年种粮补贴每亩多少钱？", "种粮补贴标准为每亩110元。", "2025年种粮补贴实施方案", True),
        ("2025年种粮补贴每亩多少钱？", "种粮补贴标准为每亩110元。", "种粮补贴实施方案", False),
        # A month asked for must be the month talked about.
        ("2025年12月全县新增就业多少人？", "2025年11月全县新增就业320人。", "", False),
        # Titles and codes are constraints too.
        ("《青溪谣》的导演是谁？", "《山里红》由李明执导，今年秋天上映。", "", False),
        ("QX-200型插秧机补贴多少钱？", "QX-100型插秧机每台补贴3000元。", "", False),
        ("QX-200型插秧机补贴多少钱？", "QX-200型插秧机每台补贴4500元。", "", True),
        # Without its passage, a name or a year the sentence does not hold is not met.
        ("桃源村的图书室几点开门？", "图书室每天上午8点开门。", "", False),
        # Which edition or model is a constraint like a year: another one's facts are no answer.
        ("第28届丰收节颁奖时间", "第27届丰收节颁奖礼于2024年9月22日举行。", "", False),
        ("第28届丰收节颁奖时间", "第28届丰收节颁奖典礼于9月23日举行。", "", True),
        ("青溪5号稻种什么时候上市？", "青溪3号稻种于去年4月上市。", "", False),
        # The asked person, place or time goes with the question's word for it (谁制作, 颁奖时间).
        ("《青溪谣》是谁制作的？", "《青溪谣》播出后，不少观众称赞李明的表演。", "", False),
        # A word jieba does not know (出分, split into 出 and 分) is still what the time goes with.
        ("2025年青溪县中考出分时间", "2025年青溪县中考将于6月17日至6月19日进行。", "", False),
        ("2025年地力补贴到账时间", "2025年耕地地力保护补贴于6月25日前全部发放到户。", "", True),
        # 打到卡上 is when the money is paid, not when it is applied for.
        ("稳岗补贴每年什么时候打到卡上？", "稳岗补贴每年3月1日至4月30日申报。", "", False),
        ("稳岗补贴每年什么时候打到卡上？", "稳岗补贴于每年6月30日前发放到社会保障卡。", "", True),
        # An act jieba's dictionary calls a noun (投入使用), right after the question word, is the event.
        ("县图书馆新馆于哪一年投入使用？", "4月25日上午，县长来到县图书馆调研。", "", False),
        ("县图书馆新馆于哪一年投入使用？", "县图书馆新馆于2011年正式投入使用。", "", True),
        # Another school of the kind asked is another school's fact (中法学院 is not 法学院).
        ("青溪大学数学学院于何年成立？", "青溪大学人工智能学院于2019年4月正式成立。", "", False),
        ("青溪大学法学院的院长是谁？", "青溪大学中法学院院长杨伟国介绍了办学特色。", "", False),
        ("青溪大学数学学院于何年成立？", "青溪大学2018年6月成立数学学院。", "", True),
        ("人大文学院打哪年开始办汉学大会的？", "文学院从2007年开始，连续承办世界汉学大会。", "", True),
        # A village the question names is a constraint like a place; where a villager lives is not.
        (
            "白沙村的村规民约里，彩礼最多能要多少？",
            "婚礼彩礼不超过5万元，酒席不超过15桌。",
            "桃源村村规民约",
            False,
        ),
        (
            "桃源村的村规民约里，彩礼最多能要多少？",
            "婚礼彩礼不超过5万元，酒席不超过15桌。",
            "桃源村村规民约",
            True,
        ),
        ("我们村的彩礼最多能要多少？", "婚礼彩礼不超过5万元，酒席不超过15桌。", "桃源村村规民约", True),
        # A plan is a model like a phone's: another plan's row is no answer.
        ("乡村融合198套餐一个月有多少流量？", "套餐名称：乡村融合88；手机通用流量（GB/月）：60", "", False),
        ("乡村融合88套餐一个月有多少流量？", "套餐名称：乡村融合88；手机通用流量（GB/月）：60", "", True),
        ("《青溪谣》是谁制作的？", "《青溪谣》由青溪县文化馆李明团队制作。", "", True),
        # One who did the act is named beside its verb, not a clause away from a 制作成本.
        ("《青溪谣》是谁制作的？", "有人告诉青溪县文化馆，《青溪谣》的制作成本是每集5万元。", "", False),
        ("《青溪谣》是谁制作的？", "《青溪谣》的制作方为青溪县文化馆。", "", True),
        ("《青溪谣》的导演是谁？", "“好像一出生活剧”，这其实是导演故意为之。", "", False),
        # A role only a person fills is answered by a person's name, said as the role is said (执导):
        # not a work's title, nor another role that shares a character with it (演员 for 导演).
        ("《青溪谣》的导演是谁？", "《青溪谣》由王晓梅执导，全部在桃源村拍摄。", "", True),
        ("《青溪谣》的导演是谁？", "剧中演员由青溪县文化馆挑选。", "", False),
        ("《青溪谣》的主演是谁？", "《青溪谣》的阵容不如《警察荣誉》豪华，但主演都是实力派。", "", False),
        ("《青溪谣》的主演是谁？", "《青溪谣》由张红梅、刘建国领衔主演。", "", True),
        ("2025年青溪县的县长是谁？", "2025年青溪县县长王建华到桃源村调研。", "", True),
        ("2025年青溪县的县长是谁？", "2025年青溪县县长到北京市参加培训。", "", False),
        ("神舟二十号的航天员有谁？", "神舟二十号三名航天员进驻天宫空间站天和核心舱。", "", False),
        ("神舟二十号的航天员有谁？", "北京时间11月3日，神舟二十号航天员乘组顺利进入梦天实验舱。", "", False),
        ("神舟二十号的航天员有谁？", "神舟二十号航天员陈冬、刘洋、蔡旭哲进驻空间站。", "", True),
        # A place is where something is when the sentence says so (在…, 位于…, …举办), not a country
        # named as someone's (美国总统), as one of a list of who agreed, or as part of the event's own
        # name (中国丰收节).
        ("2025年丰收节在哪里举行？", "2025年中国丰收节将于9月23日举行。", "", False),
        ("2025年丰收节在哪里举行？", "2025年丰收节举行前，美国、加拿大与墨西哥发表声明。", "", False),
        ("2025年丰收节在哪里举行？", "2025年丰收节将在桃源村文化广场举行。", "", True),
        ("2027年丰收节在哪里举行？", "青溪县将举办2027年丰收节。", "", True),
        ("医保的事去哪里办？", "到县人社局办理。", "城乡居民医保问答", True),
        ("宅基地去哪里申请？", "向村集体经济组织或村民委员会提出申请。", "", True),
        # Who gets or decides (给谁, 找谁, 谁来审批) is answered by a kind of people or an office; who someone
        # is, only by a name.
        (
            "我把地包给别人种了，地力补贴给谁？",
            "土地已经流转的，补贴仍发给承包农户。",
            "二、耕地地力保护补贴",
            True,
        ),
        ("宅基地申请谁来审批？", "由乡镇人民政府审批。", "", True),
        ("2023年青溪农商银行的行长是谁？", "2023年贷款发放给承包农户。", "", False),
        # Whom to turn to (找谁问) is an office, never the people the policy is for.
        ("插秧机补贴找谁问？", "开展机插秧作业的农户和服务组织每亩补贴30元。", "", False),
        (
            "插秧机补贴找谁问？",
            "县农机化技术推广中心地址：青溪镇府前路18号。",
            "农机购置补贴 插秧机补贴咨询",
            True,
        ),
        # 电话多少 asks for a number to dial: an office's, not an emergency line every notice repeats.
        ("医保电话多少？", "咨询电话：0571-86213300（青溪县医疗保障服务中心）", "", True),
        ("医保电话多少？", "遇到此类电话请立即挂断，拨打96110或110核实。", "", False),
        ("种粮补贴有问题打哪个电话问？", "可以拨打乡镇农业综合服务中心电话。", "", False),
        # A lead-in (…如下：) holds no figure yet; list numbers count nothing.
        ("2025年全县粮食产量", "2025年全县粮食播种面积、单位面积产量和总产量分别如下：.", "", False),
        ("2025年新能源指标有多少个？", "查询方式：1、官网查询 2、拨打热线查询", "2025年新能源指标", False),
        # A sentence that names the asked thing only to deny it is about something else.
        ("村里的宽带多少钱一个月？", "乡村惠民卡每月19元，含10GB流量，不含宽带。", "", False),
        (
            "村里的宽带多少钱一个月？",
            "套餐名称：乡村惠民卡；月费（元/月）：19；宽带速率（Mbps）：无宽带",
            "",
            False,
        ),
        (
            "村里的宽带多少钱一个月？",
            "套餐名称：单宽带300M；月费（元/月）：40；宽带速率（Mbps）：300",
            "",
            True,
        ),
        # An amount asked in a unit is answered in that unit (8万余册 is no floor area); a number in it
        # is no record number however long.
        ("国学馆占地面积多少平方米？", "国学馆藏有人大学者著作、研究生论文8万余册。", "", False),
        ("国学馆占地面积多少平方米？", "国学馆占地面积11500平方米，总建筑面积28516平方米。", "", True),
        ("发大水时村里转移了多少人？", "村里出动转移车辆12辆。", "", False),
        ("发大水时村里转移了多少人？", "村里连夜转移群众326人。", "", True),
        # A villager's 几回 is counted as the documents count times (次).
        ("全县手表处理了多少回SOS呼救？", "村集体对每只手表补贴100元。", "", False),
        ("全县手表处理了多少回SOS呼救？", "全年处置SOS呼救1860次。", "", True),
        # A named figure is counted in its own unit and stated beside its own word (or the way documents
        # say it: 增长 for 增长率), not 31个 sentences away or as a share of something else.
        (
            "2025年全县粮食产量",
            "根据对全县31个村的统计调查（山区村的播种面积通过遥感测量取得），2025年全县粮食播种面积、单位面积产量和总产量公布。",
            "",
            False,
        ),
        ("2025年全县参保人数", "2025年参保人数同比增长12.5%。", "", False),
        ("2025年全县参保人数", "2025年全县参保人数达到41230人。", "", True),
        ("2025年全县参保人数", "2025年全县参保：城乡居民41230人；", "", True),
        ("2025年青溪县GDP增长率", "2025年青溪县GDP同比增长5.2%。", "", True),
        ("2025年青溪县GDP增长率", "2025年青溪县GDP达到312亿元。", "", False),
        # A named figure's number follows its word or qualifies it in its clause (41.2万吨的粮食产量); one
        # further before is another figure's.
        ("2025年青溪农商银行营收多少？", "2025年青溪农商银行营收12.6亿元，同比增长8%。", "", True),
        ("2025年青溪农商银行营收多少？", "2025年青溪农商银行科技投入超过1.5亿元，占比营收12%。", "", False),
        ("2025年全县粮食产量", "2025年全县41.2万吨的粮食产量创历史新高。", "", True),
        ("2025年全县参保人数", "2025年全县共有41230人提交了申请，审核通过人数占九成。", "", False),
        # A news dateline is when the page was written, not the asked date; a question answers nothing.
        ("丰收节什么时候开幕？", "Sep 20, 2025 ... 丰收节的筹备工作正在紧张进行。", "", False),
        ("丰收节什么时候开幕？", "丰收节什么时候开幕？", "", False),
        ("丰收节什么时候开幕？", "新华社青溪9月3日电（记者李明）县里介绍了丰收节开幕的有关安排。", "", False),
        ("丰收节什么时候开幕？", "新华社青溪9月3日电（记者李明）丰收节将于9月23日开幕。", "", True),
        ("丰收节什么时候开幕？", "丰收节开幕式于9月23日电视直播。", "", True),
        # Another class or another test of the same letters is another rule's, another test's figure.
        ("2018年艺术团甲类的降分政策是什么？", "2018年艺术团乙类降分政策指降20分且不低于一本线。", "", False),
        ("2019年中法学院TFS4的平均分是多少？", "2019年法语专业八级考试（TFS8）平均分为66.51分。", "", False),
        ("2019年中法学院TFS4的平均分是多少？", "2019年中法学院TFS4平均分为74.84分。", "", True),
        # 哪年加入: the time asked is the joining's, not the birth's.
        ("王永昌是哪年加入中国共产党的？", "王永昌，1953年1月生，浙江金华人。", "", False),
        ("王永昌是哪年加入中国共产党的？", "1974年3月加入中国共产党。", "王永昌，1953年1月生。", True),
        # A person the question names in full is a constraint: another person's joining is no answer.
        ("王永昌是哪年加入中国共产党的？", "1946年加入中国共产党。", "萧燕，旅美摄影家。", False),
        # 办起来 asks when it was set up, whatever direction the verb takes.
        ("人大的艺术学院是哪年办起来的？", "1999年艺术学院复建。", "", True),
        # Another organisation's 院长 is not this one's; more of the name said before is the same one.
        ("2023年经济学院的院长是谁？", "2023年，中国人民大学艺术学院院长张淳出席开幕式。", "", False),
        (
            "2023年经济学院的院长是谁？",
            "2023年，我校经济学院院长杨瑞龙教授、财政金融学院院长郭庆旺教授出席。",
            "",
            True,
        ),
        (
            "2023年财政金融学院的院长是谁？",
            "2023年，经济学院院长杨瑞龙教授、财政金融学院院长郭庆旺教授出席。",
            "",
            True,
        ),
        # 副院长, 原院长 hold another office, or held it at another time.
        ("2014年中法学院的院长是谁？", "2014年，法学院副院长杨东教授这样评价道。", "", False),
        ("2014年中法学院的院长是谁？", "2014年，中法学院院长杨伟国说。", "", True),
        # The villager's age is a constraint: the rule for another age group is another rule, and a
        # sentence naming no age group is answered for it only by the group beside it.
        (
            "俺爹都75了，低保能多给点不？",
            "70周岁及以上老年人、未成年人，增发10%，即每人每月88元。",
            "低保标准",
            True,
        ),
        ("俺爹都75了，低保能多给点不？", "低保对象大病保险起付线降低一半为9000元。", "", False),
        # A name said only as the start of a longer place name is that other place.
        ("2022年中国电影的总票房收入", "2022年中国香港的总票房为1.463亿美元。", "", False),
        ("2022年台湾人口多少？", "2022年台湾地区人口总数为23264640人。", "", True),
        # A villager's one-character verb is the act the time is of, as documents say it (报: 申报).
        ("耕地补贴啥时候去村里报？", "耕地地力保护补贴于2024年6月25日前全部发放到户。", "", False),
        (
            "耕地补贴啥时候去村里报？",
            "2025年3月1日至4月15日，由农户向村民委员会申报。",
            "耕地地力保护补贴",
            True,
        ),
        ("明年的医保啥时候交？", "每年9月1日至12月31日是集中缴费期。", "城乡居民医保", True),
        ("85岁的老人高龄津贴一个月多少？", "年龄段：80至89周岁；津贴标准（元/人·月）：60", "高龄津贴", True),
        (
            "85岁的老人高龄津贴一个月多少？",
            "年龄段：90至99周岁；津贴标准（元/人·月）：200",
            "高龄津贴",
            False,
        ),
        ("六十多岁的老人食堂吃一顿多少钱？", "70周岁以上老人就餐每餐收费5元。", "", False),
        ("六十多岁的老人食堂吃一顿多少钱？", "每餐收费8元。", "60至69周岁老人", True),
        # A class (2019级) is not the year: another year's test of that class is another year's figure.
        (
            "2019年中法学院TFS4的优秀率是多少？",
            "在2021年法语专业四级考试（TFS4）中，中法学院2019级学生优秀率达59%。",
            "",
            False,
        ),
        ("2019年中法学院TFS4的优秀率是多少？", "在2019年TFS4考试中，中法学院优秀率达48%。", "", True),
        # A count of another thing (寒暑期项目, 专业) is no count of the asked one.
        ("2022年人大有多少个校际交换项目？", "2022年有约40个寒暑期项目。", "", False),
        ("2022年人大有多少个校际交换项目？", "2022年与200余所大学开展了100多个校际交换项目。", "", True),
        ("数学专业目前设有几个方向？", "现有物理学、材料物理2个本科专业。", "", False),
        # ... in another measure word (1000名学生, 22栋公寓), or with the other thing right before it.
        ("2022年人大有多少个校际交换项目？", "2022年选派约1000名本科学生参加交流项目。", "", False),
        ("2022年人大有多少个校际交换项目？", "2022年共有22栋学生公寓，涵盖5453间（套）宿舍。", "", False),
        ("2022年人大有多少个校际交换项目？", "2022年学科共92个，人大入选学科13个。", "", False),
        ("2022年人大有多少个校际交换项目？", "2022年人大有68个。", "", True),
        ("2022年人大有多少个校际交换项目？", "2022年交换项目共68个。", "", True),
        ("数学专业目前设有几个方向？", "数学专业设有3个研究方向。", "", True),
        ("数学专业目前设有几个方向？", "数学专业的方向共3个。", "", True),
        # The thing counted ends where the clause goes on (几个方向可以选: 方向, not 选).
        ("数学专业有几个方向可以选？", "现有物理学、材料物理2个本科专业。", "", False),
        ("数学专业有几个方向可以选？", "数学专业设有3个研究方向。", "", True),
        ("2023年北京新能源小客车指标有多少个？", "结果会在6月15日、7月15日这两个时间点公布。", "", False),
        ("2023年北京新能源小客车指标有多少个？", "2023年北京新能源小客车指标总量为7万个。", "", True),
        # A count is a number in the asked measure word or its kin, not any number (86岁, a table's 1),
        # and a quoted name inside the counted thing is part of it.
        ("人大与多少个国家的高校建立了伙伴关系？", "今天，人大迎来了86岁生日！", "", False),
        ("人大与多少个国家的高校建立了伙伴关系？", "参与了8所海外孔子学院建设。", "", False),
        (
            "人大与多少个国家的高校建立了伙伴关系？",
            "人大同61个国家和地区的310所高校建立了伙伴关系。",
            "",
            True,
        ),
        (
            "2018年有多少个入选“双一流”建设学科？",
            "2018年荣获CAS大学奖，全球仅有三所高校获此殊荣。",
            "",
            False,
        ),
        ("2018年有多少个入选“双一流”建设学科？", "2018年，学校共有14个学科入选“双一流”建设学科。", "", True),
        ("人大文库的藏书一共有多少本？", "人大文库藏有研究生论文8万余册。", "", True),
        # A group's standard (the 低保 line) is said as that group's, not as a sum paid to the group.
        ("今年低保标准是多少？", "补贴标准为每人每月150元。", "", False),
        ("今年低保标准是多少？", "人员类别：低保对象、返贫致贫人口；资助标准：每人资助280元", "", False),
        ("今年低保标准是多少？", "2025年青溪县城乡低保标准统一为每人每月880元。", "", True),
        ("五保户的标准一个月多少钱？", "2025年特困人员基本生活标准为每人每月1144元。", "", True),
        # An act said again by its first character (验 of 验收) is the act; a month of a date is no span.
        ("房子盖好了找乡里验收，几天能来验？", "村、乡镇于2025年11月组织实地验收。", "", False),
        ("房子盖好了找乡里验收，几天能来验？", "石桥乡、云岭乡从受理起72小时内装好。", "", False),
        ("房子盖好了找乡里验收，几天能来验？", "竣工后乡镇在5个工作日内组织验收。", "", True),
        # How often an act is done is said of the act (公开 said as jieba's adverb), not of a board
        # named after it (村务公开栏); 多少天 asks a span like 几天.
        ("村里的账多久公开一次？", "在村务公开栏和村级数字乡村平台同时公示，公示时间不少于7天。", "", False),
        ("村里的账多久公开一次？", "村集体财务每月公开1次。", "", True),
        ("宅基地申请交上去，乡里多少天给批下来？", "乡镇人民政府对拟保对象在村务公开栏公示7天。", "", False),
        ("宅基地申请交上去，乡里多少天给批下来？", "乡镇人民政府在受理之日起20个工作日内审批。", "", True),
        # A fee is a sum of money.
        (
            "艺术类招生专业测试报名费是多少？",
            "艺术类专业测试的时间为3月8日、9日，每位考生只选考一天即可。",
            "",
            False,
        ),
        ("艺术类招生专业测试报名费是多少？", "艺术类专业测试报名费为每人每科100元。", "", True),
        # What is reimbursed is said as a reimbursement, its share or its threshold.
        ("在乡里卫生院住院能报多少？", "积分可以在积分超市兑换生活用品，1分一般相当于1元。", "", False),
        ("在乡里卫生院住院能报多少？", "在乡镇卫生院住院，起付线200元，政策范围内费用报销90%。", "", True),
        ("高血压吃的药医保能报多少？", "高血压一年最多报360元。", "城乡居民医保政策问答", True),
        # A counted thing named with a code (5G基站) is counted as such, not by any number.
        ("咱县里一共建了多少个5G基站？", "摄像头只能连接2.4GHz的WiFi，不能连接名字带“5G”的WiFi。", "", False),
        ("咱县里一共建了多少个5G基站？", "截至2024年底，全县共建成村级公共视频点位3860路。", "", False),
        ("咱县里一共建了多少个5G基站？", "全县共建成5G基站320个。", "", True),
        # A number inside a quoted name counts nothing (斩获“八项第一”).
        ("2023年获得几项立项？", "在项目立项季，2023年不仅斩获“八项第一”，多项还蝉联第一。", "", False),
        ("2023年获得几项立项？", "2023年获得“世界大学联盟”立项2项。", "", True),
        ("于学军提出要做好几个坚持？", "于学军提出要做好“三个坚持”：一是坚持实事求是。", "", True),
        # A rule for other groups (返乡创业人员) says nothing of the asked one; the documents' word for a
        # villager's group (特困人员 for 五保户) is the same group.
        (
            "脱贫户贷款能贷多少？",
            "符合条件的返乡创业人员可以申请创业担保贷款，个人贷款最高30万元。",
            "",
            False,
        ),
        ("脱贫户贷款能贷多少？", "脱贫户可以申请小额信贷，每户最高5万元。", "", True),
        ("脱贫户贷款能贷多少？", "小额信贷每户最高5万元。", "", True),
        ("五保户一个月给多少钱？", "特困人员基本生活标准为每人每月1100元。", "", True),
        # A figure not named in the sentence is counted the same only by the word qualifying it.
        ("2023年国考实际参考人数", "2023年国考计划招录的3.71万人，同比扩招18.7%。", "", False),
        ("2023年国考实际参考人数", "2023年国考实际参考152万人。", "", True),
        # A heading's list number (2.专业特色) counts nothing.
        ("数学专业目前设有几个方向？", "2.专业特色与亮点", "", False),
        # A rate is said as one: the gap between two rates (6个百分点) is not it.
        ("2013年全国高考平均录取率是多少？", "差距从2013年的6个百分点缩小至4个百分点。", "", False),
        ("2013年全国高考平均录取率是多少？", "2013年全国高考平均录取率为76%。", "", True),
        ("住院报销比例是多少？", "报销七成。", "", True),
        # A fee the question names is no other fee (学费 for 报名费), said in full or not (保险费 for 保费).
        ("艺术类专业测试报名费是多少？", "艺术类学生学费标准为10000元/学年。", "", False),
        ("艺术类专业测试报名费是多少？", "我校专业测试收取报名费100元/生。", "", True),
        ("种小麦一亩保费多少？", "小麦保险费每亩12元。", "", True),
        # ... nor a fund or a grant another (种粮补贴资金 for 衔接资金), nor a sales figure.
        ("2024年衔接资金一共安排了多少钱？", "2024年全县共发放各类种粮补贴资金5418.5万元。", "", False),
        ("2024年衔接资金一共安排了多少钱？", "2024年全县农产品网络零售额达到6.8亿元。", "", False),
        ("2024年衔接资金一共安排了多少钱？", "2024年安排补助资金（简称“衔接资金”）共1.26亿元。", "", True),
        # Which field: a field named (可降解农药领域), not 等领域.
        ("王教授团队在哪个领域取得了突破？", "王教授团队从事光热转换、医用材料等领域的科研工作。", "", False),
        ("王教授团队在哪个领域取得了突破？", "王教授团队在可降解农药领域取得突破。", "", True),
        # 第一个 is no count of several.
        ("古典学实验班从哪些专业选拔学生？", "古典学班是全国第一个古典学本科教学班。", "", False),
        ("古典学实验班从哪些专业选拔学生？", "古典学班从中文、历史、哲学三个专业选拔学生。", "", True),
        # A question without a question word asks for the thing it ends with: a sentence names it.
        ("2022年美国中期选举后众议院多数党？", "2022年美国中期选举涵盖众议院所有435个席位。", "", False),
        ("2022年美国中期选举后众议院多数党？", "2022年美国中期选举后共和党成为众议院多数党。", "", True),
        ("卡塔尔世界杯的冠军", "阿根廷队夺得卡塔尔世界杯冠军。", "", True),
        # A quoted name is a constraint like a title.
        ("文学院的“古代文本文化国际研究中心”由哪位教授领衔？", "文学院由王教授领衔。", "", False),
        (
            "文学院的“古代文本文化国际研究中心”由哪位教授领衔？",
            "文学院古代文本文化国际研究中心由柯马丁教授领衔。",
            "",
            True,
        ),
        # A sentence naming no alliance is about the one its title names.
        (
            "中国自主的知识体系大学联盟成员单位有多少家？",
            "目前有24家成员单位，包括15家正式成员单位和9家观察员单位。",
            "中国人民大学承办世界人文社会科学高校联盟年会",
            False,
        ),
        (
            "中国自主的知识体系大学联盟成员单位有多少家？",
            "目前有60家成员单位。",
            "中国自主的知识体系大学联盟",
            True,
        ),
        (
            "中国自主的知识体系大学联盟成员单位有多少家？",
            "中国的联盟高校成员单位达60家。",
            "中国人民大学承办世界人文社会科学高校联盟年会",
            True,
        ),
        # Another admission programme (高校专项计划) says nothing of the asked one's.
        (
            "国家专项计划定向招收哪些地区的学生？",
            "“圆梦计划”（即高校专项计划）定向招收边远、原贫困、民族等地区的农村学生。",
            "",
            False,
        ),
        (
            "国家专项计划定向招收哪些地区的学生？",
            "国家专项计划定向招收集中连片特殊困难县、国家级扶贫开发重点县的学生。",
            "",
            True,
        ),
        # ... nor another fund (国家自然科学基金) of the asked one (科研发展基金), nor another category's fee.
        (
            "中国人民大学在2023年度世界大学联盟科研发展基金中获得多少项立项？",
            "此外，国家自然科学基金2023年度获得103项，直接费用合计6107.5万元。",
            "",
            False,
        ),
        (
            "中国人民大学在2023年度世界大学联盟科研发展基金中获得多少项立项？",
            "世界大学联盟发布2023年度科研发展基金立项通知，中国人民大学2项研究申请获得立项。",
            "",
            True,
        ),
        ("国家社科基金今年立项多少项？", "2023年国家社会科学基金立项45项。", "", True),
        # ... nor a count beside another fund, where neither the sentence nor its passage names the asked
        # one; a passage naming it (社会科学基金 for 社科基金) dates and names the sentence.
        (
            "中国人民大学在2023年世界大学联盟发布的年度科研发展基金中获得几项立项？",
            "教育部人文社科各类项目立项11项，其中重大专项3项。",
            "此外，国家自然科学基金2023年度获得103项。",
            False,
        ),
        ("国家社科基金今年立项多少项？", "今年共立项45项。", "2023年国家社会科学基金立项结果", True),
        # ... nor a system the question names by what it does (双选认证制度) by another one.
        ("信息学院是否实施双选认证制度？", "信息学院人才培养深化建设实施制度", "", False),
        ("信息学院是否实施双选认证制度？", "信息学院对本科生实施导师双选认证制度。", "", True),
        ("信息学院是否实施双选认证制度？", "实施措施：完善本院内部双选认证主副修制度", "信息学院", True),
        # A list is of the asked kind, named as such in the sentence or beside it: four 专业 are no
        # 合作大学, 人才和领军人物 no 就业方向; things a page names by what they are need no kind word.
        (
            "哲学院的国际交流有哪些合作大学？",
            "哲学院拥有哲学、伦理学、宗教学、PPE4个本科专业。",
            "",
            False,
        ),
        (
            "哲学院的国际交流有哪些合作大学？",
            "哲学院与英国牛津大学、德国柏林洪堡大学建立了交流合作。",
            "",
            True,
        ),
        (
            "哲学院的国际交流有哪些合作大学？",
            "中国人民大学哲学院——中国的哲学、伦理学和宗教学教学科研重镇。",
            "",
            False,
        ),
        # ... and courses under 主要课程： are no 专业 (关系 is no 系); those under 本科专业： are.
        (
            "哲学院有哪些专业？",
            "逻辑与批判性思维、中国哲学、伦理学、国际关系史等。",
            "哲学院  主要课程：",
            False,
        ),
        ("哲学院有哪些专业？", "哲学、伦理学、宗教学。", "哲学院  本科专业：", True),
        ("金融工程专业的就业方向有哪些？", "培养了一批学术人才和领军人物。", "金融工程", False),
        ("金融工程专业的就业方向有哪些？", "量化投资研究员、量化程序员等。", "就业方向", True),
        ("古诗文写作课主要讲授哪些诗体？", "课时安排：导言—诗律、诗韵—对仗—七绝—五绝。", "", True),
        (
            "中国人民大学外语类专业2022年学年的学费是多少？",
            "2022年我校艺术类学生学费标准为10000元/学年。",
            "",
            False,
        ),
        (
            "中国人民大学外语类专业2022年学年的学费是多少？",
            "学费标准：外语类专业每学年6000元，艺术类专业每学年10000元。",
            "中国人民大学2022年本科招生章程",
            True,
        ),
        # A figure among those who did the asked act (在参加四级考试的学生中) counts a part of them.
        (
            "2017年中法学院有多少学生参加四六级考试？",
            "在参加四级考试的学生中，308人通过了考试，总体通过率98.40%。",
            "2017年中法学院",
            False,
        ),
        (
            "2017年中法学院有多少学生参加四六级考试？",
            "2017年6月，中法学院共有359人参加大学英语四六级考试，其中280人参加四级考试。",
            "",
            True,
        ),
        (
            "人文社会科学专业排名中，A+学科的数量是多少？",
            "在人文社会科学专业排名中，人民大学A+学科数量为8个。",
            "",
            True,
        ),
        # A thing named only as part of a package (含…云存储) is not priced by the package's 月费.
        (
            "摄像头录像想存一个月，云存储一个月多钱？",
            "套餐名称：乡村融合88；月费（元/月）：88；包含内容：主卡＋1张副卡，含1路看家摄像头7天云存储",
            "",
            False,
        ),
        (
            "摄像头录像想存一个月，云存储一个月多钱？",
            "云存储套餐：30天循环存储；价格：每路每月25元",
            "",
            True,
        ),
        (
            "含宽带的套餐一个月多少钱？",
            "套餐名称：乡村融合88；月费（元/月）：88；包含内容：含500M宽带",
            "",
            True,
        ),
        # How many did something is counted with the act, not by how many scored in a range.
        (
            "2017年中法学院有多少学生参加四六级考试？",
            "其中500至600分数段的考生有212人，占67.73%。",
            "2017年中法学院",
            False,
        ),
        # Whose view is asked is said with it; a generation (80后) is a class said in the sentence.
        (
            "国学院副院长杨庆中认为国学的意义在于什么？",
            "在副院长杨庆中看来，国学的意义在于回归。",
            "国学院",
            True,
        ),
        ("国学院副院长杨庆中认为国学的意义在于什么？", "重建民族精神内核是远大目标。", "国学院", False),
        # A speaker's own view answers a question asking a view, and no question of fact.
        (
            "国学院特聘教授薛天纬开设的古诗文写作课主要讲授哪些诗体？",
            "我认为，国学院对提升民族文化素养大有意义，能继承优秀传统，增强民族自豪感、自信心。",
            "薛天纬总结说：“素养不是立竿见影的东西。",
            False,
        ),
        (
            "薛天纬认为国学院有什么意义？",
            "我认为，国学院对提升民族文化素养大有意义，能继承优秀传统，增强民族自豪感、自信心。",
            "薛天纬总结说：“素养不是立竿见影的东西。",
            True,
        ),
        # A person asked about is named in the sentence or beside it; one opening with someone else's
        # name is about them, whoever the page is about.
        ("汪建熙是哪个系的毕业生？", "夏成才，后来是中南财经大学会计系主任，数学非常好。", "汪建熙", False),
        ("汪建熙是哪个系的毕业生？", "汪建熙被录取到财政系会计专业。", "", True),
        ("汪建熙是哪个系的毕业生？", "他被录取到财政系会计专业。", "汪建熙", True),
        ("汪建熙是哪个系的毕业生？", "他被录取到财政系会计专业。", "", False),
        # 关系 is no 系, 我们学校 names no school, and a 学院 of a university is not one.
        ("汪建熙是哪个系的毕业生？", "汪建熙认为因果关系要清晰。", "", False),
        (
            "中国人民大学校友邬沧萍中学毕业后上的是哪个大学？",
            "邬沧萍，中国人民大学社会与人口学院教授。",
            "",
            False,
        ),
        (
            "中国人民大学校友邬沧萍中学毕业后上的是哪个大学？",
            "邬沧萍说，我们学校创办了第一个人口学系。",
            "",
            False,
        ),
        (
            "中国人民大学校友邬沧萍中学毕业后上的是哪个大学？",
            "邬沧萍中学毕业后考上了岭南大学。",
            "中国人民大学",
            True,
        ),
        # 谁是…的开拓者 is answered where the 开拓者 is named.
        ("谁是新中国新型高等教育的开拓者？", "新中国新型高等教育的开拓者——吴玉章老校长。", "", True),
        ("谁是新中国新型高等教育的开拓者？", "习近平总书记来到中国人民大学考察。", "", False),
        (
            "谁是新中国新型高等教育的开拓者？",
            "中国人民大学国际关系学院是新中国最早建设的高等教育机构。",
            "",
            False,
        ),
        # Universities are listed each with its kind, or counted: one 大学 among professors lists none.
        (
            "哲学院的国际交流有哪些合作大学？",
            "中国人民大学首批14名一级教授中，哲学院占4位。",
            "哲学院",
            False,
        ),
        ("哲学院的国际交流有哪些合作大学？", "哲学院现与英国牛津大学、比利时根特大学合作。", "", True),
        # A list counted as another kind (三个学科) lists no 专业.
        ("哲学院有哪些专业？", "融会贯通哲学、政治学与经济学三个学科的理论与方法。", "哲学院 专业", False),
        ("哲学院有哪些专业？", "哲学院设有哲学、伦理学、宗教学、逻辑学4个本科专业。", "", True),
        # A list labelled as another kind (英语或法语语种) lists no 专业, whatever 专业 stands before it.
        (
            "哪些语言类专业只招收外语为英语的考生？",
            "法语（中外合作办学）专业只招收英语或法语语种的考生。",
            "",
            False,
        ),
        (
            "哪些语言类专业只招收外语为英语的考生？",
            "我校英语、俄语、日语、德语、法语专业只招收外语为英语语种的考生。",
            "",
            True,
        ),
        # A 方向 of study is no 就业方向.
        (
            "金融工程专业的就业方向有哪些？",
            "◆信息与计算科学方向：以大数据、云计算中的数学方法研究为主。",
            "金融工程专业",
            False,
        ),
        (
            "艺术学院的本科专业有哪些方向？",
            "动画（新媒体方向）、美术学（艺术管理方向）等本科专业。",
            "",
            True,
        ),
        (
            "历史学专业的新兴前沿与交叉方向有哪些？",
            "中国史除保持在秦汉、唐宋、清史、民国史等断代史方向的优势外，大力发展新兴前沿与交叉方向。",
            "",
            False,
        ),
        (
            "历史学专业的新兴前沿与交叉方向有哪些？",
            "生态史、西域历史语言、数字史学、医疗史等新兴前沿与交叉方向蓬勃发展。",
            "",
            True,
        ),
        # A statement asked by its name is said under it; a heading's question answers nothing.
        ("中法学院的办学愿景是什么？", "办学理念：高水平、有特色、国际性。", "中法学院", False),
        ("中法学院的办学愿景是什么？", "办学愿景：打造独树一帜的中外合作办学新高地。", "中法学院", True),
        ("中法学院的办学愿景是什么？", "办学愿景：创立", "中法学院", False),  # a line its chunk cut
        ("中法学院用哪三个语言进行教学？", "中法学院学生有机会推荐免试攻读研究生吗", "", False),
        # A month goes with the year the sentence names.
        ("李文海在1991年6月获得了什么称号？", "1991年被授予“有突出贡献的专家”称号。", "6月 李文海", False),
        ("李文海在1991年6月获得了什么称号？", "他被授予“有突出贡献的专家”称号。", "1991年6月 李文海", True),
        (
            "李文海在1991年6月获得了什么称号？",
            "1991年6月获“全国普通高等学校优秀思想政治工作者”称号。",
            "李文海",
            True,
        ),
        # 是从那些专业 is a slip for 哪些, asking which kind of thing, whatever 进行 stands before.
        (
            "古典学实验班是从那些专业进行学生选拔的？",
            "此后每年均从全校不同专业中选拔学生。",
            "古典学实验班",
            True,
        ),
        (
            "古典学实验班是从那些专业进行学生选拔的？",
            "古典学实验班起步于2009年，是第一个古典学教学班。",
            "",
            False,
        ),
        # A price row sharing no word with the question is another thing's (a phone plan for 云存储).
        (
            "摄像头录像想存一个月，云存储一个月多钱？",
            "套餐名称：乡村惠民卡；月费（元/月）：19；包含内容：1张手机卡",
            "",
            False,
        ),
        (
            "俺自己花钱考了个电工中级证，能补多少钱？",
            "证书等级：中级工（四级）；补贴标准（元/人）：1500",
            "",
            True,
        ),
        # A yes/no question is answered about the act it asks whether, not only the thing it names; jieba
        # reads 村里的公开 as an adverb, still the act asked about.
        ("我不会用智能手机，能在电视上看村里的公开吗？", "项目：IPTV机顶盒；收费标准：免费借用。", "", False),
        ("我不会用智能手机，能在电视上看村里的公开吗？", "按乡村键就能在电视上看村务公开。", "", True),
        ("老人戴的手表，摔倒了会自己打电话吗？", "戴了手表的老人，遇到危险长按SOS键3秒就能呼救。", "", False),
        (
            "老人戴的手表，摔倒了会自己打电话吗？",
            "手表检测到跌倒时会震动，30秒内没有取消的，自动发起呼救。",
            "",
            True,
        ),
        ("文学院的全职教师包括哪位80后青年作家？", "全职教师有阎连科、刘震云等著名作家。", "文学院", False),
        ("文学院的全职教师包括哪位80后青年作家？", "文学院还有80后青年作家张悦然等。", "", True),
        # Counting the kinds (两大类, 专业大类) names none of them.
        ("财政金融学院有哪两个专业大类？", "财政金融学院按经济学类、金融学类两个专业大类招生。", "", True),
        # When something was first done is said with its being the first.
        ("何时首次举办招生录取现场开放日？", "2015年信息学院开放日活动于4月份举办。", "", False),
        ("何时首次举办招生录取现场开放日？", "2014年7月17日，学校首次举办招生录取现场开放日。", "", True),
        # An act of another kind sharing a character (专业测试 for 文化课考试) is another act.
        (
            "2014年高水平运动员的文化课考试时间是几月几日？",
            "专业测试时间为2014年1月11日、12日。",
            "高水平运动队招生简章",
            False,
        ),
        (
            "2014年高水平运动员的文化课考试时间是几月几日？",
            "报到、文化课考试:2014年1月10日。",
            "高水平运动队招生简章",
            True,
        ),
        ("地力补贴是啥时候发到卡上的？", "耕地地力保护补贴于2024年6月25日前全部发放到户。", "", True),
        # A letter grade is a class like 甲类: another grade (A-) or none is no answer.
        ("2023年获评A+的学科有多少个？", "2023年，学校14个一流学科入选“双一流”建设学科名单。", "", False),
        ("2023年获评A+的学科有多少个？", "A-（3个）：中国史、中国语言文学。", "2023年学科评估结果", False),
        (
            "2023年获评A+的学科有多少个？",
            "A+（9个）：理论经济学、应用经济学、法学。",
            "2023年学科评估结果",
            True,
        ),
        # A cohort (2012级) is a class said beside the sentence, not a year a page's date meets.
        (
            "中法学院2012级本科生在TEF/TCF法语水平测试中有几名同学达到A2级别？",
            "TEF/TCF法语水平测试中，46名同学达到B1等级, 1名获A2级。",
            "2013级本科生 中法学院",
            False,
        ),
        (
            "中法学院2012级本科生在TEF/TCF法语水平测试中有几名同学达到A2级别？",
            "中法学院2012级本科生TEF/TCF法语水平测试中，3名同学达到A2级。",
            "中法学院",
            True,
        ),
        # A school's founding is not its subject's beginning.
        (
            "中国人民大学数学学院于何年成立？",
            "中国人民大学数学学科最早可追溯到1950年，自创立以来，坚持发挥学校人文社科学科优势。",
            "中国人民大学数学学院",
            False,
        ),
        ("中国人民大学数学学院于何年成立？", "2019年，中国人民大学数学学院成立。", "", True),
        ("中国人民大学数学学院于何年成立？", "2014年成立数学科学研究院。", "中国人民大学", False),
        # Whether it was the first is said with its being the first.
        (
            "中国人民大学马克思主义学院是全国最早开设马克思主义理论本科专业的学院吗？",
            "学院培养具有系统的马克思主义理论知识的复合型人才。",
            "中国人民大学马克思主义学院",
            False,
        ),
        (
            "中国人民大学马克思主义学院是全国最早开设马克思主义理论本科专业的学院吗？",
            "马克思主义学院是全国最早开设马克思主义理论本科专业的学院之一。",
            "中国人民大学马克思主义学院",
            True,
        ),
        # ... the first of the asked act (开设), not first among another kind (首批重点学院).
        (
            "中国人民大学马克思主义学院是全国最早开设马克思主义理论本科专业的学院吗？",
            "马克思主义学院是国家首批重点马克思主义学院。",
            "中国人民大学马克思主义学院",
            False,
        ),
        # A theme is said as one, of the whole event, not of one of its parts.
        ("第二届学术年会的主题是什么？", "第二届学术年会分会场二主题为“课题进展汇报”。", "", False),
        ("第二届学术年会的主题是什么？", "召开第二届学术年会，共话健康中国，具有重要意义。", "", False),
        ("第二届学术年会的主题是什么？", "第二届学术年会以“共筑健康中国”为主题召开。", "", True),
        # A post asked for is a title the question does not already give.
        ("乌云毕力格教授的现任职务是什么？", "被聘为波恩大学蒙古学教授。", "", False),
        ("乌云毕力格教授的现任职务是什么？", "现任西域历史语言研究所副所长。", "", True),
        # 何年 asks for a year.
        ("数学学院于何年成立？", "数学学院是学校的重点学院。", "", False),
        ("数学学院于何年成立？", "数学学院于2019年成立。", "", True),
        # What a named thing is: said by a sentence saying what it is, not one only mentioning it.
        ("俄罗斯瓦格纳是什么", "2023年，俄罗斯授予参与战斗的瓦格纳合同工退伍军人地位。", "", False),
        ("俄罗斯瓦格纳是什么", "瓦格纳集团（Wagner Group）是俄罗斯的一家私营军事公司。", "", True),
        ("俄罗斯瓦格纳是什么", "这家公司由普里戈任创办。", "", False),
        ("什么是ChatGPT？", "各大公司都在追赶ChatGPT的热潮。", "", False),
        ("什么是ChatGPT？", "ChatGPT是一个对话式语言模型。", "", True),
        # One like ChatGPT is not ChatGPT.
        ("百度推出的类ChatGPT是什么？", "ChatGPT是一个对话式语言模型。", "", False),
        ("百度推出的类ChatGPT是什么？", "百度的类ChatGPT产品名为“文心一言”。", "", True),
        # How many organisations or items (多少家, 几项): counted in that measure, not in people.
        ("联盟成员单位有多少家？", "联盟成员高校主要负责同志等70余人参加会议。", "", False),
        ("联盟成员单位有多少家？", "目前联盟高校成员单位达60家。", "", True),
        ("学校获得优秀成果奖几项？", "学校本次入选25项获奖成果。", "", True),
        # An amount asked per 亩, 只 or night is stated per that unit: a price per 亩 is none per 只.
        ("养羊能买保险不？一只羊保费多少钱？", "险种：水稻完全成本保险；保险费：每亩40元。", "", False),
        ("养羊能买保险不？一只羊保费多少钱？", "险种：能繁母猪保险；保险费：每头90元。", "", False),
        ("养羊能买保险不？一只羊保费多少钱？", "险种：肉羊保险；保险费（元/只）：20。", "", True),
        ("新塘村的民宿住一晚上多少钱？", "引进民宿经营者12家，2024年旅游收入1380万元。", "", False),
        ("新塘村的民宿住一晚上多少钱？", "新塘村民宿每晚150元起。", "", True),
        # 一平 is a villager's square metre: a yearly fee per person prices no house.
        ("县城里的商品房现在多少钱一平？", "2025年度个人缴费标准为每人每年400元。", "", False),
        ("县城里的商品房现在多少钱一平？", "县城商品房均价每平方米5200元。", "", True),
        # A monthly sum given is no yearly limit, nor a price paid after a discount.
        ("五保户现在一个月给多少钱？", "2025年特困人员基本生活标准为每人每月1144元。", "", True),
        ("五保户现在一个月给多少钱？", "特困人员救助比例100%，年度救助限额5万元。", "", False),
        (
            "五保户现在一个月给多少钱？",
            "特困人员家庭办理单宽带300M，享受5折优惠，每月20元。",
            "",
            False,
        ),
        ("五保户现在一个月给多少钱？", "特困人员享受优惠政策，每人每月补助1144元。", "", True),
        # How long: a span or how often, of the act asked about (放款, 批下来 as 审批 or 办结).
        ("一次性创业补贴交了申请多久能批下来？", "给予一次性创业补贴5000元，每户一次。", "", False),
        ("低保申请多久能批下来？", "低保申请原则上在30个工作日内办结。", "", True),
        ("多久能放款？", "贷款期限最长3年。", "", False),
        ("多久能放款？", "自受理之日起7个工作日内放款。", "", True),
        ("村里的账多久公开一次？", "村集体财务每月公开1次。", "", True),
        ("村里的账多久公开一次？", "2025年村集体财务公开内容包括收入和支出。", "", False),
        # How often someone comes to see (看) or something is changed (换), as the documents say it.
        ("网格员多久去看一次独居老人？", "每月至少走访本网格内的独居老人1次。", "", True),
        ("网格员多久去看一次独居老人？", "手表默认每10分钟定位一次。", "", False),
        ("密码多久得换一回？", "密码每90天必须更换一次。", "", True),
        ("密码多久得换一回？", "紧急事件网格员10分钟内响应。", "", False),
        # A date (9月1日至10月31日) is no span.
        ("补助资金多久能到？", "秋季学期于9月1日至10月31日申报。", "", False),
        ("补助资金多久能到？", "补助资金在申报截止后60日内发放到社会保障卡。", "", True),
        # 才能报 after 多久 is as often 报销 as 申报: the span need not stand beside either.
        ("医保断了两年，再交要等多久才能报？", "参保后有3个月的固定待遇等待期。", "城乡居民医保问答", True),
        # The part an actor plays is named beside 饰演, not anyone near 导演 or 演员.
        (
            "狂飙中的张颂文演的谁？",
            "张颂文与周一围去剧组递名片，导演们正在讨论什么样的人不适合当演员。",
            "",
            False,
        ),
        ("狂飙中的张颂文演的谁？", "张颂文在《狂飙》中饰演高启强。", "", True),
        # A subsidiary's or a segment's figure is not the company's; a number another figure names right
        # before it is that figure's.
        ("网易2022年全年营收多少？", "2022年网易有道净收入为50.13亿元。", "", False),
        ("网易2022年全年营收多少？", "2022年网易游戏收入为700亿元。", "", False),
        ("网易2022年全年营收多少？", "网易2022全年研发投入超过150亿元。", "", False),
        ("网易2022年全年营收多少？", "2022年网易公司实现营收965亿元。", "", True),
        ("2023年高考报名人数是多少？", "2023年高考全国报名人数为1291万人。", "", True),
        ("网易2022年全年营收多少？", "网易2022年研发投入150亿元，全年净收入965亿元。", "", True),
        # A common noun asked about (办学愿景, 职务) need not be repeated by the sentence answering it.
        ("乌云毕力格教授的现任职务是什么？", "乌云毕力格现任国学院西域历史语言研究所副所长。", "", True),
        ("健康中国学术年会的主题是什么？", "年会以“共筑健康中国”为主题在人民大学召开。", "", True),
    ],
)
def test_a_sentence_answers_only_what_it_states(
    question: str, sentence: str, context: str, expected: bool
) -> None:
    assert says(question, sentence, context) is expected


def test_the_passage_dates_and_names_a_sentence_that_holds_no_other_year() -> None:
    question = "桃源村2025年的图书室几点开门？"
    asked = read_question(question)
    passage = "日期：2025-03-01 桃源村文化礼堂介绍。图书室每天上午8点开门。2019年图书室晚上9点关门。"
    assert answers(asked, question, "图书室每天上午8点开门。", "", passage)
    assert not answers(asked, question, "2019年图书室晚上9点关门。", "", passage)
    assert not answers(asked, question, "日期：2025-03-01", "", passage), "a page's date line is no answer"


def test_a_page_date_does_not_date_the_history_it_recalls() -> None:
    question = "2014年，中国人民大学的校长是谁？"
    asked = read_question(question)
    page = "日期：2014-05-23\n李文海：历史离我们并不遥远"
    recalled = "中央同意宝华同志不再担任中国人民大学校长，校长一职由黄达同志接任。"
    assert not answers(asked, question, recalled, "", page)
    assert not answers(asked, question, "黄达同志任校长，这在人大历史上是一个很重要的变化。", "", page)
    current = "中国人民大学校长陈雨露出席开学典礼并讲话。"
    assert answers(asked, question, current, "", "日期：2014-09-01\n开学典礼")


def test_a_title_naming_another_year_dates_a_sentence_before_its_page_does() -> None:
    question = "2015年英语保送生招生计划人数是多少？"
    asked = read_question(question)
    passage = "日期：2015\n英语：计划20人；"
    assert not answers(asked, question, "英语：计划20人；", "2016年外语类保送生招生简章", passage)
    assert answers(asked, question, "英语：计划20人；", "外语类保送生招生简章", passage)


def test_a_yes_no_question_asks_for_no_thing_it_names() -> None:
    assert read_question("地租给别人种，要不要签合同？").subject == ""
    assert read_question("请人用机器插秧，有补贴没有？").subject == ""
    assert read_question("2022年金鹰奖最佳电视剧").subject == "电视剧"


def test_a_place_the_question_names_is_no_answer_where_its_name_is_no_constraint() -> None:
    """The collection's own name (中国人民大学) is no constraint on a university's pages, and still no
    answer to where its campus is."""
    question = "中法学院所在的中国人民大学苏州校区位于哪里？"
    asked = without_names(read_question(question), ["中国人民大学"])
    assert not answers(
        asked, question, "中法学院位于中国人民大学苏州校区，立足长三角前沿的科教创新区。", "中法学院"
    )
    assert answers(asked, question, "中国人民大学苏州校区位于江苏省苏州市独墅湖科教创新区。", "中法学院")


def test_which_one_is_not_where() -> None:
    assert read_question("2023年张三在哪个球队？").kinds == {"which"}, "which team, not where"
    assert read_question("第几届丰收节在哪一届评选中获奖？").kinds == frozenset()
    assert read_question("丰收节在哪个城市举办？").kinds == {"place"}
    assert read_question("丰收节在哪举办？").kinds == {"place"}
    assert read_question("集中在哪些领域？").kinds == {"list"}
    assert read_question("哪些人可以申请低保？").kinds == frozenset(), "who may apply is asked by conditions"


def test_questions_of_a_kind_that_cannot_be_checked_are_left_to_the_other_checks() -> None:
    for question in ("怎么申请？", "要带什么材料？"):
        asked = read_question(question)
        assert not asked.checkable
        assert answerable(asked, question, [("请向村委会提出书面申请。", "", "")])
    # A benefit named by its kind alone is still a constraint on the passage.
    question = "养老保险可以断缴吗？"
    asked = read_question(question)
    assert answerable(asked, question, [("中断缴费的，可以补缴。", "", "城乡居民养老保险 缴费")])
    assert not answerable(asked, question, [("请向村委会提出书面申请。", "", "")])


@pytest.mark.parametrize(
    ("question", "sentence", "context", "expected"),
    [
        # Named beside the sentence, by the section it stands in.
        ("低保怎么申请？", "请向村委会提出书面申请。", "第三条 低保申请", True),
        ("低保怎么申请？", "请向村委会提出书面申请。", "第五条 宅基地审批", False),
        ("二轮承包到期了，我家的地还是我的吗？", "第二轮土地承包到期后再延长30年。", "", True),
        (
            "二轮承包到期了，我家的地还是我的吗？",
            "以第二轮土地承包面积和农村土地承包经营权确权登记面积为基础，结合年度核实情况确定。",
            "",
            False,
        ),
        # A bare kind of benefit names no subject: the thing subsidised must be named.
        ("请人用机器插秧，有补贴没有？", "开展水稻机械化育插秧作业的，每亩补贴30元。", "", True),
        ("请人用机器插秧，有补贴没有？", "补贴统一打到社会保障卡上。", "", False),
        # Raising a thing is said by the thing: a table row's 牛.
        ("脱贫户养牛有补助吗？", "产业类别：牛；奖补条件：年末存栏1头以上；奖补标准：每头1000元", "", True),
        (
            "脱贫户养牛有补助吗？",
            "脱贫劳动力参加免费职业技能培训的，按每天60元给予生活费补助。",
            "",
            False,
        ),
        # The very benefit asked names the subject, whatever the villager's own words (打工, 农家乐).
        (
            "我打工回村开个农家乐，有创业补贴吗？",
            "返乡农民工在本县农村首次创办家庭农场的，给予一次性创业补贴5000元。",
            "",
            True,
        ),
        # Which benefit, its kind and for whom (老人) are no subject: the benefit is checked as such.
        ("老人高龄补贴90岁以上的呢？", "年龄段：90至99周岁；津贴标准（元/人·月）：200", "高龄津贴", True),
        # The normaliser's added word for a bare kind (基础养老金) is no subject of its own.
        (
            "养老金每年要认证,怎么弄? 基础养老金",
            "在首页点击“待遇资格认证”。",
            "第三课：养老金领取资格认证",
            True,
        ),
        # Nor are the documents' words it adds for a benefit (耕地地力保护补贴 for 种粮补贴); and money
        # besides the benefit named (另外) is not that benefit.
        (
            "种粮补贴种早稻还另外有钱吗? 耕地地力保护补贴",
            "补贴项目：耕地地力保护补贴；2024年标准：每亩105元；补贴面积（万亩）：31.2",
            "青溪县2024年种粮补贴发放情况通报",
            False,
        ),
        (
            "种粮补贴种早稻还另外有钱吗? 耕地地力保护补贴",
            "品种：早稻；补贴标准：每亩60元；申报时间：2025年6月10日至6月30日",
            "青溪县2025年种粮补贴实施方案 三、稻谷补贴",
            True,
        ),
        # 二轮 is the 第二轮: another thing coming to its end (宽带到期) is no answer.
        (
            "二轮承包到期了，我家的地还是我的吗？",
            "运营商工作人员不会以“宽带到期”“套餐升级”为由要求转账。",
            "",
            False,
        ),
        ("二轮承包到期了，我家的地还是我的吗？", "二轮承包到期后再延长30年。", "", True),
        # Whether one pays is answered by what is paid, or that nothing is; not by a sum paid to one.
        ("批宅基地要交钱吗？", "宅基地和建房（规划许可）审批不收取任何费用。", "", True),
        ("批宅基地要交钱吗？", "农村村民一户只能拥有一处宅基地。", "", False),
        (
            "批宅基地要交钱吗？",
            "自愿退出的，由村集体经济组织给予补偿，补偿标准参照每平方米宅基地100元至300元。",
            "",
            False,
        ),
        # Whether a named sum is paid (有没有丧葬费) is answered by the sum, in the documents' words
        # (丧葬补助金), not by what to do on the occasion it is paid for.
        (
            "领养老金的老人去世了，有没有丧葬费？",
            "领取高龄津贴的老人去世的，家属应当在1个月内告知村民委员会，停发次月起的津贴。",
            "一、高龄津贴 （四）注意事项",
            False,
        ),
        (
            "领养老金的老人去世了，有没有丧葬费？",
            "参保人员死亡的，一次性支付丧葬补助金1500元。",
            "养老保险待遇",
            True,
        ),
        ("五保户有抚恤金没有？", "特困人员去世的，由村委会协助办理后事。", "", False),
        # Where a thing is kept (手机上的) is no subject of its own; how to get it is not said by what
        # must not be done with it, nor by a question-and-answer sheet's bare verdict.
        (
            "手机上的医保卡咋弄出来？",
            "在手机上下载“国家医保服务平台”APP，用本人身份证完成实名注册和人脸识别；",
            "第二十七条 异地就医备案办理步骤",
            False,
        ),
        ("手机上的医保卡咋弄出来？", "任何单位和个人不得将医保卡出租、出借。", "", False),
        ("手机上的医保卡咋弄出来？", "是诈骗。", "打电话接到“医保卡被冻结”是真的吗？", False),
        (
            "手机上的医保卡咋弄出来？",
            "打开微信，在顶部搜索框输入“医保电子凭证”；",
            "第四课：激活医保电子凭证 医保电子凭证就是手机上的“医保卡”",
            True,
        ),
        # A menu entry naming the service tells no way to do it.
        (
            "养老金每年要认证，咋弄？",
            "社保服务：城乡居民养老保险缴费、养老金领取资格认证（跳转人社部门认证页面）",
            "村级服务平台 > 主要栏目",
            False,
        ),
        ("养老金每年要认证，咋弄？", "可以用“江南人社”APP刷脸认证。", "养老金领取资格认证", True),
        # How it went is no how-to: a sentence with no step may say it.
        ("柳湾村给老人发守护手表，效果咋样？", "已有3位独居老人跌倒后及时获救。", "守护手表 柳湾村", True),
        # The benefit says only whose; the act (认证) is what the question is about.
        (
            "养老金每年要认证，咋弄？",
            "补贴查询：输入身份证号码后，可以查询各类补贴的发放金额和到账时间。",
            "村级服务平台 养老金",
            False,
        ),
        ("医保卡借给别人用会怎么处罚？", "出租出借医保卡的，由医疗保障部门追回资金并依法处理。", "", True),
        (
            "耕地地力保护补贴怎么发？",
            "补贴资金通过社会保障卡直接发放到户，不得以现金发放。",
            "2025年耕地地力保护补贴问答",
            True,
        ),
        # The documents' words the normaliser appends (流转 租金) ask nothing: no sum is asked here; and a
        # villager's verb glued to its object (签合同) is said with words between (签订书面流转合同).
        (
            "地租给别人种,要不要签合同? 流转 租金",
            "土地经营权流转期限为一年以上的，当事人双方应当签订书面流转合同。",
            "第三章 土地经营权流转 > 第十一条",
            True,
        ),
        (
            "地租给别人种,要不要签合同? 流转 租金",
            "流转价款由双方协商确定。",
            "第三章 土地经营权流转 > 第十三条",
            False,
        ),
    ],
)
def test_a_question_asking_no_kind_of_fact_is_answered_about_its_subject(
    question: str, sentence: str, context: str, expected: bool
) -> None:
    assert not read_question(question).kinds
    assert says(question, sentence, context) is expected


def test_an_asked_phone_number_is_read_as_such_and_never_refuses() -> None:
    asked = read_question("医保电话多少？")
    assert asked.kinds == {"phone"}, "a phone number is no amount"
    # Contact lines close a document, often outside the matched chunk; the hand-off gives a number.
    assert answerable(asked, "医保电话多少？", [("可以拨打县医疗保障服务中心电话办理。", "", "")])


def test_an_answer_to_a_phone_question_must_hold_a_number() -> None:
    asked = read_question("防返贫的热线电话是多少？")
    assert misses_the_number(asked, "通过小程序防返贫一键申报为家里提交了申请[1]。")
    assert not misses_the_number(asked, "防返贫监测热线：0571-86201999（24小时受理）[1]。")
    # A number, but another office's: neither its sentence nor its document names the asked topic.
    weather = read_question("县气象局的电话是多少？")
    platform = ["青溪数字乡村平台使用手册"]
    assert misses_the_number(weather, "客服电话：0571-86258000[1]。", ["气象局"], platform)
    assert not misses_the_number(weather, "县气象局值班电话：0571-86201111[1]。", ["气象局"], platform)
    assert not misses_the_number(
        asked, "咨询电话：0571-86201999（24小时受理）[1]。", ["返贫"], ["巩固拓展脱贫成果防返贫监测帮扶办法"]
    )
    # The documents' word for the villager's counts: 新农合 is 城乡居民医保 in the document's title.
    assert not misses_the_number(
        read_question("新农合的电话是多少？"),
        "咨询电话：0571-86213300（青溪县医疗保障服务中心）[1]。",
        ["新农合"],
        ["青溪县城乡居民医保政策问答（2025年版）"],
    )
    # A second question beside it (去哪里办) may be answered without a number.
    two = read_question("医保的事去哪里办？电话多少？")
    assert not misses_the_number(two, "到乡镇便民服务中心办理[1]。")
    # ... but not with another office's number.
    other = "在乡镇卫生院挂号时打开二维码[1]。客服电话：0571-86258000[2]。"
    assert misses_the_number(two, other, ["医保"], ["青溪数字乡村平台使用手册"])
    assert not misses_the_number(two, other, ["医保"], ["青溪县城乡居民医保政策问答"])


def test_an_amount_answer_from_passages_that_never_name_the_asked_thing_is_about_something_else() -> None:
    asked = read_question("社保卡丢了补办一张要交多少钱？")
    watch = "宽带5G套餐手册 五、老人手表 另外需要一张手表卡，每月10元，含1GB流量和100分钟通话。"
    assert about_something_else(asked, ["社保卡"], [watch])
    assert not about_something_else(asked, ["社保卡"], [watch, "社会保障卡 补换卡 社保卡补办工本费20元。"])
    # The documents' word for the villager's counts (新农合 -> 城乡居民医保), and only amounts are judged.
    premium = "城乡居民医保政策问答 一、缴费 2025年度个人缴费标准为每人每年400元。"
    assert not about_something_else(read_question("新农合今年一个人交多少钱？"), ["新农合"], [premium])
    assert not about_something_else(read_question("社保卡丢了去哪补办？"), ["社保卡"], [watch])


def test_a_time_or_span_from_passages_that_never_name_the_asked_thing_is_about_something_else() -> None:
    homestead = "农村宅基地管理办法 第十条 批准建房后，申请人应当在批准之日起1年内开工、2年内竣工。"
    dibao = "最低生活保障实施办法 三、审批 乡镇人民政府自受理低保申请之日起20个工作日内作出审核决定。"
    how_long = read_question("低保申请交上去，多久能批下来？")
    assert about_something_else(how_long, ["低保"], [homestead])
    assert not about_something_else(how_long, ["低保"], [homestead, dibao])
    assert about_something_else(read_question("低保什么时候发？"), ["低保"], [homestead])


def test_villagers_words_are_not_taken_for_names() -> None:
    for question in (
        "俺家老汉是二级残疾，护理补贴一个月给多钱？",
        "村里那个积分啥时候清零？清零前能换东西不？",
    ):
        assert read_question(question).names == ()
    # jieba's dictionary calls 高水平 a name; its 水平 is a word of its own. 汪建熙 is found in context.
    assert read_question("2021年高水平运动队招生报名需要提供哪些材料？").people == ()
    assert read_question("汪建熙是哪个系的毕业生？").people == ("汪建熙",)


def test_two_questions_in_one_are_answerable_when_each_is_answered_somewhere() -> None:
    question = "丰收节什么时候开幕？在哪里办？"
    asked = read_question(question)
    assert asked.kinds == {"time", "place"}
    when = ("丰收节9月23日开幕。", "", "")
    where = ("丰收节在桃源村文化广场举办。", "", "")
    assert answerable(asked, question, [when, where])
    assert not answerable(asked, question, [when])


FESTIVAL = """# 青溪县第五届农民丰收节

第五届农民丰收节在桃源村文化广场举办，全县12个乡镇的种粮大户参加展评。

丰收节设置农产品展销、农耕体验和文艺演出三个板块，欢迎群众带孩子参加。

展销区免费为本县农户提供摊位，每户限一个，报名电话0571-86300123。
"""


@contextmanager
def assistant_over(
    tmp_path: Path, embeddings: Embeddings, files: dict[str, str], **options: Any
) -> Iterator[Assistant]:
    """An assistant over a knowledge base of `files` (name -> text), with settings `options`."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", **options)
    kb = KnowledgeBase(settings, embeddings)
    ingest(kb, [docs])
    yield Assistant(settings, knowledge_base=kb, sessions=SessionStore(tmp_path / "sessions.sqlite3"))
    kb.close()


@pytest.fixture
def festival(tmp_path: Path, embeddings: Embeddings) -> Iterator[Assistant]:
    with assistant_over(tmp_path, embeddings, {"festival.md": FESTIVAL}) as assistant:
        yield assistant


def test_on_topic_passages_without_the_asked_fact_are_refused(festival: Assistant) -> None:
    where = festival.ask("第五届农民丰收节在哪里举办？")
    assert not where.refused and "桃源村文化广场" in where.answer
    when = festival.ask("第五届农民丰收节什么时候举办？")
    assert when.refused, when.answer
    phone = festival.ask("丰收节展销区报名电话是多少？")
    assert not phone.refused and "0571-86300123" in phone.answer


def test_a_phone_question_the_documents_hold_no_number_for_is_refused(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    coop = (
        "# 桃源村农机合作社\n\n桃源村农机合作社为村民提供机耕、机收服务，机耕每亩收费80元。\n\n"
        "农机合作社有拖拉机6台、收割机2台，农忙时每天早上7点出工。\n"
    )
    with assistant_over(tmp_path, embeddings, {"coop.md": coop}) as assistant:
        assert not assistant.ask("农机合作社机耕每亩收费多少？").refused
        # The passages are about the co-operative, but no number to call is in them.
        phone = assistant.ask("农机合作社的电话是多少？")
        assert phone.refused, phone.answer


def test_a_phone_question_reads_the_contact_line_that_closes_the_document(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    articles = [
        "第一条 为做好2025年农机作业补贴发放工作，保障种粮农户利益，根据上级有关文件精神，结合本县实际，制定本办法。",
        "第二条 农户对补贴面积或金额有疑问的，可先找村民委员会核对，村民委员会应当在五个工作日内答复并说明理由。",
        "第三条 机耕、机收作业补贴标准为每亩20元，由乡镇按实际作业面积核定后，通过社会保障卡发放到户。",
        "第四条 作业面积由乡镇农业综合服务中心组织核查，核查结果在村务公开栏公示不少于七天，接受群众监督。",
        "第五条 弄虚作假、虚报冒领补贴资金的，一经查实，追回已发放资金，并取消该户下一年度补贴资格。",
        "第六条 本办法由县农业农村局负责解释，自发布之日起施行，有效期至2025年12月31日。",
        "附：咨询电话0571-86300188（县农业农村局农机科，工作日8:30—17:30）",
    ]
    plan = "# 青溪县2025年农机作业补贴发放办法\n\n" + "\n\n".join(articles) + "\n"
    files = {"machinery-subsidy.md": plan}
    with assistant_over(tmp_path, embeddings, files, answer_passages=2, read_big=False) as assistant:
        answer = assistant.ask("农机作业补贴有疑问找村里核对，核对不了打哪个电话？")
        assert not answer.refused and "0571-86300188" in answer.answer, answer.answer
        assert any("0571-86300188" in c.quote for c in answer.citations)


def test_the_extractive_composer_quotes_only_sentences_that_state_the_asked_fact() -> None:
    composer = ExtractiveComposer()
    items = evidence(
        "2024年城乡居民医保个人缴费标准为每人每年380元，缴费期为上一年9月至12月。",
        "2025年度个人缴费标准为每人每年400元，财政补助不低于700元。",
        title="青溪县城乡居民医保政策问答",
    )
    draft = composer.compose("2025年城乡居民医保个人一年交多少钱？", items)
    assert "400元" in draft.text and "380元" not in draft.text
    refused = composer.compose("2026年城乡居民医保个人一年交多少钱？", items)
    assert refused.refused, refused.text


def test_a_web_pages_furniture_is_never_quoted() -> None:
    items = evidence(
        "人大国学馆介绍\n更新时间：2014-01-23\n点击数：20757\n国学馆于2010年开工，2012年建成开馆。",
        title="人大国学馆",
    )
    assert [s for s in sentences_of(items[0].text) if "点击" in s or "更新" in s] == []
    draft = ExtractiveComposer().compose("国学馆哪一年建成的？", items)
    assert "2012年" in draft.text and "2014-01-23" not in draft.text and "20757" not in draft.text


def test_an_encyclopaedias_reference_marks_are_not_read_as_citations() -> None:
    """蒋万安当选台北市市长[32] quoted with its mark would cite a passage [32] that was never retrieved,
    and the answer check would refuse it."""
    items = evidence("2022年11月26日，蒋万安当选台北市市长[32]，成为历任最年轻市长。", title="台北市市长")
    draft = ExtractiveComposer().compose("2022年谁当选台北市市长？", items)
    assert "蒋万安" in draft.text and "[32]" not in draft.text, draft.text
    assert check(draft, items).ok


def test_a_list_question_is_answered_with_the_enumeration() -> None:
    items = evidence(
        "本科生招生网推出在线职业测评模块，免费提供职业生涯测评服务，帮助考生认识自我。"
        "该系统分为兴趣测评、性格测评、能力测评、学科兴趣测评四个部分。",
        title="职业测评上线",
    )
    draft = ExtractiveComposer().compose("职业测评服务包括哪些测评？", items)
    assert "兴趣测评、性格测评" in draft.text, draft.text


SUBJECT_DOCS = {
    "medical.md": "# 城乡居民医保缴费\n\n2025年城乡居民医保个人缴费标准为每人每年400元，财政补助不低于700元。\n",
    "safety.md": "# 平安乡村建设回顾\n\n2022年全县盗窃案件比上年下降41%，群众安全感明显提高。\n",
    "grain.md": "# 种粮补贴\n\n2025年耕地地力保护补贴标准为每亩110元，补贴资金直接打到农户一卡通。\n",
    "pension.md": "# 城乡居民养老保险\n\n基础养老金标准为每人每月260元，年满60周岁即可按月领取。\n",
    "broadband.md": "# 乡村宽带\n\n单宽带300M套餐每月40元，单宽带500M套餐每月60元，可到营业厅办理。\n",
    "dibao.md": "# 低保申请\n\n共同生活的家庭成员人均月收入低于880元的本县户籍居民，可以申请低保。\n",
}


@pytest.fixture
def county(tmp_path: Path, embeddings: Embeddings) -> Iterator[Assistant]:
    with assistant_over(tmp_path, embeddings, SUBJECT_DOCS) as assistant:
        yield assistant


def test_the_answer_comes_from_passages_about_the_questions_subject(county: Assistant) -> None:
    # The 医保 notice has no 2022 figure; the crime report's 2022 figure answers another question.
    wrong_year = county.ask("2022年医保一个人交多少钱？")
    assert wrong_year.refused, wrong_year.answer
    assert "41%" not in wrong_year.answer
    right = county.ask("2025年医保一个人交多少钱？")
    assert not right.refused and "400元" in right.answer
    # A bare 补贴 says nothing of what it is for: the 耕地地力保护补贴 prices no drone.
    drone = county.ask("买个打药的无人机，能补贴多少？")
    assert drone.refused, drone.answer


def test_a_sum_is_answered_from_passages_naming_its_subject_in_the_documents_words(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    machinery = "# 农机购置补贴\n\n植保无人驾驶航空器（药箱容量20升及以上）每台补贴6000元。\n"
    with assistant_over(
        tmp_path, embeddings, {"grain.md": SUBJECT_DOCS["grain.md"], "machinery.md": machinery}
    ) as assistant:
        drone = assistant.ask("买个打药的无人机，能补贴多少？")
    assert not drone.refused and "6000" in drone.answer, drone.answer


def test_the_subject_is_what_the_best_passage_is_headed_with() -> None:
    notice = evidence(
        "补贴对象原则上为拥有耕地承包权的种地农民。",
        title="青溪县2025年耕地地力保护补贴实施方案",
        section="一、补贴对象",
    )
    amount = evidence(
        "2025年耕地地力保护补贴标准为每亩110元。",
        title="青溪县2025年耕地地力保护补贴实施方案",
        section="二、标准",
    )
    hits = [notice[0].hit, amount[0].hit]
    chunks = {"种地": 2, "补贴": 60}

    def counts(terms: Iterable[str]) -> dict[str, int]:
        return {t: chunks.get(t, 0) for t in terms}

    # 种地 is rarer, but only an aside of the best passage's text: the passages stay about 补贴.
    term = subject("种地的补贴今年一亩给多少钱？", hits, counts, 344)
    assert term == "补贴"
    assert about(term, hits) == hits


INSURANCE = """# 青溪县2025年政策性农业保险

| 险种 | 保险金额（元/亩） | 保险费（元/亩） | 农户自缴（元/亩） |
|---|---|---|---|
| 水稻完全成本保险 | 1000 | 40 | 8 |
| 玉米完全成本保险 | 800 | 32 | 6.4 |

在乡镇农业综合服务中心投保。

在县里干活被欠了工钱的，可拨打劳动保障监察电话0571-86300456投诉。
"""


def test_a_question_naming_a_thing_no_document_mentions_is_refused(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    with assistant_over(tmp_path, embeddings, {"insurance.md": INSURANCE}) as assistant:
        rice = assistant.ask("种水稻能买政策性农业保险不？一亩保费多少？")
        assert not rice.refused and "40" in rice.answer, rice.answer
        # The rice and maize rows answer another crop, however well they cover the rest.
        citrus = assistant.ask("种柑橘能买政策性农业保险不？一亩保费多少？")
        assert citrus.refused, citrus.answer
        assert "柑橘" in citrus.unknown_terms
        # Where something happened is not what is asked about (no document mentions a 工地 either).
        wages = assistant.ask("在县里工地干活被欠了工钱，打啥电话投诉？")
        assert not wages.refused and "0571-86300456" in wages.answer, wages.answer
        # A name jieba does not know comes as single characters (孝老卡), and no passage holds it.
        card = assistant.ask("县里的孝老卡一年保费多少？")
        assert card.refused, card.answer
        assert "孝老卡" in card.unknown_terms


def test_a_span_of_another_application_is_no_answer_however_the_subject_is_misspelt(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    docs = {
        "homestead.md": "# 宅基地审批\n\n批准建房后，申请人应当在批准之日起1年内开工、2年内竣工。\n",
        "dibao.md": SUBJECT_DOCS["dibao.md"],
    }
    with assistant_over(tmp_path, embeddings, docs) as assistant:
        dibao = assistant.ask("低宝申请交上去，多久能批下来？")
        assert dibao.refused, dibao.answer
        assert dibao.standalone_question.startswith("低保申请"), "the misspelt word is read as the documents'"
        homestead = assistant.ask("宅基地批下来以后多久要开工？")
        assert not homestead.refused and "1年内开工" in homestead.answer, homestead.answer


def test_where_one_goes_is_not_what_a_span_is_of(tmp_path: Path, embeddings: Embeddings) -> None:
    # 乡里 names the 乡镇 the 低保 notice names too; the span asked is the 宅基地's, which no passage holds.
    dibao = "# 低保申请\n\n乡镇人民政府受理低保申请后，原则上在30个工作日内办结。\n"
    homestead = "# 宅基地申请\n\n宅基地申请须在村民小组公示，公示期满报乡镇人民政府。\n"
    with assistant_over(tmp_path, embeddings, {"dibao.md": dibao, "homestead.md": homestead}) as assistant:
        asked = assistant.ask("宅基地申请交上去，乡里多少天给批下来？")
        assert asked.refused, asked.answer
        dibao_asked = assistant.ask("低保申请交上去，乡里多少天给批下来？")
        assert not dibao_asked.refused and "30个工作日" in dibao_asked.answer, dibao_asked.answer


def test_a_span_asked_under_a_condition_is_answered_under_it(tmp_path: Path, embeddings: Embeddings) -> None:
    # A test broadcast's minute is no answer to how long the speakers sound in a power cut.
    faq = (
        "# 云广播常见问题\n\n每月第一个星期一上午10:00是云广播系统试播，会播放约1分钟的测试提示音。\n\n"
        "遇到停电要及时报修。\n"
    )
    battery = "# 云广播音柱\n\n停电时音柱内置蓄电池可以继续工作约8小时。\n"
    assert conditions("停电了村村响还能响不？能响多久？") == ("停电",)
    assert conditions("俺家在石桥乡，报装了多久能装上？") == ()  # the span from the act, no condition
    with assistant_over(tmp_path, embeddings, {"faq.md": faq}) as assistant:
        asked = assistant.ask("停电了云广播还能响多久？")
        assert asked.refused, asked.answer
        assert not assistant.ask("云广播试播会响多久？").refused
    (tmp_path / "both").mkdir()
    with assistant_over(tmp_path / "both", embeddings, {"faq.md": faq, "battery.md": battery}) as assistant:
        asked = assistant.ask("停电了云广播还能响多久？")
        assert not asked.refused and "8小时" in asked.answer, asked.answer


def test_a_name_jieba_reads_as_single_characters_is_looked_for_in_the_passages() -> None:
    assert unseen_names("县里的孝老卡一年能领多少钱？", "县医保一年最多支付20万元。") == ["孝老卡"]
    assert unseen_names("县里的孝老卡一年能领多少钱？", "孝老卡每年发放600元。") == []
    # A villager's own words are no name: a verb, a count or a pronoun breaks the run.
    for question in ("俺爹都75了，能多给点不？", "交多少钱？", "养羊能买保险不？一只羊保费多少钱？"):
        assert unseen_names(question, "") == []


@pytest.mark.parametrize(
    ("question", "unknown", "things"),
    [
        ("种的柑橘能买政策性农业保险不？", ["柑橘"], ["柑橘"]),
        ("白沙村那个稻虾合作社的理事长叫啥名字？", ["理事长"], ["理事长"]),
        # jieba's glued phrases: a verb inside (水冲, 领钱) is the villager's wording, not a thing.
        ("房子被大水冲倒了，农房保险赔多少？", ["水冲"], []),
        ("那交到多大年纪能领钱？", ["领钱"], []),
        # A time, a count, a glued phrase or a doubled verb is no thing (日子, 个数, 替人, 问问).
        ("桃源村一年里哪段日子不让上山烧纸？", ["日子"], []),
        ("桃源村娶媳妇要多少彩礼，村里有没有定个数？", ["个数"], []),
        ("沙洲村合作社替人从种到收全包了，一亩一季收多少钱？", ["替人"], []),
        ("买农机补钱的事想问问，打哪个电话？", ["问问"], []),
        ("种粮补贴每亩多少钱？", ["种粮"], []),
        # A villager describing what the documents name (学电脑的那个信息学院) uses words of their own.
        ("人大学电脑的那个信息学院，鼓不鼓励学生出国？", ["电脑"], []),
        ("养兔子的产业奖补一只给多少钱？", ["兔子"], ["兔子"]),
        # Made of the documents' words (热线 and 电话), or where something happened.
        ("防返贫的热线电话是多少？", ["热线电话"], []),
        # A longer word is a thing whatever its characters are alone (葬 is a verb, 丧葬费 a fee), unless
        # it is a verb and its object (娶媳妇).
        ("领养老金的老人去世了，有没有丧葬费？", ["丧葬费"], ["丧葬费"]),
        ("桃源村娶媳妇彩礼有规定吗？", ["娶媳妇"], []),
        ("在县里工地干活被欠了工钱，打啥电话投诉？", ["工地"], []),
        # Where someone goes, whose trouble it is: not what the documents must name.
        ("要是去省城的大医院住院，看病的钱给报多少？", ["省城"], []),
        ("俺家闺女嫁到外村了，村里的地还给她留着不？", ["外村"], []),
        ("电视上看到打农药的飞机，国家补多少？", ["飞机"], ["飞机"]),  # 看到 goes nowhere
        ("俺心脏不好是冠心病，长期看门诊拿药，一年最多能报多少？", ["心脏"], []),
        ("我儿子在厂里交的职工养老保险，退休后一个月能领多少？", ["厂里", "职工"], ["职工"]),
    ],
)
def test_which_unknown_words_name_a_thing(question: str, unknown: list[str], things: list[str]) -> None:
    documents = {"热线": 3, "电话": 12}
    assert named_things(question, unknown, lambda words: {w: documents.get(w, 0) for w in words}) == things


def test_a_verb_glued_to_its_object_is_told_apart() -> None:
    assert verb_and_object("签合同") == ("签", "合同")
    assert verb_and_object("娶媳妇") == ("娶", "媳妇")
    # Things, whatever their first character is alone.
    assert verb_and_object("丧葬费") is None and verb_and_object("普通高中") is None
    assert verb_and_object("合同") is None
    assert said_apart("签合同", "当事人双方应当签订书面流转合同。")
    assert not said_apart("签合同", "签订协议后，按合同约定付款。"), "another clause's 合同"


UNIVERSITY = {
    "news1.md": "# 中国人民大学举行开学典礼\n\n日期：2013-09-01\n\n中国人民大学2013级新生开学典礼在世纪馆举行，校长致辞。\n",
    "news2.md": "# 中国人民大学图书馆开放\n\n日期：2013-10-08\n\n中国人民大学图书馆新馆国庆后全天开放，读者可预约座位。\n",
    "news3.md": (
        "# 经济理论创新奖颁奖\n\n日期：2013-12-31\n\n"
        "我校经济学院院长杨瑞龙教授、财政金融学院院长郭庆旺教授参加了院长对话。\n\n"
        "经济学院副院长刘守英教授主持分论坛。\n"
    ),
}


def test_the_name_the_whole_collection_is_about_need_not_be_repeated(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    """A university's pages say 我校: the name most of the knowledge base mentions is no constraint on
    where an answer comes from, and a 副院长 is not the 院长."""
    with assistant_over(tmp_path, embeddings, UNIVERSITY) as assistant:
        assert assistant._collection_names(["中国人民大学", "经济学院"]) == {"中国人民大学"}
        dean = assistant.ask("2013年，中国人民大学经济学院的院长是谁？")
        assert not dean.refused and "杨瑞龙" in dean.answer, dean.answer
        assert "刘守英" not in dean.answer


FILLER = (
    "与会专家围绕学科建设、人才培养和国际交流等议题展开讨论，回顾了近年来的工作进展，交流了经验做法。" * 12
)
SYMPOSIUM = {
    "forum.md": (
        f"# 国家安全学学科建设研讨会举行\n\n日期：2023-11-04\n\n{FILLER}\n\n"
        "国际关系学院党委书记幸明军回顾了学院培养国家安全人才的举措，提出应当把握学科建设的政治性。\n"
    ),
    "guests.md": (
        "# 国家安全学论坛嘉宾\n\n日期：2023-11-04\n\n"
        "西南政法大学国家安全学院党委书记胡尔贵、陕西师范大学国家安全学院院长张亚泽出席论坛。\n"
    ),
}


def test_a_role_is_read_with_its_organisation_and_its_page_date(
    tmp_path: Path, embeddings: Embeddings
) -> None:
    """Another school's 党委书记 says nothing of this school's, and a matched chunk is dated by the page's
    date line read around it, as the answer reads it."""
    with assistant_over(tmp_path, embeddings, SYMPOSIUM) as assistant:
        secretary = assistant.ask("2023年，国际关系学院党委书记是谁？")
        assert not secretary.refused and "幸明军" in secretary.answer, secretary.answer
        assert "胡尔贵" not in secretary.answer
        other = assistant.ask("2023年，经济学院党委书记是谁？")
        assert other.refused, other.answer


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("经济学院的院长是谁？", "文学院院长陈剑澜、哲学院院长臧峰宇等专家出席。", False),
        ("经济学院的院长是谁？", "我校经济学院院长杨瑞龙出席。", True),
        ("法学院的院长是谁？", "法学院院长王建国主持会议。", True),
        ("法学院的院长是谁？", "中法学院院长杨伟国主持会议。", False),
        ("经济学院党委书记是谁？", "苏州校区党委书记伍聪汇报了整改情况。", False),
        # Another university's school of the same name, and an executive head of another institute.
        ("中国人民大学国际关系学院的院长是谁？", "四川大学国际关系学院院长李志强发言。", False),
        ("人民大学统计与大数据研究院的院长是谁？", "人民大学重阳金融研究院执行院长王文发言。", False),
        # A library or a town named by its kind alone, or a town by its name, is another organisation.
        ("2023年，中国人民大学党委书记是谁？", "2023年，图书馆党委书记牟锋汇报整改情况。", False),
        ("2023年，中国人民大学党委书记是谁？", "2023年，中国人民大学图书馆党委书记牟锋发言。", False),
        ("2023年，中国人民大学党委书记是谁？", "2023年，向塘镇党委书记万耀华同校友交流。", False),
        ("2023年，中国人民大学党委书记是谁？", "2023年，中国人民大学党委书记张东刚出席。", True),
        (
            "2023年中国人民大学国际关系学院党委书记是谁？",
            "西南政法大学国家安全学院党委书记胡尔贵发言。",
            False,
        ),
        # The villager's own county (咱县) is any county the documents name.
        ("咱县的县长是谁？", "青溪县县长李明出席会议。", True),
    ],
)
def test_a_role_of_another_organisation_names_nobody_asked_for(
    question: str, sentence: str, expected: bool
) -> None:
    """Another school's 院长 (文学院, one character before its kind; 中法学院 for 法学院) is no answer."""
    assert says(question, sentence) is expected


def test_a_holder_the_page_names_as_another_organisations_is_no_answer() -> None:
    """宋永华校长 on a page headed 会见澳门大学校长宋永华 is 澳门大学's 校长, not 中国人民大学's."""
    question = "2023年，中国人民大学的校长是谁？"
    sentence = "2023年，张东刚对宋永华校长一行到访表示欢迎，介绍了中国人民大学的办学历史。"
    assert not says(question, sentence, "张东刚书记会见澳门大学校长宋永华一行")
    assert says(question, sentence, "张东刚书记会见中国人民大学校长宋永华一行")
    assert says(question, "2023年，中国人民大学校长林尚立会见宋永华校长一行。", "会见澳门大学校长宋永华一行")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("土地已经流转的，补贴仍发给承包农户，流转合同另有约定的，从其约定。", True),
        ("补贴对象原则上为拥有耕地承包权的种地农民。", True),
        # A group a benefit's name holds, and who publicises it, receive nothing.
        ("2025年实际种粮农民一次性补贴由每亩15元调整为每亩16元，其他标准不变。", False),
        ("各乡镇要做好2025年补贴政策宣传，特别是耕地地力保护补贴的调整情况。", False),
        ("中稻、晚稻补贴和实际种粮农民一次性补贴于2024年11月26日前发放完毕。", False),
        # A name jieba finds before a benefit word is the benefit's (惠农补贴), no one it is paid to.
        ("公开事项：惠农补贴发放名单（耕地地力保护补贴、稻谷补贴等）；公示时间要求：不少于7天", False),
    ],
)
def test_who_receives_is_named_where_something_is_given(sentence: str, expected: bool) -> None:
    question = "我把地包给别人种了，地力补贴给谁？"
    assert says(question, sentence, "耕地地力保护补贴") is expected


def test_a_name_is_said_of_the_thing_asked() -> None:
    question = "国学院最活跃的兴趣小组叫什么？"
    asked = read_question(question)
    assert dict(asked.focus)["name"] == "兴趣小组"
    assert answers(asked, question, "国学院最活跃的兴趣小组叫“新风雅诗社”。")
    # A slogan quoted about something else is no name of the group.
    assert not answers(asked, question, "“信而好古”——老师们认为，国学院走出的这条培养模式“难能可贵”。")


def test_which_person_is_answered_by_a_person() -> None:
    question = "人大文学院的“古代文本文化国际研究中心”由哪位教授领衔？"
    context = "人大文学院"
    assert says(question, "以柯马丁(Martin Kern)教授领衔的“古代文本文化国际研究中心”。", context)
    # 位 counts people: universities, and the words jieba's discovery calls names (文明, 博士生), are none.
    assert not says(
        question,
        "古代文本文化国际研究中心汇聚了全球顶尖的东西古典文明研究学者，有来自哈佛大学、剑桥大学的博士生参加。",
        context,
    )


def test_a_name_the_question_quotes_is_met_beside_the_sentence_not_elsewhere_on_its_page() -> None:
    question = "人大文学院的“古代文本文化国际研究中心”由哪位教授领衔？"
    asked = read_question(question)
    assert asked.quoted == ("古代文本文化国际研究中心",)
    founded = "2017年成立的古代文本文化国际研究中心汇聚了全球顶尖的古典文明研究学者。"
    visit = "学院亦曾聘请哈佛大学傅高义教授来访讲学。"
    passage = f"{founded}学院举办世界汉学大会。{visit}"
    assert not answers(asked, question, visit, "人大文学院 学院举办世界汉学大会。", passage)
    assert answers(asked, question, "该中心由柯马丁教授领衔。", f"人大文学院 {founded}", passage)
    # A name it does not quote is met anywhere on the page, which need not repeat it in every sentence.
    question = "人大文学院由哪位教授领衔？"
    assert not read_question(question).quoted
    assert answers(read_question(question), question, "由刘小枫教授领衔。", "", f"人大文学院。{visit}")


def test_which_places_are_answered_by_places_named_together() -> None:
    question = "国家专项计划招生的定向招收对象包括哪些地区的学生？"
    assert says(
        question, "国家专项计划定向招收集中连片特殊困难县、国家级扶贫开发重点县以及新疆南疆四地州学生。"
    )
    assert not says(question, "申请国家专项计划奖励的学生，可以同时申请学校及国家其他奖、助、贷学金。")
    assert not says(question, "国家专项计划考生户籍、学籍资格审核由各省（区、市）负责组织。")
