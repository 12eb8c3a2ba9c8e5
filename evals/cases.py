"""Golden cases: what villagers ask and what a correct answer must contain.

Case files are JSONL (one case a line) or, for people who write them by hand, YAML (a list of cases, or a
mapping with a `cases` list). Errors name the file and the line of the case, in Chinese, so an official can
fix the file without reading a stack trace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from assistant.sessions import Turn


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern="^(user|assistant)$")
    content: str


class Case(BaseModel):
    # Unknown fields are errors: a misspelt `anwser` must not silently drop the reference answer.
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = ""
    answer: str | None = None
    answer_keywords: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    should_refuse: bool = False
    tags: list[str] = Field(default_factory=list)
    history: list[HistoryTurn] = Field(default_factory=list)
    audio: str | None = Field(
        default=None, description="A recording of the question, relative to the case file."
    )

    @model_validator(mode="after")
    def _asks_something(self) -> Case:
        if not self.question.strip() and not self.audio:
            raise ValueError("问题 question 和录音 audio 至少要有一个")
        return self

    def turns(self) -> list[Turn]:
        return session_turns(self.history)


def session_turns(history: Sequence[HistoryTurn]) -> list[Turn]:
    """An earlier conversation as session turns (earlier user questions taken as standalone)."""
    return [Turn(t.role, t.content, t.content if t.role == "user" else "") for t in history]  # type: ignore[arg-type]


class CaseFileError(ValueError):
    """A case file that cannot be read; the message names the file and line, in Chinese."""


_TYPE_NAMES = {
    "string_type": "文字",
    "bool_type": "true 或 false",
    "bool_parsing": "true 或 false",
    "list_type": "列表",
    "model_type": "对象",
    "dict_type": "对象",
}


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"缺少字段 {where}"
    if kind == "extra_forbidden":
        return f"不认识的字段 {where}（请检查拼写）"
    if kind in _TYPE_NAMES:
        return f"字段 {where} 应该是{_TYPE_NAMES[kind]}"
    if kind == "string_pattern_mismatch":
        return f"字段 {where} 只能是 user 或 assistant"
    if kind == "string_too_short":
        return f"字段 {where} 不能为空"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}：{message}" if where else message


def _validate(raw: Any, where: str) -> Case:
    if not isinstance(raw, dict):
        raise CaseFileError(f"{where}: 每个用例应该是一个对象（{{...}}），这里是 {type(raw).__name__}")
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        raise CaseFileError(f"{where}: " + "；".join(_describe(e) for e in exc.errors())) from exc


def _jsonl_items(path: Path, text: str) -> list[tuple[int, Any]]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise CaseFileError(f"{path}:{number}: 不是合法的 JSON（第 {exc.colno} 列：{exc.msg}）") from exc
    return items


def _yaml_items(path: Path, text: str) -> list[tuple[int, Any]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise CaseFileError(f"{path}:{line}: YAML 格式错误（{getattr(exc, 'problem', exc)}）") from exc
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode) and isinstance(data, dict) and "cases" in data:
        root = next(value for key, value in root.value if key.value == "cases")
        data = data["cases"]
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        raise CaseFileError(f"{path}:1: YAML 用例文件应该是一个列表（每项以 - 开头），或含 cases 列表")
    return [(node.start_mark.line + 1, item) for node, item in zip(root.value, data, strict=True)]


def is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


def load_cases(path: Path) -> list[Case]:
    """Read and check a case file (.jsonl, .yaml or .yml); raises CaseFileError naming the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"{path}: 无法读取用例文件（{exc}）") from exc
    items = _yaml_items(path, text) if is_yaml(path) else _jsonl_items(path, text)
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, raw in items:
        case = _validate(raw, f"{path}:{number}")
        if case.id in seen:
            raise CaseFileError(f"{path}:{number}: 用例编号 {case.id} 重复（第 {seen[case.id]} 行已用过）")
        seen[case.id] = number
        cases.append(case)
    return cases


def load_rewordings(path: Path, originals: Sequence[Case]) -> tuple[list[Case], dict[str, str]]:
    """A file of rewordings (evals/lay_demo.jsonl): one JSON object a line with a question reworded as a
    villager would ask it, the case it rewords (`of`) and its `split` (tune or held). Keywords, evidence,
    sources and history come from the original case at run time, so a set whose licence does not allow
    copying it (domainrag) is never copied into the repository. A line without `of` is a whole case of
    its own plus its `split`. Raises CaseFileError naming the line."""
    by_id = {case.id: case for case in originals}
    cases: list[Case] = []
    split: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseFileError(f"{path}:{number}: 不是有效的 JSON（{exc.msg}）") from exc
        if not isinstance(record, dict):
            raise CaseFileError(f"{path}:{number}: 每行应是一个 JSON 对象")
        if "of" not in record:
            fields = {k: v for k, v in record.items() if k != "split"}
            case = _validate({**fields, "tags": [*fields.get("tags", []), "lay"]}, f"{path}:{number}")
        else:
            base = by_id.get(record["of"])
            if base is None:
                raise CaseFileError(f"{path}:{number}: 没有编号为 {record['of']} 的原用例")
            missing = [k for k in ("id", "question") if not str(record.get(k) or "").strip()]
            if missing:
                raise CaseFileError(f"{path}:{number}: 缺少 {'、'.join(missing)}")
            case = base.model_copy(
                update={
                    "id": str(record["id"]),
                    "question": str(record["question"]),
                    "tags": [*base.tags, "lay"],
                }
            )
        if case.id in split:
            raise CaseFileError(f"{path}:{number}: 用例编号 {case.id} 重复")
        cases.append(case)
        split[case.id] = record.get("split", "")
    return cases, split


def case_record(case: Case) -> dict[str, Any]:
    """The case as it is written to a file: fields left at their defaults are omitted."""
    return case.model_dump(exclude_defaults=True)


def append_case(path: Path, case: Case | dict[str, Any]) -> Case:
    """Add one case to a case file (created if missing), after checking it and that its id is new."""
    new = case if isinstance(case, Case) else _validate(case, f"{path}: 新用例")
    existing = load_cases(path) if path.exists() else []
    if any(c.id == new.id for c in existing):
        raise CaseFileError(f"{path}: 用例编号 {new.id} 已经存在")
    if is_yaml(path):
        records = [case_record(c) for c in [*existing, new]]
        path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        prefix = "" if not text or text.endswith("\n") else "\n"
        with path.open("a", encoding="utf-8") as out:
            out.write(prefix + json.dumps(case_record(new), ensure_ascii=False) + "\n")
    return new
