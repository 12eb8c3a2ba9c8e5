"""`xiangyin eval`: run golden cases, compare runs, render reports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from evals.cases import CaseFileError
from evals.compare import DEFAULT_GATE, Comparison, compare, gate
from evals.leaveout import TAG, TITLE, LeaveOneOutRun, leave_one_out
from evals.report import REPORT_TITLE, render_report
from evals.results import METRICS, RunResult, RunSummary, Summary, load_run, save
from evals.runner import evaluate
from xiangyin.cli_context import INGEST_STAGES, current_settings
from xiangyin.settings import Settings

eval_app = typer.Typer(
    help="Evaluate the assistant on golden cases: run, compare runs, render reports.", no_args_is_help=True
)

console = Console()
err = Console(stderr=True)


def _settings(ctx: typer.Context) -> Settings:
    return current_settings(ctx)


def _summary_table(summary: Summary, title: str) -> Table:
    table = Table("指标", "数值", title=title)
    for name, label in METRICS.items():
        value = getattr(summary, name)
        if value is None:
            continue
        table.add_row(label, f"{value:.0f}" if name.startswith("latency") else f"{value:.3f}")
    return table


def _output(target: Path, fresh: bool) -> tuple[Path, Path]:
    """The run's folder and its partial.jsonl (the answers an interrupted run kept; gone with --fresh)."""
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "partial.jsonl"
    if fresh:
        partial.unlink(missing_ok=True)
    return target, partial


def _progress_bar() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=err, transient=True)


def _open_run(path: Path) -> RunResult | RunSummary:
    try:
        return load_run(path)
    except (OSError, ValueError) as exc:
        err.print(f"[red]无法读取评测结果 {path}：{exc}[/red]")
        raise typer.Exit(2) from exc


def _print_comparison(result: Comparison) -> None:
    table = Table("指标", "之前", "之后", "变化", title="对比")
    for change in result.metrics:
        if change.before is None and change.after is None:
            continue
        delta = change.delta
        mark = ""
        if delta:
            mark = "[red]变差[/red]" if change.worsening > 0 else "[green]变好[/green]"
        table.add_row(
            change.label,
            "-" if change.before is None else f"{change.before:.3f}",
            "-" if change.after is None else f"{change.after:.3f}",
            "-" if delta is None else f"{delta:+.3f} {mark}",
        )
    console.print(table)
    for label, cases in (
        ("变好（之前未通过，现在通过）", result.improved),
        ("变差（之前通过，现在未通过）", result.regressed),
    ):
        console.print(f"{label}：{len(cases)} 个")
        for case in cases:
            console.print(f"  {case.key}  {case.question}", markup=False, highlight=False)
    if result.only_before or result.only_after:
        console.print(
            f"只在之前的结果里：{len(result.only_before)} 个；只在之后的结果里：{len(result.only_after)} 个"
        )


def _gate(result: Comparison, metrics: list[str] | None, max_drop: float) -> None:
    try:
        failures = gate(result, metrics or DEFAULT_GATE, max_drop)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--metric") from exc
    for failure in failures:
        err.print(f"[red]regression: {failure}[/red]")
    if failures:
        raise typer.Exit(1)


Update = Callable[[str, int, int], None]


def _updater(bar: Progress) -> Update:
    """Progress by label: a bar for each stage (reading, embedding, asking) the first time it reports."""
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    return update


@contextmanager
def _asking() -> Iterator[tuple[Callable[[int, int], None], Update]]:
    """Progress bars for a run's asking and its ingest, and a clear exit on a broken case file."""
    with _progress_bar() as bar:
        update = _updater(bar)
        try:
            yield (
                lambda done, total: update("提问", done, total),
                lambda stage, done, total: update(INGEST_STAGES.get(stage, stage), done, total),
            )
        except CaseFileError as exc:
            err.print(f"[red]用例文件有错：{exc}[/red]")
            raise typer.Exit(2) from exc


