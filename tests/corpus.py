"""Small documents in every supported format, written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import docx
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

GRAIN_MD = """---
title: 青溪县耕地地力保护补贴实施办法
kind: policy
region: 江南省青溪县
issuer: 青溪县农业农村局
valid_from: 2025-01-01
valid_to: 2025-12-31
---
# 青溪县耕地地力保护补贴实施办法

第一章 总则

第一条 为了保护耕地地力，促进粮食生产，根据国家有关规定，结合本县实际，制定本办法。

第二条 本办法适用于本县行政区域内耕地地力保护补贴的申报、审核和发放。

第二章 补贴对象和标准

第三条 补贴对象为拥有耕地承包权的种地农民。补贴标准为每亩120元，按照二轮承包面积计算。已改变用途的耕地不再给予补贴，包括：
（一）已作为畜牧养殖场使用的耕地；
（二）林地、成片粮田转为设施农业用地的；
（三）长年抛荒地和占补平衡中“补”的面积。

第四条 补贴资金通过惠民惠农财政补贴资金“一卡通”在每年6月30日前发放到农户账户。

第三章 附则

第五条 本办法由青溪县农业农村局负责解释，咨询电话：0571-86001234。
"""

MEDICAL_MD = """---
title: 青溪县城乡居民医保政策问答
kind: policy
region: 江南省青溪县
valid_from: 2025-01-01
---
# 城乡居民医保政策问答

## 缴费

问：2025年城乡居民医保个人缴费多少钱？
答：2025年度个人缴费标准为每人每年400元，财政补助每人每年不低于700元。

问：什么时候缴费？
答：集中缴费期为每年9月1日至12月31日，可以通过微信、支付宝或村委会代收缴费。

## 报销

住院报销比例如下表。

| 医院级别 | 起付线 | 报销比例 |
|---|---|---|
| 乡镇卫生院 | 100元 | 85% |
| 县级医院 | 500元 | 75% |
| 市级医院 | 800元 | 65% |
"""

PENSION_TXT = """青溪县城乡居民养老保险缴费说明
一、参保对象
年满16周岁、不是在校学生、未参加职工基本养老保险的本县户籍居民，可以参加城乡居民养老保险。
二、缴费档次
个人缴费分为每年200元、300元、500元、1000元、2000元、3000元、5000元七个档次，多缴多得。
三、领取条件
年满60周岁、累计缴费满15年的参保人，可以按月领取养老金。咨询电话：0571-86005678。
"""

HOMESTEAD_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>青溪县农村宅基地申请办事指南</title>
<meta name="xiangyin:kind" content="policy"><meta name="xiangyin:region" content="江南省青溪县">
<style>p { color: red }</style><script>var x = 1;</script></head>
<body><nav>首页 | 办事指南</nav>
<h1>青溪县农村宅基地申请办事指南</h1>
<h2>一、申请条件</h2>
<p>坚持<b>一户一宅</b>，本村集体经济组织成员以户为单位申请宅基地。</p>
<h2>二、面积标准</h2>
<table>
<tr><th>家庭人口</th><th>宅基地面积上限</th></tr>
<tr><td>3人及以下</td><td>120平方米</td></tr>
<tr><td>4至5人</td><td>140平方米</td></tr>
<tr><td>6人及以上</td><td>160平方米</td></tr>
</table>
<h2>三、审批时限</h2>
<p>乡镇人民政府自受理之日起20个工作日内作出审批决定。</p>
</body></html>
"""

LOW_INCOME_GBK = """青溪县农村最低生活保障标准
一、保障标准
2025年农村低保标准为每人每月680元，比上年提高30元。
二、申请办法
申请人向户籍所在地乡镇人民政府提出书面申请，也可以委托村民委员会代为提出申请。
"""


def write_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "青溪县云广播使用手册"
    document.add_heading("青溪县云广播使用手册", level=1)
    document.add_heading("一、设备介绍", level=2)
    document.add_paragraph("云广播俗称村村响，每个行政村安装室外音柱不少于4只，覆盖全村主要道路和广场。")
    document.add_heading("二、资费", level=2)
    document.add_paragraph("资费标准如下：")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("套餐", "月费", "音柱数量"), ("基础版", "30元/月", "4只"), ("增强版", "50元/月", "8只")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("三、紧急广播", level=2)
    document.add_paragraph("遇到台风、洪水等紧急情况，村干部可以用手机App一键向全村播放紧急通知。")
    document.save(str(path))


def write_pdf(path: Path) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=12, leading=16)
    doc = SimpleDocTemplate(str(path), pagesize=A4, title="青溪县农机购置补贴实施方案")
    table = Table(
        [["机具品目", "补贴额"], ["拖拉机", "8000元"], ["插秧机", "3000元"]],
        style=[("FONT", (0, 0), (-1, -1), "STSong-Light"), ("GRID", (0, 0), (-1, -1), 0.5, "black")],
    )
    doc.build(
        [
            Paragraph(
                "第一条 为了推进农业机械化，制定本方案。补贴资金由县财政局统一拨付到农户的社保卡账户，"
                "具体时间另行通知，请农户留意村委会公告。",
                style,
            ),
            table,
            Paragraph("第二条 补贴标准见上表，每户每年补贴机具不超过2台。", style),
        ]
    )


def write_corpus(root: Path) -> Path:
    """A folder laid out by document kind, in every supported format and in GBK."""
    (root / "policy").mkdir(parents=True, exist_ok=True)
    (root / "handbook").mkdir(parents=True, exist_ok=True)
    (root / "policy" / "grain.md").write_text(GRAIN_MD, encoding="utf-8")
    (root / "policy" / "medical.md").write_text(MEDICAL_MD, encoding="utf-8")
    (root / "policy" / "pension.txt").write_text(PENSION_TXT, encoding="utf-8")
    (root / "policy" / "homestead.html").write_text(HOMESTEAD_HTML, encoding="utf-8")
    (root / "policy" / "dibao.txt").write_bytes(LOW_INCOME_GBK.encode("gbk"))
    write_pdf(root / "policy" / "machinery.pdf")
    write_docx(root / "handbook" / "broadcast.docx")
    return root
