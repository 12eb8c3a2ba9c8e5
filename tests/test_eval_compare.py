"""Comparing two runs and the regression gate, as functions and through `xiangyin eval compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.cases import Case
from evals.compare import compare, gate
from evals.results import CaseResult, RetrievedPassage, RunInfo, RunResult, RunSummary, finish, load_run, save
from xiangyin.cli import app

INFO = RunInfo(cases_file="cases.jsonl", target="in-process", started_at="2026-11-28T00:00:00+00:00")


def _case(n: int) -> Case:
    return Case(
        id=f"c{n}", question=f"问题{n}", answer_keywords=[f"{n}元"], evidence=[f"依据{n}"], tags=["t"]
    )


def _run(correct: set[int]) -> RunResult:
    """Ten cases; the ones in `correct` are answered with their keyword and evidence."""
    results = []
    for n in range(10):
        case = _case(n)
        ok = n in correct
        results.append(
            finish(
                CaseResult(
                    case=case,
                    asked=case.question,
                    answer=f"{n}元[1]" if ok else "不对[1]",
                    ranking=[RetrievedPassage(source="a", text=f"依据{n}" if ok else "无关")],
                )
            )
        )
    return RunResult.build(INFO, results)


def test_compare_lists_what_got_better_and_worse() -> None:
    before, after = _run({0, 1, 2, 3, 4, 5, 6, 7}), _run({0, 1, 2, 3, 4, 5, 8, 9})
    result = compare(before, after)
    assert [c.key for c in result.improved] == ["c8/typed", "c9/typed"]
    assert [c.key for c in result.regressed] == ["c6/typed", "c7/typed"]
    assert result.regressed[0].question == "问题6" and result.regressed[0].problem == "retrieval_miss"
    keyword = next(c for c in result.metrics if c.name == "keyword_accuracy")
    assert (keyword.before, keyword.after, keyword.delta) == (0.8, 0.8, 0.0)
    assert gate(result) == []


def test_gate_fails_on_a_drop_beyond_the_threshold() -> None:
    before, after = _run(set(range(10))), _run(set(range(9)))
    result = compare(before, after)
    failures = gate(result, ["keyword_accuracy"], max_drop=0.05)
    assert len(failures) == 1 and "keyword_accuracy" in failures[0] and "1.000 -> 0.900" in failures[0]
    assert gate(result, ["keyword_accuracy"], max_drop=0.1) == []
    assert gate(compare(after, before), ["keyword_accuracy"], max_drop=0.0) == []  # an improvement
    with pytest.raises(ValueError, match="unknown metric"):
        gate(result, ["accuracy"])


def test_latency_is_gated_as_a_fraction() -> None:
    before, after = _run(set(range(10))), _run(set(range(10)))
    for r in after.results:
        r.latency_ms = 13.0
    for r in before.results:
        r.latency_ms = 10.0
    result = compare(RunResult.build(INFO, before.results), RunResult.build(INFO, after.results))
    assert gate(result, ["latency_p50_ms"], max_drop=0.5) == []
    assert len(gate(result, ["latency_p50_ms"], max_drop=0.2)) == 1  # 30% slower


def test_a_summary_baseline_compares_like_the_full_run(tmp_path: Path) -> None:
    before, after = _run(set(range(10))), _run(set(range(8)))
    save(before.summary_only(), tmp_path / "baseline.json")
    baseline = load_run(tmp_path / "baseline.json")
    assert isinstance(baseline, RunSummary) and "results" not in json.loads(
        (tmp_path / "baseline.json").read_text(encoding="utf-8")
    )
    from_summary, from_run = compare(baseline, after), compare(before, after)
    assert from_summary.metrics == from_run.metrics and from_summary.regressed == from_run.regressed


def test_compare_command_exit_codes(tmp_path: Path) -> None:
    save(_run(set(range(10))), tmp_path / "a.json")
    save(_run(set(range(8))), tmp_path / "b.json")
    runner = CliRunner()
    worse = runner.invoke(app, ["eval", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert worse.exit_code == 1, worse.output
    assert "变差（之前通过，现在未通过）：2 个" in worse.stdout and "c9/typed" in worse.stdout
    assert "regression: keyword_accuracy" in worse.stderr

    lenient = ["--metric", "keyword_accuracy", "--max-drop", "0.25", "--json"]
    ok = runner.invoke(app, ["eval", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), *lenient])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.stdout)
    assert payload["regressed"] == ["c8/typed", "c9/typed"]
    assert payload["metrics"]["keyword_accuracy"]["delta"] == pytest.approx(-0.2)

    baseline = runner.invoke(app, ["eval", "baseline", str(tmp_path / "a.json"), str(tmp_path / "base.json")])
    assert baseline.exit_code == 0 and isinstance(load_run(tmp_path / "base.json"), RunSummary)
    same = runner.invoke(app, ["eval", "compare", str(tmp_path / "base.json"), str(tmp_path / "a.json")])
    assert same.exit_code == 0, same.output

    unreadable = runner.invoke(
        app, ["eval", "compare", str(tmp_path / "missing.json"), str(tmp_path / "a.json")]
    )
    assert unreadable.exit_code == 2 and "无法读取评测结果" in unreadable.stderr
