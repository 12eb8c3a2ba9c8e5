"""Case files: JSONL and hand-written YAML, errors that name the line, appending cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.cases import Case, CaseFileError, append_case, load_cases
from xiangyin.cli import app

GOOD = {
    "id": "c1",
    "question": "低保每月多少钱？",
    "answer": "每人每月680元。",
    "answer_keywords": ["680元"],
    "sources": ["policy/dibao.txt"],
    "evidence": ["2025年农村低保标准为每人每月680元"],
    "tags": ["dibao", "amount"],
}

YAML_CASES = """\
# 村民常问的问题
- id: c1
  question: 低保每月多少钱？
  answer: 每人每月680元。
  answer_keywords: [680元]
  sources: [policy/dibao.txt]
  evidence: [2025年农村低保标准为每人每月680元]
  tags: [dibao, amount]
- id: c2
  question: 那养老保险呢？
  history:
    - role: user
      content: 低保每月多少钱？
  answer_keywords: [200元]
- id: c3
  question: 油茶补贴多少钱？
  should_refuse: true
"""


def write_lines(path: Path, *records: object) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


def error_of(path: Path) -> str:
    with pytest.raises(CaseFileError) as info:
        load_cases(path)
    return str(info.value)


def test_jsonl_and_yaml_hold_the_same_fields(tmp_path: Path) -> None:
    from_yaml = load_cases(_write(tmp_path / "cases.yaml", YAML_CASES))
    assert [c.id for c in from_yaml] == ["c1", "c2", "c3"]
    assert from_yaml[0] == Case.model_validate(GOOD)
    assert from_yaml[1].history[0].content == "低保每月多少钱？" and from_yaml[1].turns()[0].role == "user"
    assert from_yaml[2].should_refuse and from_yaml[2].answer is None

    jsonl = write_lines(tmp_path / "cases.jsonl", *[c.model_dump() for c in from_yaml])
    assert load_cases(jsonl) == from_yaml
    # A mapping with a `cases` list is accepted too.
    wrapped = _write(
        tmp_path / "wrapped.yml", "cases:\n" + "".join("  " + line + "\n" for line in YAML_CASES.splitlines())
    )
    assert load_cases(wrapped) == from_yaml


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": "b", "question": 12}', "字段 question 应该是文字"),
        ('{"id": "b"}', "问题 question 和录音 audio 至少要有一个"),
        ('{"question": "低保"}', "缺少字段 id"),
        ('{"id": "b", "question": "低保", "anwser": "680元"}', "不认识的字段 anwser"),
        (
            '{"id": "b", "question": "低保", "should_refuse": "maybe"}',
            "字段 should_refuse 应该是true 或 false",
        ),
        ('{"id": "b", "question": "低保", "answer_keywords": "680元"}', "字段 answer_keywords 应该是列表"),
        (
            '{"id": "b", "question": "那呢", "history": [{"role": "villager", "content": "低保"}]}',
            "history.0.role 只能是 user 或 assistant",
        ),
        ('{"id": "b", "question": "低保",', "不是合法的 JSON"),
        ('["b", "低保"]', "每个用例应该是一个对象"),
        ('{"id": "c1", "question": "又一个"}', "用例编号 c1 重复（第 1 行已用过）"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, line: str, expected: str) -> None:
    path = write_lines(tmp_path / "cases.jsonl", GOOD, "", line)
    message = error_of(path)
    assert message.startswith(f"{path}:3: "), message
    assert expected in message


def test_yaml_errors_name_the_line_of_the_case(tmp_path: Path) -> None:
    bad_case = YAML_CASES.replace("  answer_keywords: [200元]\n", "  answer_keywords: 200元\n")
    message = error_of(_write(tmp_path / "cases.yaml", bad_case))
    assert ":9: " in message and "字段 answer_keywords 应该是列表" in message  # c2 starts on line 9

    broken = _write(tmp_path / "broken.yaml", "- id: a\n  question: [低保\n- id: b\n")
    assert "broken.yaml:3: YAML 格式错误" in error_of(broken)

    not_a_list = _write(tmp_path / "single.yaml", "id: a\nquestion: 低保\n")
    assert "应该是一个列表" in error_of(not_a_list)


def test_audio_cases_need_no_question(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "cases.jsonl", {"id": "v1", "audio": "audio/v1.wav", "answer_keywords": ["680元"]}
    )
    (case,) = load_cases(path)
    assert case.audio == "audio/v1.wav" and case.question == ""


def test_append_case_checks_and_keeps_the_format(tmp_path: Path) -> None:
    jsonl = tmp_path / "new.jsonl"
    append_case(jsonl, GOOD)
    append_case(jsonl, Case(id="c2", question="养老保险一年交多少？", answer_keywords=["200元"]))
    assert [c.id for c in load_cases(jsonl)] == ["c1", "c2"]
    assert json.loads(jsonl.read_text(encoding="utf-8").splitlines()[1]) == {
        "id": "c2",
        "question": "养老保险一年交多少？",
        "answer_keywords": ["200元"],
    }
    with pytest.raises(CaseFileError, match="c2 已经存在"):
        append_case(jsonl, {"id": "c2", "question": "重复"})
    with pytest.raises(CaseFileError, match="缺少字段 id"):
        append_case(jsonl, {"question": "没有编号"})
    assert len(load_cases(jsonl)) == 2

    yaml_file = _write(tmp_path / "cases.yaml", YAML_CASES)
    append_case(yaml_file, {"id": "c4", "question": "宅基地怎么申请？", "tags": ["land"]})
    loaded = load_cases(yaml_file)
    assert [c.id for c in loaded] == ["c1", "c2", "c3", "c4"] and loaded[3].tags == ["land"]
    assert "宅基地怎么申请" in yaml_file.read_text(encoding="utf-8")  # written readable, not escaped


def test_run_command_reports_a_bad_case_file_before_doing_anything(tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "cases.jsonl", GOOD, '{"id": "b", "question": "低保", "anwser": "680元"}')
    runner = CliRunner()
    args = ["--home", str(tmp_path / "home"), "eval", "run", "--cases", str(bad)]
    result = runner.invoke(app, [*args, "--kb", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"用例文件有错：{bad}:2: 不认识的字段 anwser（请检查拼写）" in result.stderr.replace("\n", "")
    assert not (tmp_path / "home" / "evals").exists()  # nothing was ingested

    both = runner.invoke(app, [*args, "--kb", str(tmp_path), "--url", "http://127.0.0.1:9"])
    assert both.exit_code == 2 and "exactly one of --kb and --url" in both.output