def _write(run: RunResult, target: Path, partial: Path, title: str = REPORT_TITLE) -> None:
    """result.json and report.html; the answers kept for a resumed run are no longer needed."""
    save(run, target / "result.json")
    (target / "report.html").write_text(render_report(run, title), encoding="utf-8")
    partial.unlink(missing_ok=True)


MetricOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metric", help=f"Measure the gate checks (repeatable). Default: {', '.join(DEFAULT_GATE)}."
    ),
]
MaxDropOption = Annotated[
    float, typer.Option(help="Largest allowed drop of a gated measure (absolute; latency: a fraction).")
]
BaselineOption = Annotated[
    Path | None, typer.Option(help="Compare with this run or summary and fail on a regression.")
]


def _against(baseline: Path | None, run: RunResult, metrics: list[str] | None, max_drop: float) -> None:
    """With a baseline, print how `run` compares and exit 1 when a gated measure dropped too far."""
    if baseline is None:
        return
    comparison = compare(_open_run(baseline), run)
    _print_comparison(comparison)
    _gate(comparison, metrics, max_drop)


@eval_app.command("run")
def run_command(
    ctx: typer.Context,
    cases: Annotated[Path, typer.Option("--cases", help="Golden cases (.jsonl, .yaml).", exists=True)],
    kb: Annotated[
        Path | None, typer.Option("--kb", help="Knowledge folder, ingested into its own data home.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Ask a running server instead.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for result.json and report.html.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Questions in flight (server runs).")] = 4,
    fresh: Annotated[bool, typer.Option(help="Ignore answers kept from an interrupted run.")] = False,
    baseline: BaselineOption = None,
    metric: MetricOption = None,
    max_drop: MaxDropOption = 0.03,
    of: Annotated[
        Path | None,
        typer.Option(
            "--of",
            help="The golden cases --cases rewords (evals/lay_demo.jsonl rewords evals/demo_cases.jsonl).",
            exists=True,
        ),
    ] = None,
) -> None:
    """Ask every case, score the answers, and write result.json and a report in Chinese (report.html).
    With --of, the cases are rewordings (a villager's words, `of` naming the golden case), scored with
    the golden case's keywords, evidence and sources."""
    if (kb is None) == (url is None):
        raise typer.BadParameter("give exactly one of --kb and --url", param_hint="--kb/--url")
    target, partial = _output(out or Path("eval-results") / cases.stem, fresh)
    with _asking() as (progress, ingest_progress):
        run = evaluate(
            cases,
            _settings(ctx),
            knowledge=kb,
            url=url,
            partial=partial,
            workers=workers,
            progress=progress,
            ingest_progress=ingest_progress,
            originals=of,
        )
    _write(run, target, partial)
    console.print(_summary_table(run.summary, f"{run.summary.cases} 个问题，答对 {run.summary.passed} 个"))
    if run.spoken:
        console.print(_summary_table(run.spoken, "语音提问"))
    console.print(f"报告：{target / 'report.html'}\n数据：{target / 'result.json'}")
    _against(baseline, run, metric, max_drop)


def _print_leave_one_out(result: LeaveOneOutRun) -> None:
    run = result.run
    table = Table("标签", "题数", "拒答", "拒答召回率", title="删去出处文件后应当拒答")
    tags = [("全部", run.summary, run.results)]
    tags += [(t, s, [r for r in run.results if t in r.case.tags]) for t, s in run.by_tag.items() if t != TAG]
    for label, summary, results in tags:
        recall = "-" if summary.refusal_recall is None else f"{summary.refusal_recall:.3f}"
        table.add_row(label, str(summary.cases), str(sum(r.refused for r in results)), recall)
    console.print(table)
    answered = [r for r in run.results if not r.passed]
    if answered:
        console.print(f"没有拒答的：{len(answered)} 个")
        for r in answered:
            said = r.error or r.answer.replace("\n", " ")
            line = f"  {r.case.id}  {r.case.question}  ->  {said[:80]}"
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.skipped:
        console.print(f"不算拒答题的有答案用例（删不掉出处，或别的文件仍有答案）：{len(result.skipped)} 个")
        for s in result.skipped:
            console.print(f"  {s.case.id}  {s.reason}", markup=False, highlight=False, soft_wrap=True)
    per_case = run.info.duration_s / result.asked if result.asked else 0.0
    console.print(
        f"提问 {result.asked} 个，用时 {run.info.duration_s:.0f} 秒，复制知识库 {result.copies} 次，"
        f"每题平均 {per_case:.1f} 秒（复制知识库、删去文件、提问）"
    )


