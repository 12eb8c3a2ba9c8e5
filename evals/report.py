"""The HTML report officials read: one self-contained page in Chinese (inline CSS and SVG, no script,
nothing fetched), saying what the assistant gets right, what it gets wrong, and what to fix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache

import jinja2

from evals.charts import bar_chart
from evals.metrics import MEASURES, passage_relevant
from evals.results import METRICS, CaseResult, RunResult, Summary


@dataclass(frozen=True)
class ProblemKind:
    label: str
    meaning: str
    advice: str


PROBLEMS: dict[str, ProblemKind] = {
    "missing_document": ProblemKind(
        "缺少文档",
        "知识库里没有回答这个问题所需的文件。",
        "把相关的政策文件、办事指南补充进知识库，再重新导入。",
    ),
    "retrieval_miss": ProblemKind(
        "没有检索到",
        "文件已在知识库里，但含答案的段落没有排进前 5 名。",
        "在同义词表里补上群众的说法，或让文件的标题、小标题写得更清楚。",
    ),
    "wrongly_refused": ProblemKind(
        "该答却拒答",
        "找到了含答案的段落，助手却说文件里没有。",
        "检查拒答设置；群众的口语词没有收进同义词表时，助手会以为问的是文件里没有的事。",
    ),
    "answer_composition": ProblemKind(
        "答案没说到点上",
        "找到了含答案的段落，但回答里缺少应有的内容（金额、日期、条件等）。",
        "答案组织需要改进：选中的句子不对，或没有带上关键数字。请交给技术人员。",
    ),
    "should_refuse": ProblemKind(
        "该拒答却回答",
        "文件里没有这个问题的答案，助手却作了回答，可能误导群众。",
        "补充相应文件；或请技术人员收紧拒答设置。",
    ),
    "error": ProblemKind(
        "运行出错",
        "提问时出错（服务异常、超时或录音无法使用）。",
        "查看下面的错误信息和服务日志。",
    ),
}

MEANINGS: dict[str, str] = {m.name: m.meaning for m in MEASURES if m.shown}

_TAG_BARS = (("pass_rate", "通过率"), ("keyword_accuracy", "关键词"), ("hit_at_5", "检索@5"))


def _format(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    if name.startswith("latency"):
        return f"{value:.0f}"
    return f"{value * 100:.1f}%"


def _cards(summary: Summary) -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "label": label,
            "value": _format(name, getattr(summary, name)),
            "meaning": MEANINGS[name],
        }
        for name, label in METRICS.items()
        if getattr(summary, name) is not None and (name != "question_cer")
    ]


def _excerpt(text: str, evidence: list[str], width: int = 220) -> tuple[str, str, str]:
    """(before, evidence, after): a window of the passage around the evidence, so it is never cut off."""
    found = next((e for e in evidence if e in text), None)
    if found is None:
        return (text if len(text) <= width else text[:width] + "…"), "", ""
    at = text.index(found)
    start = max(0, at - (width - len(found)) // 2)
    end = max(at + len(found), start + width)
    before = ("…" if start else "") + text[start:at]
    after = text[at + len(found) : end] + ("…" if end < len(text) else "")
    return before, found, after


def short_key(result: CaseResult) -> str:
    return result.case.id + ("（语音）" if result.mode == "spoken" else "")


def _case_view(result: CaseResult) -> dict[str, object]:
    case = result.case
    ranking = [
        {
            "rank": rank,
            "source": p.source,
            "where": " > ".join(x for x in (p.title, p.section) if x),
            "excerpt": _excerpt(p.text, case.evidence),
            "relevant": passage_relevant(p.text, p.source, case.evidence, case.sources),
        }
        for rank, p in enumerate(result.ranking[:5], start=1)
    ]
    return {
        "result": result,
        "problem": PROBLEMS[result.problem] if result.problem else None,
        "missing_keywords": [k for k in case.answer_keywords if k not in result.answer or result.refused],
        "ranking": ranking,
    }


def _fix_summary(run: RunResult) -> list[dict[str, object]]:
    failing = [r for r in run.results if r.problem]
    rows = []
    for key, kind in PROBLEMS.items():
        cases = [r for r in failing if r.problem == key]
        if not cases:
            continue
        terms = Counter(t for r in cases for t in r.unknown_terms)
        rows.append(
            {
                "key": key,
                "kind": kind,
                "count": len(cases),
                "cases": [(r.key, short_key(r)) for r in cases],
                "terms": [t for t, _ in terms.most_common(12)],
            }
        )
    return rows


def _tag_bars(summary: Summary) -> list[tuple[str, float | None]]:
    bars = [(label, getattr(summary, name)) for name, label in _TAG_BARS]
    if summary.refusal_recall is not None:  # a tag of questions that should be refused
        bars.append(("该拒答的", summary.refusal_recall))
    return bars


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("evals", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


REPORT_TITLE = "乡音问答评测报告"


def render_report(run: RunResult, title: str = REPORT_TITLE) -> str:
    """The whole report as one HTML string (for a file, or for a web page to serve)."""
    failing = [r for r in run.results if not r.passed]
    tags = [
        {
            "tag": tag,
            "summary": summary,
            "chart": bar_chart(_tag_bars(summary), tag),
        }
        for tag, summary in sorted(run.by_tag.items(), key=lambda item: (-item[1].cases, item[0]))
    ]
    spoken_pairs = [r for r in run.results if r.mode == "spoken"]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            run=run,
            info=run.info,
            summary=run.summary,
            cards=_cards(run.summary),
            spoken_cards=_cards(run.spoken) if run.spoken else [],
            spoken_cer=_format("question_cer", run.spoken.question_cer) if run.spoken else "-",
            spoken_results=spoken_pairs,
            headline_chart=bar_chart(
                [
                    (METRICS[m], getattr(run.summary, m))
                    for m in ("pass_rate", "keyword_accuracy", "hit_at_5", "citation_correctness")
                ],
                width=420,
            ),
            tags=tags,
            fixes=_fix_summary(run),
            failures=[_case_view(r) for r in failing],
            meanings=[(METRICS[k], v) for k, v in MEANINGS.items()],
            fmt=_format,
        )
    )
