from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knowledge.base import KnowledgeBase
from xiangyin.cli import app

runner = CliRunner()


def run(home: Path, *args: str) -> str:
    result = runner.invoke(app, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow
def test_ingest_search_and_kb_commands(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    (corpus / "policy" / "broken.pdf").write_bytes(b"not a pdf")

    report = json.loads(run(home, "ingest", str(corpus), "--json"))
    assert len(report["added"]) == 7
    assert report["skipped"] == [
        {
            "source": "policy/broken.pdf",
            "reason": report["skipped"][0]["reason"],
            "message": "文件损坏，无法读取。",
        }
    ]
    assert report["embedded"] == report["chunks"]

    again = json.loads(run(home, "ingest", str(corpus), "--json"))
    assert again["embedded"] == 0 and again["added"] == [] and len(again["unchanged"]) == 7
    assert again["skipped"] == [] and again["rejected_before"] == ["policy/broken.pdf"], "not read again"

    hits = json.loads(run(home, "search", "低保每个月多少钱", "--k", "2", "--json"))
    assert len(hits) == 2
    assert {"source", "title", "section", "text", "score"} <= hits[0].keys()
    assert hits[0]["source"] == "policy/dibao.txt"
    assert "680元" in hits[0]["text"]

    lexical = json.loads(run(home, "search", "宅基地", "--mode", "lexical", "--kind", "policy", "--json"))
    assert lexical and all(h["kind"] == "policy" and h["dense_score"] is None for h in lexical)

    text = run(home, "search", "村村响多少钱", "-k", "1")
    assert "[1]" in text and "handbook/broadcast.docx" in text

    stats = json.loads(run(home, "kb", "stats", "--json"))
    assert stats["documents"] == 7 and stats["chunks"] == stats["vectors"] == report["chunks"]
    assert stats["by_kind"] == {"handbook": 1, "policy": 6}

    listed = json.loads(run(home, "kb", "list", "--json"))
    assert listed[0]["source"] == "handbook/broadcast.docx"
    assert "有效期" in run(home, "kb", "list")

    assert "已删除 policy/dibao.txt" in run(home, "kb", "remove", "policy/dibao.txt")
    missing = runner.invoke(app, ["--home", str(home), "kb", "remove", "policy/nothing.md"])
    assert missing.exit_code == 1 and "没有这个文档" in missing.stdout
    stats = json.loads(run(home, "kb", "stats", "--json"))
    assert stats["documents"] == 6 and stats["chunks"] == stats["vectors"]


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), "search", "低保", "--mode", "fuzzy"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["--home", str(tmp_path), "ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2


def test_home_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIANGYIN_HOME", str(tmp_path / "from-env"))
    stats = json.loads(run_without_home("kb", "stats", "--json"))
    assert stats["documents"] == 0
    assert stats["store"] == str(tmp_path / "from-env" / "index" / "chroma")


def run_without_home(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow
def test_ask_and_chat(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    printed = run(home, "ingest", str(corpus))
    assert "新增 7" in printed and "秒后已可检索" in printed and "向量未完成" not in printed
    answer = json.loads(run(home, "ask", "低保一个月能领多少钱？", "--json", "--session", "s1"))
    assert answer["kind"] == "answer" and "680元" in answer["answer"]
    assert answer["citations"][0]["source"] == "policy/dibao.txt"
    assert answer["session_id"] == "s1"
    follow = json.loads(run(home, "ask", "那怎么申请？", "--json", "--session", "s1"))
    assert "低保" in follow["standalone_question"]
    text = run(home, "ask", "想去日本旅游，签证怎么办？")
    assert "没有找到答案" in text

    chat = runner.invoke(app, ["--home", str(home), "chat"], input="你好\n低保一个月能领多少钱？\n\n")
    assert chat.exit_code == 0, chat.output
    assert "我是小音" in chat.stdout and "680元" in chat.stdout and "policy/dibao.txt" in chat.stdout
    assert chat.stdout.rstrip().endswith("再见！")


@pytest.mark.slow
def test_demo_builds_the_demo_knowledge_base_and_answers(demo_kb: KnowledgeBase) -> None:
    # demo_kb already holds the demo set, so this run finds every file unchanged and only answers.
    # The server part of `demo` is `xiangyin serve` (tests/test_serve.py); here it is left out.
    output = run(demo_kb.settings.home, "demo", "--no-serve")
    assert "未变 26" in output
    assert "问：种粮补贴每亩多少钱？" in output and "每亩110元" in output
    assert "policy/grain-subsidy-2025.md" in output