@eval_app.command("leave-one-out")
def leave_one_out_command(
    ctx: typer.Context,
    cases: Annotated[Path, typer.Option("--cases", help="Golden cases (.jsonl, .yaml).", exists=True)],
    kb: Annotated[Path, typer.Option("--kb", help="Knowledge folder, ingested into its own data home.")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for result.json and report.html.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N answerable cases with sources.")
    ] = None,
    fresh: Annotated[bool, typer.Option(help="Ignore answers kept from an interrupted run.")] = False,
    baseline: BaselineOption = None,
    metric: MetricOption = None,
    max_drop: MaxDropOption = 0.03,
) -> None:
    """Ask each answerable case again with the documents holding its answer removed (from a copy of the
    evaluation knowledge base): it must now be refused. Writes result.json and report.html, prints
    refusal recall overall and per tag; with --baseline, fails when it fell below the baseline's."""
    target, partial = _output(out or Path("eval-results") / f"{cases.stem}-leave-one-out", fresh)
    with _asking() as (progress, ingest_progress):
        result = leave_one_out(
            cases,
            _settings(ctx),
            kb,
            limit=limit,
            partial=partial,
            progress=progress,
            ingest_progress=ingest_progress,
        )
    _write(result.run, target, partial, TITLE)
    _print_leave_one_out(result)
    console.print(f"报告：{target / 'report.html'}\n数据：{target / 'result.json'}")
    _against(baseline, result.run, metric, max_drop)


@eval_app.command("compare")
def compare_command(
    before: Annotated[Path, typer.Argument(help="The earlier run (result.json or a baseline summary).")],
    after: Annotated[Path, typer.Argument(help="The later run.")],
    metric: MetricOption = None,
    max_drop: MaxDropOption = 0.03,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """What got better and what got worse; exits 1 when a gated measure dropped more than --max-drop."""
    comparison = compare(_open_run(before), _open_run(after))
    if as_json:
        payload = {
            "metrics": {
                c.name: {"before": c.before, "after": c.after, "delta": c.delta} for c in comparison.metrics
            },
            "improved": [c.key for c in comparison.improved],
            "regressed": [c.key for c in comparison.regressed],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_comparison(comparison)
    _gate(comparison, metric, max_drop)


@eval_app.command("report")
def report_command(
    result: Annotated[Path, typer.Argument(help="A run's result.json.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file (default: beside the JSON).")
    ] = None,
    rescore: Annotated[
        bool, typer.Option(help="Score the stored answers again with the current measures.")
    ] = False,
) -> None:
    """Render a run's report in Chinese (one self-contained HTML file)."""
    run = _open_run(result)
    if not isinstance(run, RunResult):
        err.print("[red]这是一个摘要文件（基线），没有逐题的回答，无法生成报告。[/red]")
        raise typer.Exit(2)
    if rescore:
        run = run.rescore()
        save(run, result)
    target = out or result.with_suffix(".html")
    target.write_text(render_report(run), encoding="utf-8")
    console.print(_summary_table(run.summary, f"{run.summary.cases} 个问题，答对 {run.summary.passed} 个"))
    console.print(f"报告：{target}")


@eval_app.command("baseline")
def baseline_command(
    result: Annotated[Path, typer.Argument(help="A run's result.json.")],
    out: Annotated[Path, typer.Argument(help="Where to write the summary (small enough to commit).")],
) -> None:
    """Save a run's scores without its answers, as the baseline a regression gate compares with."""
    run = _open_run(result)
    save(run.summary_only() if isinstance(run, RunResult) else run, out)
    console.print(f"基线：{out}")
